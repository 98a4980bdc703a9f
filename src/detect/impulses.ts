/**
 * Clicks and splices from two-sided linear prediction.
 *
 * Per 10 ms hop an AR model is fitted on the surrounding 30 ms; the forward residual
 * e_f[n] = sum a_k x[n-k] and the backward residual e_b[n] = sum a_k x[n+k] are each scaled by
 * a robust (MAD) scale of the neighbouring hops. A click (samples pushed off the waveform and
 * back) is seen by *both* residuals at the *same* samples; a splice (a step where samples went
 * missing) is seen by the backward residual just before the boundary and by the forward one
 * just after it, with the same sound on both sides; a natural onset looks like a splice but
 * changes the level, so it is rejected by the level test.
 */
import type { RawEvent } from './events';
import { levinson, lpcOrder } from './lpc';
import { select } from './stats';

/** Hop between model updates; also the pipeline frame grid's finest step. */
const HOP_MS = 10;
/** MAD to standard deviation for a Gaussian. */
const MAD_TO_SIGMA = 1.4826;
/** Mean absolute value to standard deviation for a Gaussian. */
const MEAN_ABS_TO_SIGMA = 1.2533;
/** Background window either side of a candidate, beyond the model order. */
const NEAR_MS = 2;
/** Residual scales never go below 1/3 LSB of 16-bit audio, so digital silence is not infinitely sensitive. */
const SIGMA_FLOOR = 1 / 98304;
/** A sample joins a candidate cluster when either scaled residual exceeds this. */
const CANDIDATE_Z = 5;
/** Candidates closer than this many samples beyond the model order form one cluster. */
const CLUSTER_GAP_EXTRA = 2;
/**
 * An event needs its two-sided residual peak this many robust sigmas above both the hop's
 * scale and the background right around it. Set from the benchmark's clean drum loops and
 * 8 kHz prompts (which hold sharp natural transients) to keep false events low: at 20, 8 kHz
 * speech gives ~0.2 false events/min; drum loops still give far more (see the bench output).
 */
const EVENT_Z = 20;
/** On the 10/20 ms grid that capture pipelines lose frames on, a splice needs only this. */
const EVENT_Z_GRID = 14;
/** Click rather than splice: the same-sample two-sided evidence is at least this fraction of the step evidence (a step has ~none, a click ~0.6). */
const CLICK_VS_STEP = 0.35;
/** Grid positions: within this many samples of a multiple of HOP_MS. */
const GRID_SLACK = 1;
/** Level test window either side of a splice. */
const LEVEL_MS = 5;
/** A splice joins the same sound: RMS either side within a factor of 3 (9.5 dB); onsets and offsets jump further. */
const LEVEL_RATIO = 3;
/** Above this rate the per-hop autocorrelation sums every other sample (plenty for a 16-pole model, half the cost). */
const AUTOCORR_STRIDE_ABOVE_HZ = 16000;

/** Per-candidate features, collected only when a debug sink is installed (for tuning). */
export interface ImpulseFeatures {
  at: number;
  eps: number;
  click: number;
  step: number;
  stepAt: number;
  level: number;
  grid: boolean;
  width: number;
  nearB: number;
  nearA: number;
}
export const debugSink: { features?: ImpulseFeatures[] } = {};

export class ImpulseDetector {
  readonly order: number;
  readonly hop: number;
  private readonly r: Float64Array[]; // per-hop partial autocorrelations, ring of 4
  private readonly coef: Float64Array[]; // per-hop inverse filters, ring of 4
  private readonly rSum: Float64Array;
  private readonly tmp: Float64Array;
  private readonly mad: Float32Array;
  private readonly sigF = new Float64Array(8);
  private readonly sigE = new Float64Array(8);
  private readonly eb: Float32Array;
  private readonly tail: Float64Array;
  private readonly clusterGap: number;
  private readonly levelWin: number;
  private readonly sens: number;
  private readonly stride: number;
  private readonly nearWin: number;
  private nextHop = 0;
  private rDone = 0;
  private clStart = -1;
  private clEnd = -1;
  private clPeak = 0;

  constructor(sampleRate: number, sensitivity: number) {
    this.order = lpcOrder(sampleRate);
    this.hop = Math.max(this.order * 4, Math.round((HOP_MS * sampleRate) / 1000));
    this.r = [0, 1, 2, 3].map(() => new Float64Array(this.order + 1));
    this.coef = [0, 1, 2, 3].map(() => new Float64Array(this.order + 1));
    this.rSum = new Float64Array(this.order + 1);
    this.tmp = new Float64Array(this.order + 1);
    this.mad = new Float32Array(this.hop);
    this.clusterGap = this.order + CLUSTER_GAP_EXTRA;
    this.levelWin = Math.max(8, Math.round((LEVEL_MS * sampleRate) / 1000));
    this.eb = new Float32Array(4 * this.hop);
    this.tail = new Float64Array(this.order);
    this.sens = sensitivity;
    this.nearWin = Math.max(8, Math.round((NEAR_MS * sampleRate) / 1000));
    this.stride = sampleRate > AUTOCORR_STRIDE_ABOVE_HZ ? 2 : 1;
  }

