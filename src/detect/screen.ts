/**
 * The click/splice detector's first stage, run on every sample and kept cheap: an AR model
 * per 10 ms hop (fitted on the surrounding 30 ms) gives each sample's forward residual, and
 * samples whose residual stands out from the hop's robust (MAD) scale are gathered into
 * candidate clusters. Each closed cluster is handed on to the per-candidate test (impulses.ts),
 * which decides what it is.
 */
import { levinson, lpcOrder } from './lpc';
import { madSigma } from './stats';

/** Hop between screening models; also the pipeline frame grid's finest step. */
export const HOP_MS = 10;
/** A sample becomes a candidate when its forward residual exceeds this many hop sigmas. */
export const SCREEN_Z = 4;
/** Candidates closer than the model order plus this many samples form one cluster. */
const CLUSTER_GAP_EXTRA = 2;
/** The hop's residual scale is the MAD of about this many evenly spaced samples (a median of 120 is steady; sorting more costs more than the rest of the screening). */
const SCALE_SAMPLES = 120;
/** Above this rate the per-hop autocorrelation and MAD use every other sample (plenty for a 12-pole model, half the cost). */
const STRIDE_ABOVE_HZ = 16000;

/** Receives each closed cluster [a, b] (absolute sample indices) and its peak, in hop sigmas over SCREEN_Z. */
export type OnCluster = (a: number, b: number, peak: number) => void;

export class Screener {
  readonly order: number;
  readonly hop: number;
  readonly clusterGap: number;
  private readonly r: Float64Array[]; // per-hop partial autocorrelations, ring of 4
  private readonly coef: Float64Array[]; // per-hop inverse filters, ring of 4
  private readonly sig = new Float64Array(4); // per-hop residual scales, ring of 4
  private readonly rSum: Float64Array;
  private readonly tmp: Float64Array;
  private readonly mad: Float32Array;
  /** Every `stride`-th sample is enough for the per-hop sums (and for the test's scale windows). */
  readonly stride: number;
  private readonly scaleStep: number;
  private nextHop = 0;
  private rDone = 0;
  private clStart = -1;
  private clEnd = -1;
  private clPeak = 0;

  constructor(sampleRate: number) {
    this.order = lpcOrder(sampleRate);
    const P = this.order;
    this.hop = Math.max(P * 4, Math.round((HOP_MS * sampleRate) / 1000));
    this.r = [0, 1, 2, 3].map(() => new Float64Array(P + 1));
    this.coef = [0, 1, 2, 3].map(() => new Float64Array(P + 1));
    this.rSum = new Float64Array(P + 1);
    this.tmp = new Float64Array(P + 1);
    this.mad = new Float32Array(this.hop);
    this.clusterGap = P + CLUSTER_GAP_EXTRA;
    this.stride = sampleRate > STRIDE_ABOVE_HZ ? 2 : 1;
    this.scaleStep = Math.max(1, Math.floor(this.hop / SCALE_SAMPLES));
  }

  /**
   * Screens every hop that has its lookahead (and, when `final`, the rest, closing the open
   * cluster). `ef` receives the forward residual; both arrays share `base`; `total` samples exist.
   */
  advance(x: Float32Array, ef: Float32Array, base: number, total: number, onCluster: OnCluster, final = false): void {
    const H = this.hop;
    for (;;) {
      const h = this.nextHop;
      if (total < (h + 2) * H) break;
      while (this.rDone <= h + 1) this.autocorr(x, base, this.rDone++);
      const rs = this.rSum;
      rs.fill(0);
      for (let j = Math.max(0, h - 1); j <= h + 1; j++) {
        const rj = this.r[j & 3];
        for (let k = 0; k <= this.order; k++) rs[k] += rj[k];
      }
      levinson(rs, this.order, this.coef[h & 3], this.tmp);
      this.forward(x, ef, base, h);
      this.sig[h & 3] = this.scale(ef, h * H - base);
      if (h >= 2) this.scan(ef, base, h - 2, onCluster);
      this.nextHop = h + 1;
    }
    if (final) {
      for (let j = Math.max(0, this.nextHop - 2); j < this.nextHop; j++) this.scan(ef, base, j, onCluster);
      if (this.clStart >= 0) this.close(onCluster);
    }
  }

  /**
   * The screening model's two-sided residual peak over [a-2, b], in robust sigmas of the hop:
   * a cheap, rougher version of the test's statistic (lower order, the hop's scale).
   */
  preScore(ef: Float32Array, base: number, a: number, b: number): number {
    const P = this.order;
    const j = Math.floor(a / this.hop);
    const co = this.coef[j & 3];
    let norm = 0;
    for (let k = 0; k <= P; k++) norm += co[k] * co[k];
    let peak = 0;
    for (let n = a - 2; n <= b; n++) {
      const i = n - base;
      let v = 0;
      for (let k = 0; k <= P; k++) v += co[k] * ef[i + k];
      if (v < 0) v = -v;
      if (v > peak) peak = v;
    }
    return peak / Math.sqrt(norm) / this.sig[j & 3];
  }

