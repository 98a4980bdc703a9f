/**
 * Clicks and splices from two-sided linear prediction, in two stages: screening (screen.ts)
 * gathers candidate clusters from every sample's forward residual; this file tests each one.
 *
 * The test (only around candidates): a fresh model is fitted on the audio either side of the
 * cluster, *excluding* it, so the defect does not bend its own model. The forward residual
 * e_f is scaled by the residual just before the cluster (the past) and the backward residual
 * e_b by the one just after (the future):
 * - a click (samples pushed off the waveform and back) is seen by both at the *same* samples;
 * - a splice (a jump where samples went missing) by e_b up to the boundary and by e_f from it
 *   on, never both at one sample;
 * - a natural onset leaves e_f high for milliseconds after it (a decaying drum hit is a new
 *   sound, not the old one plus an impulse), and an offset leaves e_b high before it: both
 *   fail the isolation test, which compares each residual after/before the cluster with its
 *   own scale on the other side.
 * A click must also be *explained* by a pulse: replacing 1-7 samples by their least-squares
 * estimate has to leave a background-level residual (a drum hit, a kink in a synthetic bass or
 * a burst of glitches does not); the energy the pulse explains is its statistic, which must
 * stand well above any other two-sided peak in the window (heavy-tailed natural residuals
 * throw up lone peaks rarely, rival ones often). A splice
 * is told from a click by the shape of the evidence: it stops dead at one boundary.
 *
 * This file holds the thresholds and the decisions, cheapest rejections first (the pulse fit
 * and the rival scan run only for candidates that could still pass). The machinery is in its
 * own files, each allocation-free per candidate: the test's model and residuals
 * (local-model.ts), the pulse fit (pulse.ts), the step-shape scans (steps.ts) and the
 * lossy-coded burst rule (burst.ts).
 */
import type { RawEvent } from './events';
import { testOrder } from './lpc';
import { SCREEN_Z, Screener } from './screen';
import { REF_MS } from './level';
import { rms } from './stats';
import { LocalModel } from './local-model';
import { MAX_CLICK_SAMPLES, PulseFitter } from './pulse';
import { StepScan, scanStep } from './steps';
import { BURST_Z, BurstRule } from './burst';

/** Candidates whose screening two-sided residual peak is below this many hop sigmas are not tested further. */
const PRE_Z = 5;
/** A cluster longer than this (plus twice the model order) is a sustained disturbance (a transient), not a click or splice. */
const MAX_CLUSTER_MS = 1.5;
/**
 * The test's model is fitted on this much audio either side of the cluster. 8 ms gave a
 * 16-pole model at 8 kHz only 64 samples a side: drum attacks and speech onsets it could not
 * model became false clicks and splices (full bench: 1.30 false events/min -> 1.00 at 16 ms,
 * drums 5.3 -> 2.6/min, click F1 -0.01; speed within its run-to-run spread, 354-366x).
 */
const FIT_MS = 16;
/** The past/future residual scales (and the isolation windows) span this much, at least 4 model orders. */
const SCALE_MS = 4;
/**
 * Isolation: after the cluster the forward residual's scale, and before it the backward
 * residual's, compared with their scale on the other side. A click or splice leaves the sound
 * as it was (ratio ~1); an onset or offset changes it. Beyond this ratio the evidence needed
 * grows in proportion (clicks; splices are allowed more change, being made of two sounds).
 */
const CLICK_ISOLATION = 1.5;
const SPLICE_ISOLATION = 3;
/**
 * Click: the energy the best pulse (1..MAX_CLICK_SAMPLES samples) explains, as a z in robust
 * sigmas of the louder side (a GLRT; for a one-sample pulse the two-sided residual peak itself,
 * and in the units of the bench's oracle z). The peak alone undercounts a 3-5 sample click by
 * its other samples' share. Full bench, PCM tuning part, with the support wall, CLICK_STEP_MAX and
 * CLICK_RIVAL_RATIO below: click F1 0.761 -> 0.800 (364 -> 393 found, 20 -> 16 false), false
 * clicks and splices on the clean recordings 25 -> 20. The peak alone at 20 (before): a GLRT at
 * 20 without the other three tests found 384 at 30 false, 34 on the clean recordings.
 */
const CLICK_Z = 16;
/** Click: below this two-sided peak (robust sigmas, after isolation) the pulse fit is not tried (cost only: CLICK_Z is above it). */
const CLICK_FIT_GATE = 8;
/**
 * Click: the step ratio (see STEP_RATIO) must stay under this unless the evidence is
 * click-shaped. Clicks' ratios sit at 1.1-2.3 (10th-90th percentile on the tuning part); the
 * splices that passed as clicks at 2.2-3.9.
 */