  /** Samples this detector reads behind the newest one. */
  lookback(): number {
    return 6 * this.hop + 2 * this.levelWin + 4 * this.order;
  }

  /**
   * Processes every hop that has its lookahead. `ef` receives the forward residual and `eps`
   * the two-sided (interpolation) residual; all arrays share `base`; `total` samples exist.
   */
  advance(x: Float32Array, ef: Float32Array, eps: Float32Array, base: number, total: number,
    out: RawEvent[], final = false): void {
    const H = this.hop;
    const P = this.order;
    for (;;) {
      const h = this.nextHop;
      if (!final && total < (h + 2) * H) break;
      if (final && total < (h + 1) * H + P) break;
      while (this.rDone <= h + 1 && (this.rDone + 1) * H <= total) this.autocorr(x, base, this.rDone++);
      const rs = this.rSum;
      rs.fill(0);
      for (let j = Math.max(0, h - 1); j <= h + 1 && j < this.rDone; j++) {
        const rj = this.r[j & 3];
        for (let k = 0; k <= P; k++) rs[k] += rj[k];
      }
      levinson(rs, P, this.coef[h & 3], this.tmp);
      this.forward(x, ef, base, h);
      if (h >= 1) {
        this.interpolation(x, ef, eps, base, h - 1);
        this.sigF[(h - 1) & 7] = this.scale(ef, (h - 1) * H - base);
        this.sigE[(h - 1) & 7] = this.scale(eps, (h - 1) * H - base);
      }
      if (h >= 2) this.scan(x, ef, eps, base, h - 2, false, out);
      this.nextHop = h + 1;
    }
    if (final && this.nextHop >= 2) {
      this.scan(x, ef, eps, base, this.nextHop - 2, true, out);
      if (this.clStart >= 0) this.classify(x, ef, eps, base, out);
    }
  }

  private autocorr(x: Float32Array, base: number, j: number): void {
    const P = this.order;
    const r = this.r[j & 3];
    const s = j * this.hop;
    const e = s + this.hop;
    const st = this.stride;
    for (let k = 0; k <= P; k++) {
      let acc = 0;
      const from = Math.max(s, k);
      for (let n = from; n < e; n += st) acc += x[n - base] * x[n - k - base];
      r[k] = acc;
    }
  }

  private forward(x: Float32Array, ef: Float32Array, base: number, h: number): void {
    const P = this.order;
    const a = this.coef[h & 3];
    const s = h * this.hop;
    const e = s + this.hop;
    for (let n = s; n < e; n++) {
      const i = n - base;
      let f = x[i];
      const kmax = n < P ? n : P;
      for (let k = 1; k <= kmax; k++) f += a[k] * x[i - k];
      ef[i] = f;
    }
  }

  /**
   * Two-sided residual: eps[n] = sum_k a_k ef[n+k] / |a|^2, the error of interpolating x[n]
   * from both sides under the AR model (the least-squares estimate of a one-sample click).
   */
  private interpolation(x: Float32Array, ef: Float32Array, eps: Float32Array, base: number, h: number): void {
    const P = this.order;
    const a = this.coef[h & 3];
    let norm = 0;
    for (let k = 0; k <= P; k++) norm += a[k] * a[k];
    const inv = 1 / norm;
    const s = h * this.hop;
    const e = s + this.hop;
    // The P forward residuals past the hop end, redone with this hop's taps: mixing two hops'
    // models would leave their difference in eps, which on smooth audio dwarfs the residual.
    const tail = this.tail;
    for (let k = 0; k < P; k++) {
      const i = e + k - base;
      let f = x[i];
      for (let q = 1; q <= P; q++) f += a[q] * x[i - q];
      tail[k] = f;
    }
    for (let n = s; n < e; n++) {
      const i = n - base;
      let v = ef[i];
      const inside = e - n - 1 < P ? e - n - 1 : P;
      for (let k = 1; k <= inside; k++) v += a[k] * ef[i + k];
      for (let k = inside + 1; k <= P; k++) v += a[k] * tail[n + k - e];
      eps[i] = v * inv;
    }
  }

  private scale(e: Float32Array, from: number): number {
    // Every other sample at high rates: the median of 220+ values is as steady, at half the cost.
    const st = this.stride;
    const m = this.mad;
    let c = 0;
    for (let k = 0; k < this.hop; k += st) {
      const v = e[from + k];
      m[c++] = v < 0 ? -v : v;
    }
    const s = MAD_TO_SIGMA * select(m, c, c >> 1);
    return s > SIGMA_FLOOR ? s : SIGMA_FLOOR;
  }

  private localScale(sig: Float64Array, j: number, last: boolean): number {
    const lo = j > 0 ? j - 1 : j;
    const hi = last ? j : j + 1;
    let s = 0;
    for (let k = lo; k <= hi; k++) if (sig[k & 7] > s) s = sig[k & 7];
    return s / this.sens;
  }

