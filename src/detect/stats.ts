/** Small numeric helpers shared by the detectors (no allocation per call). */

/** In-place quickselect: the k-th smallest of `v[0..n)` (reorders `v`). */
export function select(v: Float32Array, n: number, k: number): number {
  let lo = 0;
  let hi = n - 1;
  while (hi > lo) {
    const pivot = v[(lo + hi) >> 1];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (v[i] < pivot) i++;
      while (v[j] > pivot) j--;
      if (i <= j) {
        const t = v[i];
        v[i] = v[j];
        v[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else break;
  }
  return v[k];
}

/** MAD to standard deviation for a Gaussian. */
const MAD_TO_SIGMA = 1.4826;
/** Residual scales never go below 1/3 LSB of 16-bit audio, so digital silence is not infinitely sensitive. */
const SIGMA_FLOOR = 1 / 98304;

/** Robust (MAD) standard deviation from the magnitudes in `abs[0..n)` (reorders them), floored. */
export function madSigma(abs: Float32Array, n: number): number {
  const s = MAD_TO_SIGMA * select(abs, n, n >> 1);
  return s > SIGMA_FLOOR ? s : SIGMA_FLOOR;
}

/** Root mean square of `x[from..to)` (clamped to the array). */
export function rms(x: Float32Array, from: number, to: number): number {
  if (from < 0) from = 0;
  if (to > x.length) to = x.length;
  let s = 0;
  for (let i = from; i < to; i++) s += x[i] * x[i];
  return to > from ? Math.sqrt(s / (to - from)) : 0;
}
