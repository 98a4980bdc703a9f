/**
 * Integer-factor decimation: a windowed-sinc low-pass (Blackman, cut-off at 0.9 of the new
 * Nyquist) evaluated only at the kept samples. Streams in blocks of any size with a fixed
 * history. Kept sample k is centred on input sample k * factor - delay.
 */
const PART = 65536;

/** Blackman-windowed sinc low-pass taps, cut-off `fc` in cycles per sample, unit DC gain. */
export function lowPassTaps(fc: number, halfLength: number): Float64Array {
  const n = 2 * halfLength + 1;
  const taps = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const t = i - halfLength;
    const sinc = t === 0 ? 2 * fc : Math.sin(2 * Math.PI * fc * t) / (Math.PI * t);
    const w = 0.42 - 0.5 * Math.cos((2 * Math.PI * i) / (n - 1)) + 0.08 * Math.cos((4 * Math.PI * i) / (n - 1));
    taps[i] = sinc * w;
    sum += taps[i];
  }
  for (let i = 0; i < n; i++) taps[i] /= sum;
  return taps;
}

export class Decimator {
  private readonly taps: Float64Array;
  private readonly hist: Float32Array;
  private held: number;
  /** Input samples consumed so far, modulo the factor. */
  private phase = 0;
  /** The filter's delay in input samples. */
  readonly delay: number;

  constructor(readonly factor: number, halfLength = 16 * factor) {
    this.delay = halfLength;
    this.taps = lowPassTaps(0.45 / factor, halfLength);
    this.hist = new Float32Array(2 * halfLength + PART);
    this.held = 2 * halfLength; // zeros before the first sample
  }

  /** Most samples one push() of `n` input samples writes. */
  maxOut(n: number): number {
    return Math.ceil(n / this.factor) + 1;
  }

  /**
   * Decimates `block` into `out` (at least maxOut(block.length) long); returns how many samples
   * were written. `probe`, when given, sees the input history `h` and the index of each kept
   * sample's centre in it (for measures taken at the kept samples' times).
   */
  push(block: Float32Array, out: Float32Array, probe?: (h: Float32Array, centre: number, k: number) => void): number {
    const taps = this.taps;
    const n = taps.length;
    const F = this.factor;
    const h = this.hist;
    let written = 0;
    for (let off = 0; off < block.length; off += PART) {
      const part = block.subarray(off, Math.min(block.length, off + PART));
      h.set(part, this.held);
      const len = this.held + part.length;
      // h[held] is the input sample whose absolute index is ≡ phase (mod F): kept ones are ≡ 0.
      for (let i = this.held + ((F - this.phase) % F); i < len; i += F) {
        let acc = 0;
        for (let k = 0; k < n; k++) acc += taps[k] * h[i - k];
        if (probe) probe(h, i - this.delay, written);
        out[written++] = acc;
      }
      this.phase = (this.phase + part.length) % F;
      h.copyWithin(0, len - (n - 1), len);
      this.held = n - 1;
    }
    return written;
  }
}
