/**
 * The per-candidate test's AR model (impulses.ts): fitted afresh around each candidate cluster
 * on the audio either side of it, *excluding* it, so that a defect does not bend its own model;
 * then its forward and backward residuals around the cluster, and their robust scales. Kept
 * apart so the detector reads as its decisions; all scratch is sized once for the largest
 * window (no allocation per candidate), and the loops run taps four at a time.
 */
import { levinson } from './lpc';
import { madSigma } from './stats';

export class LocalModel {
  /** The taps (coef[0] = 1), refitted in place by fitAround; zero past the order for the four-at-a-time loops. */
  readonly coef: Float64Array;
  /** Forward and backward residuals, indexed from the `lo` given to residuals(). */
  readonly lf: Float64Array;
  readonly lb: Float64Array;
  private readonly r: Float64Array;
  private readonly tmp: Float64Array;
  private readonly seg: Float64Array;
  private readonly hann: Float64Array;
  private readonly scratch: Float32Array;

  /**
   * `order` (a multiple of 4) poles, fitted on `fit` samples a side; residual arrays of `span`
   * samples.
   */
  constructor(readonly order: number, readonly fit: number, span: number) {
    const T = order;
    this.coef = new Float64Array(T + 4);
    this.r = new Float64Array(T + 1);
    this.tmp = new Float64Array(T + 1);
    this.seg = new Float64Array(fit + T + 4);
    this.hann = new Float64Array(fit).map((_, k) => 0.5 - 0.5 * Math.cos((2 * Math.PI * (k + 0.5)) / fit));
    this.lf = new Float64Array(span);
    this.lb = new Float64Array(span);
    this.scratch = new Float32Array(span);
  }

  /** Fits `coef` on Hann-windowed stretches of `fit` samples ending at `left` and starting at `right`. */
  fitAround(x: Float32Array, base: number, left: number, right: number): void {
    const P = this.order;
    const F = this.fit;
    const rs = this.r;
    rs.fill(0);
    // seg holds P + 3 zeros, then the windowed stretch: every lag sums over the same range.
    const seg = this.seg;
    const hann = this.hann;
    const pad = P + 3;
    for (let side = 0; side < 2; side++) {
      const from = side === 0 ? left - F : right;
      for (let k = 0; k < F; k++) seg[pad + k] = hann[k] * x[from + k - base];
      for (let lag = 0; lag <= P; lag += 4) {
        let a0 = 0, a1 = 0, a2 = 0, a3 = 0;
        for (let k = pad; k < pad + F; k++) {
          const v = seg[k];
          a0 += v * seg[k - lag]; a1 += v * seg[k - lag - 1]; a2 += v * seg[k - lag - 2]; a3 += v * seg[k - lag - 3];
        }
        rs[lag] += a0;
        if (lag + 1 <= P) rs[lag + 1] += a1;
        if (lag + 2 <= P) rs[lag + 2] += a2;
        if (lag + 3 <= P) rs[lag + 3] += a3;
      }
    }
    levinson(rs, P, this.coef, this.tmp);
  }

  /**
   * The forward residual into `lf` (and the backward one into `lb` when `both`) for samples
   * from, from + step, ... < to; both arrays are indexed from `lo`. The order is a multiple
   * of 4: taps four at a time.
   */
  residuals(x: Float32Array, base: number, lo: number, from: number, to: number, step: number, both: boolean): void {
    const P = this.order;
    const coef = this.coef;
    const lf = this.lf;
    const lb = this.lb;
    for (let n = from; n < to; n += step) {
      const i = n - base;
      let f = x[i];
      let g = x[i];
      for (let k = 1; k <= P; k += 4) {
        const c0 = coef[k], c1 = coef[k + 1], c2 = coef[k + 2], c3 = coef[k + 3];
        f += c0 * x[i - k] + c1 * x[i - k - 1] + c2 * x[i - k - 2] + c3 * x[i - k - 3];
        if (both) g += c0 * x[i + k] + c1 * x[i + k + 1] + c2 * x[i + k + 2] + c3 * x[i + k + 3];
      }
      lf[n - lo] = f;
      if (both) lb[n - lo] = g;
    }
  }

  /** Robust (MAD) scale of |v[from..to)| every `step`-th sample, floored. */
  robust(v: Float64Array, from: number, to: number, step: number): number {
    const m = this.scratch;
    let c = 0;
    for (let i = from; i < to; i += step) { const a = v[i]; m[c++] = a < 0 ? -a : a; }
    return madSigma(m, c);
  }
}