  /** Clusters the samples of hop j whose two-sided residual stands out from its neighbourhood. */
  private scan(x: Float32Array, ef: Float32Array, eps: Float32Array, base: number, j: number, last: boolean, out: RawEvent[]): void {
    const thr = CANDIDATE_Z * this.localScale(this.sigE, j, last);
    const s = j * this.hop;
    const e = s + this.hop;
    for (let n = s; n < e; n++) {
      const v = eps[n - base];
      if (this.clStart >= 0 && n - this.clEnd > this.clusterGap) this.classify(x, ef, eps, base, out);
      if (v > thr || v < -thr) {
        if (this.clStart < 0) { this.clStart = n; this.clPeak = 0; }
        this.clEnd = n;
        const z = (v < 0 ? -v : v) / (thr / CANDIDATE_Z);
        if (z > this.clPeak) this.clPeak = z;
      }
    }
  }

  private classify(x: Float32Array, ef: Float32Array, eps: Float32Array, base: number, out: RawEvent[]): void {
    const a = this.clStart;
    const b = this.clEnd;
    this.clStart = -1;
    const P = this.order;
    const H = this.hop;
    const j = Math.floor(a / H);
    const coef = this.coef[j & 3];
    const sf = this.localScale(this.sigF, j, false);
    // Backward residual around the cluster, on demand (same taps, future samples).
    const from = a - 3;
    const to = b + 3;
    const eb = this.eb;
    const m = Math.min(to - from, eb.length);
    for (let k = 0; k < m; k++) {
      const i = from + k - base;
      let v = x[i];
      for (let q = 1; q <= P; q++) v += coef[q] * x[i + q];
      eb[k] = (v < 0 ? -v : v) / sf;
    }
    const zf = (n: number) => { const v = ef[n - base]; return (v < 0 ? -v : v) / sf; };
    const zb = (n: number) => (n - from >= 0 && n - from < m ? eb[n - from] : 0);
    // Both residuals high at the same sample: samples pushed off the waveform and back.
    let click = 0;
    let clickAt = a;
    for (let n = a; n <= b; n++) {
      const f = zf(n);
      const bb = zb(n);
      const v = f < bb ? f : bb;
      if (v > click) { click = v; clickAt = n; }
    }
    // Forward high from p, backward high up to p-1: a step between p-1 and p.
    let step = 0;
    let stepAt = a;
    for (let p = a - 1; p <= b + 2; p++) {
      const fwd = Math.max(zf(p), zf(p + 1));
      const bwd = Math.max(zb(p - 1), zb(p - 2));
      const v = fwd < bwd ? fwd : bwd;
      if (v > step) { step = v; stepAt = p; }
    }
    const w = this.levelWin;
    const i = stepAt - base;
    const before = rmsOf(x, i - w, i);
    const after = rmsOf(x, i, i + w);
    const level = before > after ? before / (after + 1e-12) : after / (before + 1e-12);
    const grid = this.onGrid(stepAt);
    // Background right around the cluster (outside the spread of a click's own response):
    // a natural transient keeps the residual up for milliseconds, a click does not.
    const se = this.localScale(this.sigE, j, false);
    const nw = this.nearWin;
    const nearB = meanAbs(eps, a - P - nw - base, a - P - base) * MEAN_ABS_TO_SIGMA / se;
    const nearA = meanAbs(eps, b + P + 1 - base, b + P + 1 + nw - base) * MEAN_ABS_TO_SIGMA / se;
    if (debugSink.features) debugSink.features.push({ at: a, eps: this.clPeak, click, step, stepAt, level, grid, width: b - a + 1, nearB, nearA });
    const strength = this.clPeak / Math.max(1, nearA || 0, nearB || 0);
    if (strength < (grid ? EVENT_Z_GRID : EVENT_Z)) return;
    if (click >= CLICK_VS_STEP * step) {
      let s = clickAt;
      let e = clickAt;
      const half = click / 2;
      while (s - 1 >= a && Math.min(zf(s - 1), zb(s - 1)) >= half) s--;
      while (e + 1 <= b && Math.min(zf(e + 1), zb(e + 1)) >= half) e++;
      if (strength >= EVENT_Z) out.push({ kind: 'click', start: s, end: e + 1, score: strength });
      return;
    }
    if (level <= LEVEL_RATIO) out.push({ kind: 'discontinuity', start: stepAt, end: stepAt, score: strength });
  }

  private onGrid(p: number): boolean {
    const m = p % this.hop;
    return m <= GRID_SLACK || this.hop - m <= GRID_SLACK;
  }
}

function meanAbs(x: Float32Array, from: number, to: number): number {
  let s = 0;
  for (let i = from; i < to; i++) s += x[i] < 0 ? -x[i] : x[i];
  return s / Math.max(1, to - from);
}

function rmsOf(x: Float32Array, from: number, to: number): number {
  let s = 0;
  for (let i = from; i < to; i++) s += x[i] * x[i];
  return Math.sqrt(s / Math.max(1, to - from));
}
