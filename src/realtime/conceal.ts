/**
 * Concealment of missing input. `silence` writes zeros (and so can click at
 * the gap's edges, as naive pipelines do); `fade` ramps from the last real
 * sample to zero, and the first real frame after the gap in from zero, with
 * raised-cosine ramps, so the concealment itself does not click.
 */
export type ConcealMode = 'silence' | 'fade';

const RAMP_SAMPLES = 240; // 5 ms at 48 kHz

export class Concealer {
  /** Last real sample per channel, to ramp down from. */
  private readonly last: Int16Array;
  private inGap = false;
  private readonly ramp = new Float32Array(RAMP_SAMPLES);

  constructor(
    readonly mode: ConcealMode,
    readonly channels: number,
  ) {
    this.last = new Int16Array(channels);
    for (let i = 0; i < RAMP_SAMPLES; i++) this.ramp[i] = 0.5 - 0.5 * Math.cos((Math.PI * i) / RAMP_SAMPLES);
  }

  /** Fills `pcm` from sample frame `from` to the end with concealment. */
  fill(pcm: Int16Array, from: number): void {
    const ch = this.channels;
    const frames = pcm.length / ch;
    if (this.mode === 'fade' && !this.inGap) {
      if (from > 0) for (let c = 0; c < ch; c++) this.last[c] = pcm[(from - 1) * ch + c]!;
      for (let i = from; i < frames; i++) {
        const k = i - from;
        const g = k < RAMP_SAMPLES ? this.ramp[RAMP_SAMPLES - 1 - k]! : 0;
        for (let c = 0; c < ch; c++) pcm[i * ch + c] = Math.round(this.last[c]! * g);
      }
    } else {
      pcm.fill(0, from * ch);
    }
    this.inGap = true;
  }

  /** Called with every real frame: fades in after a gap, remembers the last sample. */
  real(pcm: Int16Array): void {
    const ch = this.channels;
    if (this.inGap && this.mode === 'fade') {
      for (let i = 0; i < RAMP_SAMPLES; i++) {
        for (let c = 0; c < ch; c++) pcm[i * ch + c] = Math.round(pcm[i * ch + c]! * this.ramp[i]!);
      }
    }
    this.inGap = false;
    const end = pcm.length - ch;
    for (let c = 0; c < ch; c++) this.last[c] = pcm[end + c]!;
  }
}
