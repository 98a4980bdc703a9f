/**
 * Step-shape scans for the per-candidate test (impulses.ts): how sharply a cluster's evidence
 * stops at one boundary. A splice's forward residual rises *at* the boundary and its backward
 * residual stops there, with nothing of either on the wrong side; a click bleeds into both
 * sides. The scans try every boundary around the cluster and keep the best ratio of the
 * residual inside (e_f just after the boundary, e_b just before) over the residual on its
 * wrong sides (e_f before, e_b after). Plain functions writing into a reusable StepScan, so
 * that a candidate costs no allocation.
 */

/** The best boundary a scan found. */
export class StepScan {
  /** Inside over bleed at the best boundary (0 when none beat 0). */
  ratio = 0;
  /** The weaker side's RMS inside there, in its own scale's sigmas. */
  inside = 0;
  /** The best boundary (`at` as given when none beat 0). */
  at = 0;

  /** What a scan that found nothing leaves (for a candidate the scan is skipped on). */
  clear(at: number): void {
    this.ratio = 0;
    this.inside = 0;
    this.at = at;
  }
}

/**
 * Scans boundaries a - 1 .. b + 2 over `width` samples a side (3 for the sharp step, more for a
 * weak join's spread-out one). `lf` and `lb` (forward and backward residuals) are indexed from
 * `lo`; `sp` and `sn` are their scales (past and future).
 */
export function scanStep(out: StepScan, lf: Float64Array, lb: Float64Array, lo: number, a: number, b: number, sp: number, sn: number, at: number, width: number): void {
  let ratio = 0;
  let inside = 0;
  for (let p = a - 1; p <= b + 2; p++) {
    const fIn = rmsN(lf, p - lo, width) / sp;
    const bIn = rmsN(lb, p - width - lo, width) / sn;
    const fOut = rmsN(lf, p - width - lo, width) / sp;
    const bOut = rmsN(lb, p - lo, width) / sn;
    const ins = fIn < bIn ? fIn : bIn;
    const bleed = Math.max(1, fOut, bOut);
    if (ins / bleed > ratio) { ratio = ins / bleed; inside = ins; at = p; }
  }
  out.ratio = ratio;
  out.inside = inside;
  out.at = at;
}

/** RMS of v[i..i+n). */
function rmsN(v: Float64Array, i: number, n: number): number {
  let s = 0;
  for (let k = i; k < i + n; k++) s += v[k] * v[k];
  return Math.sqrt(s / n);
}