const CLICK_STEP_MAX = 2.5;
/**
 * Click: its statistic must be this many times the largest two-sided residual elsewhere in the
 * window (clicks: a tenth of it at the median; the false clicks a fifth).
 */
const CLICK_RIVAL_RATIO = 3;
/** Click: both one-sided residuals at least this high at the same sample (a splice has them at neighbouring samples, never together). */
const CLICK_OVERLAP_Z = 2.5;
/**
 * Step shape: the residual inside a boundary (e_f just after it, e_b just before) over the
 * residual on its wrong sides (e_f before, e_b after), best boundary. A splice's evidence stops
 * dead at the boundary (ratio ~10 and up); a click bleeds into both sides (~1-3).
 */
const STEP_RATIO = 4;
/** The step-shape scan's width: samples either side of each boundary. */
const STEP_NARROW = 3;
/**
 * Click: the residual left after the best pulse is taken out may hold at most CLICK_FIT_MAX^2
 * sigma^2 per model order (the background's share, a little under 1 since the fit absorbs
 * some) plus CLICK_FIT_SHARE of the peak's own energy (the model is never exact, and a strong
 * click's leftover grows with it). A drum hit, a kink or a burst of glitches leaves far more.
 */
const CLICK_FIT_MAX = 0.9;
const CLICK_FIT_SHARE = 0.02;
/** Click: at or above this same-sample overlap (robust sigmas) the evidence is an impulse's even when step-shaped. */
const SPLICE_OVERLAP_MAX = 15;
/** Splice (step-shaped evidence): the two-sided residual peak in robust sigmas of the louder side. */
const SPLICE_Z = 6;
/** On the 10/20 ms grid that capture pipelines lose frames on, a splice needs only this fraction of SPLICE_Z. */
const SPLICE_GRID_FACTOR = 0.7;
/** A splice's peak must be this many times the largest two-sided residual elsewhere in the window. */
const RIVAL_RATIO = 2;
/**
 * Wide step shape: the same ratio over STEP_WIDE samples a side. Weak splices (in-phase joins in
 * voiced speech) spread their evidence over the model's memory: under STEP_RATIO at any 3
 * samples, yet a clear step over 8. Such a step counts as a splice when its ratio reaches
 * WIDE_STEP_RATIO, the weaker side's RMS inside reaches WIDE_STEP_MIN sigmas and the two-sided
 * peak WIDE_SPLICE_Z (grid or not), and both one-sided residuals stay under WIDE_OVERLAP_MAX at
 * every one sample (drum transients that pass the wide ratio have them coincide, as a click
 * does; a join never). Set on the --quick bench: +11 splices, no more false events.
 */
const STEP_WIDE = 8;
const WIDE_STEP_RATIO = 3;
const WIDE_STEP_MIN = 2;
const WIDE_SPLICE_Z = 4;
const WIDE_OVERLAP_MAX = 4;
/**
 * Click: a pulse whose peak is more than this many dB under the RMS of the REF_MS before it is
 * masked by the audio (issue 16 counts clicks from 0 dB as audible; 3 dB of margin for the
 * estimate). No click found on the PCM tuning part lies under 0.2 dB, while 3 of its 19 false
 * clicks and 2 of the 7 on clean recordings lay under -3 dB: this took them out.
 */
const CLICK_MIN_DB = -3;
/** Grid positions: within this many samples of a multiple of the screening hop (10 ms). */
const GRID_SLACK = 1;

/** Per-candidate features, collected only when a debug sink is installed (for tuning). */
export interface ImpulseFeatures {
  at: number;
  width: number;
  pre: number;
  peakF: number;
  stepRatio: number;
  zEps: number;
  overlap: number;
  isoF: number;
  isoB: number;
  rival: number;
  support: number;
  repairFit: number;
  zClick: number;
  grid: boolean;
  stepWide: number;
  stepWideIn: number;
  /** Tests the candidate fails as a click, and as a splice (empty: it passes). */
  clickFails: string[];
  spliceFails: string[];
}
export const debugSink: { features?: ImpulseFeatures[]; long?: number[] } = {};

