/**
 * The click hypothesis of the per-candidate test (impulses.ts): a click is a few samples pushed
 * off the waveform, so replacing some 1..MAX_CLICK_SAMPLES samples around the two-sided peak by
 * their least-squares estimate under the test's AR model must leave a background-level forward
 * residual. The energy the best pulse explains is the click's statistic (a GLRT; for one sample
 * it is the two-sided peak itself); what it leaves tells a click from a drum hit, a kink or a
 * burst of glitches. A class of its own so the detector reads as its decisions; it runs for
 * every candidate that could be a click, so its scratch is sized once (no allocation per call).
 */

/**
 * The longest click the pulse test fits (the injected ones are 1-5 samples; a codec's smear adds
 * a few). A best fit that needs all of them is a longer disturbance (a drum attack, a speech
 * onset), not a click: on the tuning part that wall took the false clicks on clean recordings
 * at the old threshold from 12 to 3 and 2 of 372 clicks found.
 */
export const MAX_CLICK_SAMPLES = 8;
/** Each sample the pulse hypothesis adds must buy this much residual energy (in sigma^2), so the fit does not just widen. */
const PULSE_SAMPLE_COST = 4;

export class PulseFitter {
  // What the last fit() found (kept until the next one).
  /** The best support, first and last sample. */
  start = 0;
  end = 0;
  /** The RMS residual the best pulse leaves per model order, in sigmas. */
  fit = Infinity;
  /** The energy the best pulse takes out of the forward residual. */
  explained = 0;
  // Scratch for the normal equations (sized for the widest support).
  private readonly normal = new Float64Array(MAX_CLICK_SAMPLES * MAX_CLICK_SAMPLES);
  private readonly rhs = new Float64Array(MAX_CLICK_SAMPLES);
  private readonly sol = new Float64Array(MAX_CLICK_SAMPLES);
  private readonly ra = new Float64Array(MAX_CLICK_SAMPLES);
  /** What the last repairEnergy explained. */
  private lastExplained = 0;

  /** `coef` is the test model's taps (refitted in place per candidate), `order` its order. */
  constructor(private readonly coef: Float64Array, private readonly order: number) {}

  /**
   * The click hypothesis's best support around `at`: every 1..MAX_CLICK_SAMPLES-sample support,
   * each extra sample paying PULSE_SAMPLE_COST sigma^2. Leaves in start/end the support, in
   * fit the RMS residual left per model order (in sigmas), in explained the energy the pulse
   * takes out of the forward residual. `lf` and `c` (the forward residual and the two-sided
   * residual numerators) are indexed from `lo`.
   */
  fitAt(lf: Float64Array, c: Float64Array, lo: number, at: number, sigma: number): void {
    const P = this.order;
    const coef = this.coef;
    const ra = this.ra;
    for (let d = 0; d < MAX_CLICK_SAMPLES; d++) {
      let acc = 0;
      for (let k = 0; k + d <= P; k++) acc += coef[k] * coef[k + d];
      ra[d] = acc;
    }
    const s2 = sigma * sigma;
    let best = Infinity;
    for (let l = 0; l < MAX_CLICK_SAMPLES; l++) {
      for (let r = 0; l + r < MAX_CLICK_SAMPLES; r++) {
        const energy = this.repairEnergy(lf, c, lo, at - l, at + r) / s2;
        const cost = energy + PULSE_SAMPLE_COST * (l + r + 1);
        if (cost < best) {
          best = cost;
          this.fit = Math.sqrt(energy / P);
          this.start = at - l;
          this.end = at + r;
          this.explained = this.lastExplained;
        }
      }
    }
  }

  /** The pulse's level: the peak of its least-squares estimate on the last fit's best support (solved again for it). */
  peak(lf: Float64Array, c: Float64Array, lo: number): number {
    this.repairEnergy(lf, c, lo, this.start, this.end);
    let peakPulse = 0;
    for (let i = 0; i <= this.end - this.start; i++) peakPulse = Math.max(peakPulse, Math.abs(this.sol[i]));
    return peakPulse;
  }

  /**
   * Energy of the forward residual over [s, e + P] left after the best additive pulse on
   * samples [s, e] is taken out (least squares). The normal equations' matrix is the taps'
   * autocorrelation `ra`, their right side the two-sided residual numerators `c`.
   */
  private repairEnergy(lf: Float64Array, c: Float64Array, lo: number, s: number, e: number): number {
    const P = this.order;
    const m = e - s + 1;
    const M = this.normal;
    const y = this.rhs;
    const ra = this.ra;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < m; j++) M[i * m + j] = ra[i > j ? i - j : j - i];
      y[i] = c[s + i - lo];
    }
    const b = this.sol;
    for (let i = 0; i < m; i++) b[i] = y[i];
    solve(M, b, m);
    let before = 0;
    for (let n = s; n <= e + P; n++) before += lf[n - lo] * lf[n - lo];
    let explained = 0;
    for (let i = 0; i < m; i++) explained += y[i] * b[i];
    this.lastExplained = explained;
    const left = before - explained;
    return left > 0 ? left : 0;
  }
}

/** Solves the symmetric positive system M c = y (m x m, row-major) in place into y (Gaussian elimination). */
function solve(M: Float64Array, y: Float64Array, m: number): void {
  for (let c = 0; c < m; c++) {
    const piv = M[c * m + c] || 1e-30;
    for (let r = c + 1; r < m; r++) {
      const f = M[r * m + c] / piv;
      if (f === 0) continue;
      for (let k = c; k < m; k++) M[r * m + k] -= f * M[c * m + k];
      y[r] -= f * y[c];
    }
  }
  for (let c = m - 1; c >= 0; c--) {
    let v = y[c];
    for (let k = c + 1; k < m; k++) v -= M[c * m + k] * y[k];
    y[c] = v / (M[c * m + c] || 1e-30);
  }
}
