/**
 * Concealment of missing input. `silence` writes zeros (and so can click at
 * the gap's edges, as naive pipelines do); `fade` ramps from the last real
 * sample to zero, and the real audio after the gap in from zero, with
 * raised-cosine ramps, so the concealment itself does not click. Both work on
 * spans of a frame, so a gap may start or end anywhere in one; the ramps carry
 * over from one frame to the next.
 */
export type ConcealMode = 'silence' | 'fade';

const RAMP_SAMPLES = 240; // 5 ms at 48 kHz

export class Concealer {
  /** Last real sample per channel, to ramp down from. */
  private readonly last: Int16Array;
  private readonly ramp = new Float32Array(RAMP_SAMPLES);
  /** Samples into the current gap (-1: not in a gap). */
  private gapPos = -1;
  /** Samples into the fade-in after a gap (RAMP_SAMPLES: none running). */
  private fadeInPos = RAMP_SAMPLES;

  constructor(
    readonly mode: ConcealMode,
    readonly channels: number,
  ) {
    this.last = new Int16Array(channels);
    for (let i = 0; i < RAMP_SAMPLES; i++) this.ramp[i] = 0.5 - 0.5 * Math.cos((Math.PI * i) / RAMP_SAMPLES);
  }

  /** Fills sample frames [from, to) of `pcm` with concealment. */
  fill(pcm: Int16Array, from: number, to = pcm.length / this.channels): void {
    const ch = this.channels;
    if (this.gapPos < 0) this.gapPos = 0;
    for (let i = from; i < to; i++, this.gapPos++) {
      const g = this.mode === 'fade' && this.gapPos < RAMP_SAMPLES ? this.ramp[RAMP_SAMPLES - 1 - this.gapPos]! : 0;
      for (let c = 0; c < ch; c++) pcm[i * ch + c] = g === 0 ? 0 : Math.round(this.last[c]! * g);
    }
    this.fadeInPos = this.mode === 'fade' ? 0 : RAMP_SAMPLES;
  }

  /** Called on real samples [from, to) of `pcm` once written: fades in after a gap, remembers the last sample. */
  real(pcm: Int16Array, from = 0, to = pcm.length / this.channels): void {
    const ch = this.channels;
    for (let i = from; i < to && this.fadeInPos < RAMP_SAMPLES; i++, this.fadeInPos++) {
      for (let c = 0; c < ch; c++) pcm[i * ch + c] = Math.round(pcm[i * ch + c]! * this.ramp[this.fadeInPos]!);
    }
    this.gapPos = -1;
    if (to > from) for (let c = 0; c < ch; c++) this.last[c] = pcm[(to - 1) * ch + c]!;
  }
}