export class ImpulseDetector {
  /** The test's model order: higher than screening's (more prediction gain, only paid per candidate). */
  readonly testOrder: number;
  private readonly screen: Screener;
  private readonly model: LocalModel;
  private readonly pulse: PulseFitter;
  private readonly maxCluster: number;
  private readonly win: number;
  private readonly sens: number;
  private readonly levelSpan: number;
  /** Two-sided residual numerators around the cluster (indexed like the model's residuals). */
  private readonly c2: Float64Array;
  // Step-shape scans' results (reused: no allocation per candidate).
  private readonly step = new StepScan();
  private readonly wide = new StepScan();
  /** Lossy-coded input: candidates the click/splice tests reject may still be bursts (see burst.ts). */
  private readonly lossy: boolean;
  private readonly burst = new BurstRule();

  constructor(sampleRate: number, sensitivity: number, lossy = false) {
    this.lossy = lossy;
    this.screen = new Screener(sampleRate);
    this.maxCluster = 2 * this.screen.order + Math.round((MAX_CLUSTER_MS * sampleRate) / 1000);
    const fit = Math.max(4 * testOrder(sampleRate), Math.round((FIT_MS * sampleRate) / 1000));
    this.win = Math.max(4 * testOrder(sampleRate), Math.round((SCALE_MS * sampleRate) / 1000));
    this.sens = sensitivity;
    this.levelSpan = Math.round((REF_MS * sampleRate) / 1000);
    this.testOrder = testOrder(sampleRate);
    const T = this.testOrder;
    const span = this.maxCluster + 2 * this.win + 6 * T + 8;
    this.model = new LocalModel(T, fit, span);
    this.pulse = new PulseFitter(this.model.coef, T);
    this.c2 = new Float64Array(span);
  }

  /** Samples this detector reads behind the newest one. */
  lookback(): number {
    return 5 * this.screen.hop + this.maxCluster + this.screen.clusterGap + this.model.fit + this.win + 4 * this.testOrder;
  }

  /** Samples past a cluster's end that its test reads. */
  private lookahead(): number {
    return this.model.fit + this.win + 3 * this.testOrder + 4;
  }

  /**
   * Screens every hop that has its lookahead and tests each candidate cluster as it closes.
   * `ef` receives the screening forward residual; both arrays share `base`; `total` samples exist.
   */
  advance(x: Float32Array, ef: Float32Array, base: number, total: number, out: RawEvent[], final = false): void {
    this.screen.advance(x, ef, base, total, (a, b, peak) => this.classify(x, ef, base, total, out, a, b, peak), final);
  }

  private classify(x: Float32Array, ef: Float32Array, base: number, total: number, out: RawEvent[], a: number, b: number, peak: number): void {
    const before = out.length;
    this.burst.reset();
    this.test(x, ef, base, total, out, a, b, peak);
    if (this.lossy && out.length === before) this.burst.judge(this.sens, out);
  }

