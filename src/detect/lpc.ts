/**
 * Linear prediction by the autocorrelation method: Levinson-Durbin on a (lag-windowed)
 * autocorrelation. `a[0] = 1` and the prediction-error (inverse) filter is
 * `e[n] = sum_k a[k] x[n-k]`; the backward residual uses the same taps on future samples.
 */

/**
 * White-noise correction: r[0] is raised by this fraction (a -40 dB noise floor) so that
 * near-silent or pure-tone windows stay well conditioned and the inverse filter never has
 * absurd gain. Small enough not to blunt the prediction gain of real audio.
 */
const WHITE_NOISE_CORRECTION = 1e-4;

/**
 * Solves for the inverse filter into `a` (length order+1). `r` is the autocorrelation
 * (length order+1) and is left untouched; `tmp` is scratch of the same length.
 * Returns the final prediction-error power (0 when the window is silent).
 */
export function levinson(r: Float64Array, order: number, a: Float64Array, tmp: Float64Array): number {
  a.fill(0);
  a[0] = 1;
  let err = r[0] * (1 + WHITE_NOISE_CORRECTION);
  if (!(err > 1e-20)) return 0;
  for (let i = 1; i <= order; i++) {
    let acc = r[i];
    for (let j = 1; j < i; j++) acc += a[j] * r[i - j];
    const k = -acc / err;
    for (let j = 0; j <= i; j++) tmp[j] = a[j];
    for (let j = 1; j < i; j++) a[j] = tmp[j] + k * tmp[i - j];
    a[i] = k;
    err *= 1 - k * k;
    if (!(err > 0)) break;
  }
  return err;
}

/**
 * Screening order at a sample rate: one pole per 3 kHz, within [8, 12]. Screening only has to
 * raise candidates (the test refits at a higher order); 12 poles find as many as 16 did on the
 * bench at three quarters of the cost.
 */
export function lpcOrder(sampleRate: number): number {
  return Math.max(8, Math.min(12, Math.round(sampleRate / 3000)));
}

/**
 * Order of the per-candidate test's model: one pole per 1.5 kHz of sample rate, within
 * [TEST_ORDER_MIN, TEST_ORDER_MAX], rounded to a multiple of 4. Voiced speech and tonal music
 * gain several dB of prediction over the screening order, which is what lifts a weak click out
 * of the residual (16 vs 8 poles at 8 kHz: click F1 0.72 -> 0.78 on the bench). The cap of 24
 * at 44.1/48 kHz costs nothing measurable against 32 and keeps the per-candidate test cheap.
 */
export function testOrder(sampleRate: number): number {
  const p = Math.max(TEST_ORDER_MIN, Math.min(TEST_ORDER_MAX, Math.round(sampleRate / TEST_HZ_PER_POLE)));
  return 4 * Math.round(p / 4); // a multiple of 4: the test's loops take taps four at a time
}
const TEST_ORDER_MIN = 16;
const TEST_ORDER_MAX = 24;
const TEST_HZ_PER_POLE = 1500;