  private autocorr(x: Float32Array, base: number, j: number): void {
    const P = this.order;
    const r = this.r[j & 3];
    const s = j * this.hop;
    const e = s + this.hop;
    const st = this.stride;
    if (P === 12 && s >= P) {
      autocorr12(x, r, s - base, e - base, st);
      return;
    }
    for (let k = 0; k <= P; k++) {
      let acc = 0;
      const from = Math.max(s, k);
      for (let n = from; n < e; n += st) acc += x[n - base] * x[n - k - base];
      r[k] = acc;
    }
  }

  private forward(x: Float32Array, ef: Float32Array, base: number, h: number): void {
    const s = h * this.hop;
    residual(x, ef, this.coef[h & 3], this.order, s - base, s + this.hop - base, s < this.order ? s - base : this.order);
  }

  private scale(e: Float32Array, from: number): number {
    const st = this.scaleStep;
    const m = this.mad;
    let c = 0;
    for (let k = 0; k < this.hop; k += st) {
      const v = e[from + k];
      m[c++] = v < 0 ? -v : v;
    }
    return madSigma(m, c);
  }

  /** Clusters the samples of hop j whose forward residual stands out. */
  private scan(ef: Float32Array, base: number, j: number, onCluster: OnCluster): void {
    const thr = SCREEN_Z * this.sig[j & 3]; // fixed: a lower one grew clusters past MAX_CLUSTER and lost events as sensitivity rose
    const s = j * this.hop;
    const e = s + this.hop;
    for (let n = s; n < e; n++) {
      const v = ef[n - base];
      if (v > thr || v < -thr) {
        if (this.clStart >= 0 && n - this.clEnd > this.clusterGap) this.close(onCluster);
        if (this.clStart < 0) { this.clStart = n; this.clPeak = 0; }
        this.clEnd = n;
        const z = (v < 0 ? -v : v) / thr;
        if (z > this.clPeak) this.clPeak = z;
      }
    }
    if (this.clStart >= 0 && e - this.clEnd > this.clusterGap) this.close(onCluster);
  }

  private close(onCluster: OnCluster): void {
    const a = this.clStart;
    this.clStart = -1;
    onCluster(a, this.clEnd, this.clPeak);
  }
}

/**
 * Forward residual e[i] = x[i] + sum_k a_k x[i-k] for i in [from, to) (buffer indices), with
 * only `have` past samples before `from` (the channel's start); the common order 12 unrolled.
 */
function residual(x: Float32Array, e: Float32Array, a: Float64Array, P: number, from: number, to: number, have: number): void {
  let i = from;
  if (P === 12) {
    for (; i < to && have + (i - from) < P; i++) e[i] = tapsUpTo(x, a, i, have + (i - from));
    const a1 = a[1], a2 = a[2], a3 = a[3], a4 = a[4], a5 = a[5], a6 = a[6];
    const a7 = a[7], a8 = a[8], a9 = a[9], a10 = a[10], a11 = a[11], a12 = a[12];
    for (; i < to; i++) {
      e[i] = x[i] + a1 * x[i - 1] + a2 * x[i - 2] + a3 * x[i - 3] + a4 * x[i - 4] + a5 * x[i - 5] + a6 * x[i - 6] +
        a7 * x[i - 7] + a8 * x[i - 8] + a9 * x[i - 9] + a10 * x[i - 10] + a11 * x[i - 11] + a12 * x[i - 12];
    }
    return;
  }
  for (; i < to; i++) {
    const kmax = i - from + have < P ? i - from + have : P;
    e[i] = tapsUpTo(x, a, i, kmax);
  }
}

function tapsUpTo(x: Float32Array, a: Float64Array, i: number, kmax: number): number {
  let f = x[i];
  for (let k = 1; k <= kmax; k++) f += a[k] * x[i - k];
  return f;
}

/** Lags 0..12 of sum x[i] x[i-k] over i in [from, to) step `st`, all lags in one pass (registers, not memory). */
function autocorr12(x: Float32Array, r: Float64Array, from: number, to: number, st: number): void {
  let r0 = 0, r1 = 0, r2 = 0, r3 = 0, r4 = 0, r5 = 0, r6 = 0, r7 = 0, r8 = 0, r9 = 0, r10 = 0, r11 = 0, r12 = 0;
  for (let i = from; i < to; i += st) {
    const v = x[i];
    r0 += v * v; r1 += v * x[i - 1]; r2 += v * x[i - 2]; r3 += v * x[i - 3]; r4 += v * x[i - 4];
    r5 += v * x[i - 5]; r6 += v * x[i - 6]; r7 += v * x[i - 7]; r8 += v * x[i - 8];
    r9 += v * x[i - 9]; r10 += v * x[i - 10]; r11 += v * x[i - 11]; r12 += v * x[i - 12];
  }
  r[0] = r0; r[1] = r1; r[2] = r2; r[3] = r3; r[4] = r4; r[5] = r5; r[6] = r6;
  r[7] = r7; r[8] = r8; r[9] = r9; r[10] = r10; r[11] = r11; r[12] = r12;
}