  private test(x: Float32Array, ef: Float32Array, base: number, total: number, out: RawEvent[], a: number, b: number, peak: number): void {
    const P = this.testOrder;
    if (b - a + 1 > this.maxCluster) { debugSink.long?.push(a, b); return; }
    if (b + this.lookahead() > total) return;
    // Cheap two-sided check with the screening model before the full test.
    const pre = this.screen.preScore(ef, base, a, b);
    const preOk = pre >= PRE_Z / this.sens || this.lossy;
    if (!preOk && !debugSink.features) return;
    const W = this.win;
    const F = this.model.fit;
    if (a - P - F - W - 2 * P < base || a - W - 3 * P < 0) return;
    const model = this.model;
    const coef = model.coef;
    // Model from the audio either side, leaving out the cluster and the model order around it.
    model.fitAround(x, base, a - P, b + P + 1);
    // Local residuals over [lo, hi): both one-sided residuals, one model.
    const lo = a - W - P;
    const hi = b + P + W + 1;
    const lf = model.lf;
    const lb = model.lb;
    // Full resolution around the cluster; the scale windows either side only need every
    // `stride`-th sample (their medians are as steady, at a fraction of the cost).
    const st = this.screen.stride;
    model.residuals(x, base, lo, a - 2 - MAX_CLICK_SAMPLES - 4, b + MAX_CLICK_SAMPLES + P + 4, 1, true);
    model.residuals(x, base, lo, a - 2 - W, a - 2, st, true);
    model.residuals(x, base, lo, b + 3, b + 3 + W, st, true);
    // Past scale for e_f (just before the cluster), future scale for e_b (just after it).
    const sp = model.robust(lf, a - 2 - W - lo, a - 2 - lo, st);
    const sn = model.robust(lb, b + 3 - lo, b + 3 + W - lo, st);
    const isoF = model.robust(lf, b + 3 - lo, b + 3 + W - lo, st) / sp;
    const isoB = model.robust(lb, a - 2 - W - lo, a - 2 - lo, st) / sn;
    const sens = this.sens;
    let norm = 0;
    for (let k = 0; k <= P; k++) norm += coef[k] * coef[k];
    const sq = Math.sqrt(norm);
    const sMaxRaw = sp > sn ? sp : sn;
    const zScale = sq / norm / sMaxRaw; // robust sigmas at sensitivity 1: shape tests use it as is, thresholds scaled by sens
    // Two-sided residual (least-squares estimate of a one-sample click, kept in `c`) and the
    // same-sample overlap of the one-sided residuals.
    const c = this.c2;
    let zEps = 0;
    let overlap = 0;
    let overlapAt = a;
    for (let n = a - 2 - MAX_CLICK_SAMPLES; n <= b + MAX_CLICK_SAMPLES; n++) {
      let v = 0;
      for (let k = 0; k <= P; k++) v += coef[k] * lf[n + k - lo];
      c[n - lo] = v;
      if (n < a - 2 || n > b) continue;
      const z = (v < 0 ? -v : v) * zScale;
      if (z > zEps) zEps = z;
      const f = Math.abs(lf[n - lo]) / sp;
      const g = Math.abs(lb[n - lo]) / sn;
      const o = f < g ? f : g;
      if (o > overlap) { overlap = o; overlapAt = n; }
    }
    const isoC = Math.max(1, isoF / CLICK_ISOLATION, isoB / CLICK_ISOLATION);
    const isoS = Math.max(1, isoF / SPLICE_ISOLATION, isoB / SPLICE_ISOLATION);
    // Step shape: a splice's forward residual rises *at* the boundary and its backward residual
    // stops there, with nothing of either on the wrong side; a click bleeds into both sides.
    const step = this.step;
    scanStep(step, lf, lb, lo, a, b, sp, sn, overlapAt, STEP_NARROW);
    const stepRatio = step.ratio;
    const stepAt = step.at;
    const stepLike = stepRatio >= STEP_RATIO;
    // Both one-sided residuals this far out at one sample is an impulse whatever the step ratio
    // says (a 4-5 sample click at 8 kHz can look like a step over 3 samples; a join never does this).
    // Shape decisions (step-like, click-shaped, wide overlap) use the unscaled statistics and
    // only the thresholds move with the sensitivity, so that a higher one can only add events.
    const clickShaped = overlap >= SPLICE_OVERLAP_MAX;
    const clickShape = preOk && (stepRatio < CLICK_STEP_MAX || clickShaped) && overlap * sens >= CLICK_OVERLAP_Z;
    const debug = debugSink.features;
    // Click hypothesis (pulse.ts): some 1..MAX_CLICK_SAMPLES samples around the two-sided peak,
    // replaced by their least-squares estimate. The energy the pulse explains is the click's
    // statistic, and what it leaves must be as quiet as the background.
    const pulse = this.pulse;
    let zClick = zEps;
    let fit = Infinity;
    if ((clickShape && (zEps * sens) / isoC >= CLICK_FIT_GATE) || debug) {
      pulse.fitAt(lf, c, lo, overlapAt, sMaxRaw);
      // A best support as wide as the search allows is a disturbance longer than any click (unless
      // a codec smeared it: lossy input keeps the whole search).
      fit = this.lossy || pulse.end - pulse.start + 1 < MAX_CLICK_SAMPLES ? pulse.fit : Infinity;
      zClick = Math.max(zEps, Math.sqrt(pulse.explained) / sMaxRaw);
    }
    const couldClick = clickShape && (zClick * sens) / isoC >= CLICK_Z;
    // The same over STEP_WIDE samples a side: a weak splice's evidence is spread over the
    // model's memory, too low at any 3 samples but plain over 8. Only where it could decide.
    const wide = this.wide;
    wide.clear(stepAt);
    if ((!stepLike && overlap < WIDE_OVERLAP_MAX && (zEps * sens) / isoS >= WIDE_SPLICE_Z) || debug) {
      scanStep(wide, lf, lb, lo, a, b, sp, sn, stepAt, STEP_WIDE);
    }
    const stepWide = wide.ratio;
    const stepWideIn = wide.inside;
    const wideStep = !stepLike && overlap < WIDE_OVERLAP_MAX && stepWide >= WIDE_STEP_RATIO && stepWideIn * sens >= WIDE_STEP_MIN && (zEps * sens) / isoS >= WIDE_SPLICE_Z;
    const couldSplice = preOk && (wideStep || (stepLike && (zEps * sens) / isoS >= SPLICE_Z * SPLICE_GRID_FACTOR));
    // What the burst rule (lossy input) judges by, should both tests reject the candidate.
    const burst = this.burst;
    burst.z = zEps;
    burst.iso = Math.max(isoF, isoB);
    burst.overlap = overlap;
    burst.at = overlapAt;
    // The jump's level: the one-sample deviation from the two-sided prediction at the peak.
    const jump = (zEps * sMaxRaw) / sq;
    burst.jump = jump;
    if (!couldClick && !couldSplice && !debug && !(this.lossy && zEps * sens >= BURST_Z)) return;
    // Rival: the same statistic elsewhere in the window. Heavy-tailed natural residuals (a
    // snare's noise, a fricative) throw up peaks as high as a weak click's, but never alone.
    model.residuals(x, base, lo, lo, hi, 1, false);
    let rival = 0;
    for (let n = lo + 2; n < hi - P - 1; n++) {
      if (n === a - 2 - P) n = b + P + 1;
      let v = 0;
      for (let k = 0; k <= P; k++) v += coef[k] * lf[n + k - lo];
      const z = (v < 0 ? -v : v) * zScale;
      if (z > rival) rival = z;
    }
    burst.rival = rival;
    const clickRivalOk = zClick >= CLICK_RIVAL_RATIO * rival;
    if (!(couldClick && clickRivalOk) && !(couldSplice && zEps >= RIVAL_RATIO * rival) && !debug) return;
    if (couldClick || debug) {
      const fitLimit = Math.sqrt(CLICK_FIT_MAX * CLICK_FIT_MAX + (CLICK_FIT_SHARE * zEps * zEps) / P);
      if (debug) {
        const preFail = pre < PRE_Z / sens ? ['pre'] : [];
        const rivalFail = zEps < RIVAL_RATIO * rival ? ['rival'] : [];
        const clickFails = [...preFail,
          ...(stepRatio >= CLICK_STEP_MAX && !clickShaped ? ['step-shape'] : []), ...(overlap < CLICK_OVERLAP_Z ? ['overlap'] : []),
          ...(zClick * sens < CLICK_Z ? ['click-z'] : (zClick * sens) / isoC < CLICK_Z ? ['isolation'] : []), ...(clickRivalOk ? [] : ['rival']),
          ...(fit > fitLimit ? ['pulse-fit'] : [])];
        const spliceNeed = this.onGrid(stepAt) ? SPLICE_Z * SPLICE_GRID_FACTOR : SPLICE_Z;
        const spliceFails = [...preFail, ...(!stepLike && !wideStep ? ['not-step'] : []),
          ...(!wideStep && (zEps * sens) / isoS < spliceNeed ? (zEps * sens < spliceNeed ? ['splice-z'] : ['isolation']) : []), ...rivalFail];
        debug.push({ at: a, width: b - a + 1, pre, zClick, peakF: peak * SCREEN_Z, stepRatio, zEps, overlap, isoF, isoB, rival, support: pulse.end - pulse.start + 1, repairFit: fit, grid: this.onGrid(a), stepWide, stepWideIn, clickFails, spliceFails });
      }
      if (couldClick && fit <= fitLimit && clickRivalOk) {
        const peakPulse = pulse.peak(lf, c, lo);
        // Audible: not far under the audio just before it.
        const floor = rms(x, pulse.start - this.levelSpan - base, pulse.start - base) * 10 ** (CLICK_MIN_DB / 20);
        if (peakPulse * sens >= floor) {
          out.push({ kind: 'click', start: pulse.start, end: pulse.end + 1, level: peakPulse });
          return;
        }
      }
    }
    if (!couldSplice || zEps < RIVAL_RATIO * rival) return;
    if (wideStep) {
      out.push({ kind: 'discontinuity', start: wide.at, end: wide.at, level: jump });
      return;
    }
    const need = this.onGrid(stepAt) ? SPLICE_Z * SPLICE_GRID_FACTOR : SPLICE_Z;
    if ((zEps * sens) / isoS >= need) out.push({ kind: 'discontinuity', start: stepAt, end: stepAt, level: jump });
  }

  private onGrid(p: number): boolean {
    const hop = this.screen.hop;
    const m = p % hop;
    return m <= GRID_SLACK || hop - m <= GRID_SLACK;
  }
}
