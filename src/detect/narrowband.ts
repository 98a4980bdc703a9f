/**
 * Clicks and splices in coded audio whose content is narrow-band: telephone speech (a dial-in
 * participant, an 8 kHz recording) carried in a 48 kHz Opus stream. At 48 kHz the test's
 * prediction model learns that nothing lies above ~4 kHz and predicts a band-limited click as
 * well as the speech around it; at the content's own rate (~8 kHz) the same click stands 10-60
 * robust sigmas out. So coded input also runs the click/splice test on a copy decimated to
 * ~8 kHz, and keeps what it finds while the content is narrow-band: while the energy above
 * SPLIT_HZ stays NARROW_DB under that of the top of the kept band (the second difference of the
 * decimated copy), averaged over about BAND_TAU_S. Wide-band content (music, drums, wide-band
 * speech) is left to the full-rate test alone.
 */
import { Decimator, lowPassTaps } from './decimate';
import type { RawEvent } from './events';
import { ImpulseDetector, type BurstRule } from './impulses';

/** The decimated copy's rate: the top of telephone speech's band, and no higher. */
const TARGET_HZ = 8000;
/** The band measure's split: above the top of 8 kHz audio (3.4-4 kHz) and the filters' transition. */
const SPLIT_HZ = 4600;
/** The energy above SPLIT_HZ is sampled at every this-many-th decimated sample (a level, not a waveform). */
const SPLIT_STRIDE = 4;
/** Narrow-band: the energy above the kept band at least this far under the top of the kept band. */
const NARROW_DB = 25;
/** Time constant of the band measure (the content's bandwidth, not a syllable's). */
const BAND_TAU_S = 2;
/**
 * The burst rule at the decimated rate (see BurstRule). Set on the bench's Opus copies, tuning
 * part: z 18 / isolation 2 (chosen on --quick, whose speech is a sixth) gave the full bench
 * clicks F1 0.071 -> 0.324 and splices 0.045 -> 0.174 but 2.58 false events/min (1.47 before),
 * 31 clicks in the 21 min of clean 8 kHz prompts. Among the narrow-band bursts on that speech,
 * z 26 / isolation 1.5 keeps 2 of 29 false ones and 26 of 119 on audible clicks and splices:
 * 0.258 / 0.147 at 1.77/min. The burst rule alone (the 8 kHz click and splice tests' own
 * findings dropped): 0.157 / 0.083 at 1.62/min.
 */
export const NARROW_BURST: BurstRule = { z: 26, rival: 2, isolation: 1.5, spliceRatio: 3.5, spliceStep: 2.5 };
/** Samples copied in per step (bounds the window). */
const CHUNK = 1024;

export class NarrowBandImpulses {
  /** Decimation factor; 0 when the input rate is already near the target (nothing to do). */
  readonly factor: number;
  private readonly dec: Decimator | undefined;
  private readonly detector: ImpulseDetector | undefined;
  private readonly keep: number;
  private readonly y: Float32Array;
  private readonly ef: Float32Array;
  private readonly low: Float32Array;
  private readonly splitTaps: Float64Array;
  private readonly probe: (h: Float32Array, centre: number, k: number) => void;
  private above = 0;
  private base = 0;
  private len = 0;
  private readonly leak: number;
  private hf = 0;
  private top = 0;
  private readonly found: RawEvent[] = [];

  constructor(sampleRate: number, sensitivity: number) {
    this.factor = Math.floor(sampleRate / TARGET_HZ);
    if (this.factor < 2) this.factor = 0;
    const F = this.factor || 1;
    const rate = sampleRate / F;
    this.leak = 1 - 1 / (BAND_TAU_S * rate);
    this.dec = this.factor ? new Decimator(F) : undefined;
    this.detector = this.factor ? new ImpulseDetector(rate, sensitivity, NARROW_BURST) : undefined;
    this.keep = this.detector ? this.detector.lookback() + 64 : 0;
    const cap = this.factor ? this.keep + CHUNK + 2 : 0;
    this.y = new Float32Array(cap);
    this.ef = new Float32Array(cap);
    this.low = new Float32Array(this.factor ? CHUNK + 2 : 0);
    const half = 16 * F;
    this.splitTaps = lowPassTaps(SPLIT_HZ / sampleRate, half);
    const taps = this.splitTaps;
    // What lies above SPLIT_HZ at a kept sample: the input there minus its low-passed value.
    this.probe = (h, centre, k) => {
      if (k % SPLIT_STRIDE !== 0) return;
      let acc = 0;
      for (let j = 0; j < taps.length; j++) acc += taps[j] * h[centre + half - j];
      const v = h[centre] - acc;
      this.above += v * v * SPLIT_STRIDE;
    };
  }

  /**
   * Takes the next full-rate samples; appends to `out` (in full-rate samples) the clicks and
   * splices found while the content is narrow-band.
   */
  push(block: Float32Array, out: RawEvent[], final = false): void {
    const dec = this.dec;
    const det = this.detector;
    if (!dec || !det) return;
    const F = this.factor;
    for (let off = 0; off < block.length; off += CHUNK * F) {
      this.above = 0;
      const n = dec.push(block.subarray(off, Math.min(block.length, off + CHUNK * F)), this.low, this.probe);
      this.makeRoom(n);
      const y = this.y;
      // The band measure, leaky over BAND_TAU_S (one step per chunk: the chunk is short beside it).
      let top = 0;
      for (let k = 0; k < n; k++) {
        const i = this.len + k;
        y[i] = this.low[k];
        const d2 = i >= 2 ? y[i] - 2 * y[i - 1] + y[i - 2] : 0;
        top += (d2 * d2) / 16;
      }
      const keep = this.leak ** n;
      this.hf = keep * this.hf + this.above;
      this.top = keep * this.top + top;
      this.len += n;
      det.advance(y, this.ef, this.base, this.base + this.len, this.found);
      this.take(out);
    }
    if (final) {
      det.advance(this.y, this.ef, this.base, this.base + this.len, this.found, true);
      this.take(out);
    }
  }

  /** Whether the content lately is narrow-band. */
  narrow(): boolean {
    return this.top > 0 && this.hf * 10 ** (NARROW_DB / 10) <= this.top;
  }

  private take(out: RawEvent[]): void {
    const F = this.factor;
    const shift = this.dec!.delay;
    const narrow = this.narrow();
    if (narrow) for (const e of this.found) out.push({ kind: e.kind, start: Math.max(0, e.start * F - shift), end: Math.max(0, e.end * F - shift), level: e.level });
    this.found.length = 0;
  }

  private makeRoom(n: number): void {
    if (this.len + n <= this.y.length) return;
    const shift = this.len - this.keep;
    for (const a of [this.y, this.ef]) a.copyWithin(0, shift, this.len);
    this.base += shift;
    this.len = this.keep;
  }
}
