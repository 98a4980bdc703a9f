/**
 * How visible an injected click is at best: its matched-filter SNR against the clean
 * recording's own local AR model (fitted on the untouched source, so the click cannot bend
 * it). A detector that knew the click's place and shape, in residual noise that really were
 * Gaussian, would see a z-score of this size; one that must search every sample of a minute
 * of audio for 1 false event needs z of about 5 even then. The benchmark breaks click recall
 * down by this figure, so a miss can be told from an impossibility. The same for a splice:
 * the change the join makes to the clean model's prediction of the samples after it (and,
 * backwards, before it), against the local residual scale. A join where the waveform happens
 * to line up (a whole pitch period cut from a steady vowel) has a z near 0: nothing is there.
 */
import { levinson, testOrder } from '../src/detect/lpc';
import { madSigma } from '../src/detect/stats';

/** The model is fitted on this much clean audio either side of the click. */
export const FIT_MS = 10;

/** The clean source's AR model over [from, to) and its robust residual scale. */
export function localModel(src: Float32Array, P: number, from: number, to: number): { a: Float64Array; sigma: number } | undefined {
  from = Math.max(0, from);
  to = Math.min(src.length, to);
  const n = to - from;
  if (n <= 2 * P) return undefined;
  const w = new Float64Array(n);
  for (let k = 0; k < n; k++) w[k] = src[from + k] * (0.5 - 0.5 * Math.cos((2 * Math.PI * (k + 0.5)) / n));
  const r = new Float64Array(P + 1);
  for (let lag = 0; lag <= P; lag++) for (let k = lag; k < n; k++) r[lag] += w[k] * w[k - lag];
  const a = new Float64Array(P + 1);
  levinson(r, P, a, new Float64Array(P + 1));
  // Robust scale of the clean forward residual over the same stretch.
  const res = new Float32Array(to - from - P);
  for (let i = from + P; i < to; i++) {
    let e = 0;
    for (let k = 0; k <= P; k++) e += a[k] * src[i - k];
    res[i - from - P] = Math.abs(e);
  }
  return { a, sigma: madSigma(res, res.length) };
}

export function clickOracleZ(src: Float32Array, fs: number, at: number, pulse: ArrayLike<number>): number {
  const P = testOrder(fs);
  const half = Math.max(4 * P, Math.round((FIT_MS * fs) / 1000));
  const model = localModel(src, P, at - half, at + pulse.length + half);
  if (!model) return 0;
  const { a, sigma } = model;
  // The pulse through the inverse filter: every residual sample it moves.
  let energy = 0;
  for (let n = 0; n < pulse.length + P; n++) {
    let q = 0;
    for (let k = 0; k <= P; k++) if (n - k >= 0 && n - k < pulse.length) q += a[k] * pulse[n - k];
    energy += q * q;
  }
  return Math.sqrt(energy) / sigma;
}

/** Splice z: the source's samples [i, i + d) are cut, so src[i - 1] is followed by src[i + d]. */
export function spliceOracleZ(src: Float32Array, fs: number, i: number, d: number): number {
  const P = testOrder(fs);
  const half = Math.max(4 * P, Math.round((FIT_MS * fs) / 1000));
  if (i - P - 1 < 0 || i + d + P >= src.length) return 0;
  const after = localModel(src, P, i + d, i + d + half);
  const before = localModel(src, P, i - half, i);
  if (!after || !before) return 0;
  // Forward: the samples after the join predicted from the wrong past (src[i-1], src[i-2], ...
  // instead of src[i+d-1], ...): only the history terms differ.
  let fwd = 0;
  for (let m = 0; m < P; m++) {
    let dv = 0;
    for (let k = m + 1; k <= P; k++) dv += after.a[k] * (src[i - k + m] - src[i + d - k + m]);
    fwd += dv * dv;
  }
  // Backward: the samples before the join predicted from the wrong future.
  let bwd = 0;
  for (let m = 0; m < P; m++) {
    let dv = 0;
    for (let k = m + 1; k <= P; k++) dv += before.a[k] * (src[i + d - 1 + k - m] - src[i - 1 + k - m]);
    bwd += dv * dv;
  }
  return Math.max(Math.sqrt(fwd) / after.sigma, Math.sqrt(bwd) / before.sigma);
}
