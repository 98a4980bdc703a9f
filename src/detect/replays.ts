/**
 * Repeated blocks in lossy-coded audio. A replayed frame (a stuck or re-sent buffer) is an
 * exact copy in PCM, which repeats.ts finds by hashing; after a codec the copy is only close.
 * This test follows, at the frame lengths capture pipelines replay (10 and 20 ms), the
 * difference between the last lag of audio and the lag before it, relative to their energy:
 * a replayed block makes it dip to near zero for the one window that covers the copy, and
 * not one lag earlier or later. Natural periodic sound (a vowel whose pitch divides the lag,
 * a held note) stays self-similar over many lags, so it fails the "not earlier, not later" test.
 * A copy inside such sound is still found by contrast: its match is far closer than the audio's
 * own best self-similarity (at its pitch period or near the lag, in the copy's window and the
 * windows a lag before and after it), which a codec's noise and a voice's jitter keep loose.
 * The comparison is made on the audio low-passed at COMPARE_HZ, where a codec spends its bits and
 * its noise is lowest relative to the signal; the copy's level is the full band's.
 */
import type { RawEvent } from './events';

/**
 * The frame lengths looked at. Set on the bench's Opus copies (tuning part, --quick): adding
 * 40 ms found nothing more and 5 ms only a high voice's pitch period.
 */
const LAGS_MS = [10, 20];
/**
 * At the copy, the difference energy is at most this share of the two blocks' energy (-15 dB),
 * and one lag before and one lag after at least AROUND_MIN (the audio was not repeating
 * itself). Bench (Opus copies, --quick): 0.03/0.6 find 60 % of the repeats with 0.5 false/min;
 * 0.04/0.4 find 72 % with 4.6/min (steady vowels). What is missed is coded at 16-24 kb/s,
 * where the codec's own noise is louder than -15 dB.
 */
const MATCH_MAX = 0.03;
const AROUND_MIN = 0.6;
/**
 * The contrast test: a copy whose match is at most LOOSE_MATCH_MAX is also taken when the audio's
 * own best self-similarity nearby (see natural()) is at least CONTRAST_MIN times looser, whatever
 * the ratios a lag around it; and a copy passing the test above must still be at least as close
 * as that (a steady note matches itself as well at any period). Bench (Opus copies, tuning part,
 * --quick, candidates scored offline): repeats found 339 -> 409 of 537, false candidates in the
 * injected copies 23 -> 4 and on the clean copies 10 -> 2; contrast 5: 424, 9 and 4; without the
 * second rule: 422, 25 and 10.
 */
const LOOSE_MATCH_MAX = 0.1;
const CONTRAST_MIN = 6;
/** Lags the audio's own self-similarity is searched over: a high voice's pitch period up to 2 ms past the copy's lag. */
const NATURAL_MIN_LAG_MS = 2.5;
const NATURAL_PAST_LAG_MS = 2;
/** In the copy's own window, lags within this of the copy's are the copy's, not the audio's. */
const NATURAL_GUARD_MS = 1;
/** The copy must be audible: RMS of at least -45 dBFS (low-passed). */
const MIN_RMS_DB = -45;
/**
 * Low-pass (2nd-order Butterworth) applied before comparing. Bench (Opus copies, tuning part,
 * --quick): full band 322 of 537 repeats found, 17 false in the injected copies; 3 kHz 333/16;
 * 1.5 kHz 339/17; 800 Hz 321/21. False repeats on the clean copies: 4 full band, 5 at 1.5 kHz.
 */
const COMPARE_HZ = 1500;

/** A copy found at one lag, with how close it was (the difference ratio). */
type Candidate = RawEvent & { match: number };

class LagFollower {
  // Running sums over the last L samples (low-passed): y^2, y[-L]^2 and (y - y[-L])^2; the full
  // band's x^2 for the level; and a ring of past ratios.
  private sxx = 0;
  private sww = 0;
  private syy = 0;
  private sdd = 0;
  /** ratio at each of the last 2L+1 positions (ring), to test one lag before and after the dip. */
  private readonly ratios: Float32Array;
  private readonly levels: Float32Array;

  private readonly natural: NaturalSimilarity;

  constructor(readonly lag: number, private readonly minEnergy: number, sampleRate: number) {
    this.ratios = new Float32Array(2 * lag + 1).fill(1);
    this.levels = new Float32Array(2 * lag + 1);
    this.natural = new NaturalSimilarity(lag, sampleRate);
  }

  /**
   * Takes sample n (counted from the channel's first scanned sample, `origin` in absolute terms):
   * `y` is the low-passed audio in a ring (`mask`, position `j` is sample n), `x` the full band
   * (buffer index i, at least 2L samples of history behind it once n >= 2L). Reports a copy
   * whose window ended L samples ago.
   */
  step(y: Float32Array, j: number, mask: number, x: Float32Array, i: number, n: number, origin: number, out: Candidate[], sens: number): void {
    const L = this.lag;
    const v = y[j];
    const u = y[(j - L) & mask];
    const d = v - u;
    const w = x[i];
    this.sxx += v * v;
    this.syy += u * u;
    this.sdd += d * d;
    this.sww += w * w;
    if (n >= 2 * L) {
      const vo = u;
      const uo = y[(j - 2 * L) & mask];
      const dd = vo - uo;
      const wo = x[i - L];
      this.sxx -= vo * vo;
      this.syy -= uo * uo;
      this.sdd -= dd * dd;
      this.sww -= wo * wo;
    }
    const R = this.ratios.length;
    const e = this.sxx + this.syy;
    const ratio = e > this.minEnergy * L ? this.sdd / e : 1;
    this.ratios[n % R] = ratio;
    this.levels[n % R] = this.sww;
    if (n < 3 * L) return;
    // The candidate is the window that ended L samples ago: a local minimum, low, with high ratios a lag either side.
    const c = n - L;
    const rc = this.ratios[c % R];
    if (rc > LOOSE_MATCH_MAX * sens) return;
    if (this.ratios[(c - 1) % R] < rc || this.ratios[(c + 1) % R] <= rc) return;
    const before = this.ratios[(c - L) % R];
    const after = this.ratios[n % R];
    const alone = rc <= MATCH_MAX * sens && before >= AROUND_MIN / sens && after >= AROUND_MIN / sens;
    // The audio's own self-similarity must be looser than the copy's match by this factor.
    const floor = rc * (alone ? 1 : CONTRAST_MIN) / sens;
    if (before < floor || after < floor) return; // the lag itself already matches as well around the copy
    if (!this.natural.looserThan(y, mask, j, n - c, floor)) return;
    out.push({ kind: 'repeat', start: origin + c - L + 1, end: origin + c + 1, level: Math.sqrt(Math.max(0, this.levels[c % R]) / L), match: rc });
  }
}

/**
 * The audio's own self-similarity around a candidate copy at lag L: the same difference ratio as
 * the follower's, over the copy's window (at other lags than L) and the windows one lag before and
 * after it (at every lag), searched over a voice's pitch periods up to just past L. Computed only
 * at candidates, on a coarse grid (the low-passed audio every 1/8000 s, lags every 1/24000 s).
 */
class NaturalSimilarity {
  private readonly minLag: number;
  private readonly maxLag: number;
  private readonly guard: number;
  private readonly stride: number;
  private readonly lagStep: number;

  constructor(private readonly lag: number, sampleRate: number) {
    this.minLag = Math.max(1, Math.round((NATURAL_MIN_LAG_MS * sampleRate) / 1000));
    this.maxLag = lag + Math.round((NATURAL_PAST_LAG_MS * sampleRate) / 1000);
    this.guard = Math.round((NATURAL_GUARD_MS * sampleRate) / 1000);
    this.stride = Math.max(1, Math.round(sampleRate / 8000));
    this.lagStep = Math.max(1, Math.round(sampleRate / 24000));
  }

  /** How far back (samples) the search reads behind the window after the copy. */
  static reach(lag: number, sampleRate: number): number {
    return 4 * lag + Math.round((NATURAL_PAST_LAG_MS * sampleRate) / 1000) + 1;
  }

  /**
   * Whether every ratio of the search is at least `floor`. `j` is the ring position of the newest
   * sample, which ends the window after the copy; the copy's window ends `L` samples before it.
   */
  looserThan(y: Float32Array, mask: number, j: number, L: number, floor: number): boolean {
    for (const end of [j - L, j - 2 * L, j]) {
      const self = end === j - L;
      for (let l = this.minLag; l <= this.maxLag; l += this.lagStep) {
        if (self && Math.abs(l - this.lag) < this.guard) continue;
        if (this.ratio(y, mask, end, l) < floor) return false;
      }
    }
    return true;
  }

  private ratio(y: Float32Array, mask: number, end: number, l: number): number {
    let sd = 0;
    let se = 0;
    for (let k = 0; k < this.lag; k += this.stride) {
      const a = y[(end - k) & mask];
      const b = y[(end - k - l) & mask];
      sd += (a - b) * (a - b);
      se += a * a + b * b;
    }
    return se > 0 ? sd / se : 1;
  }
}

export class ReplayTracker {
  private readonly followers: LagFollower[];
  private readonly found: Candidate[] = [];
  /** The best copy of the overlapping ones seen so far, held until a later one no longer overlaps it. */
  private pending: Candidate | undefined;
  private started = -1;

  private readonly sens: number;
  /** The low-passed audio, a ring of 2^k samples: two of the longest lag behind the block being scanned. */
  private y = new Float32Array(0);
  private mask = -1;
  private readonly history: number;
  private readonly lp: Float64Array;
  private z1 = 0;
  private z2 = 0;

  constructor(sampleRate: number, sensitivity: number) {
    // The square root: natural periodic sound sits just past these thresholds, so they move
    // gently (at sensitivity 4 the full scaling turned a steady voice into 22 repeats in 14 s).
    this.sens = Math.sqrt(sensitivity);
    const minEnergy = 10 ** (MIN_RMS_DB / 10);
    this.followers = LAGS_MS.map((ms) => new LagFollower(Math.round((ms * sampleRate) / 1000), minEnergy, sampleRate));
    this.history = NaturalSimilarity.reach(Math.max(...this.followers.map((f) => f.lag)), sampleRate) + 2;
    this.lp = butterworthLowPass(Math.min(COMPARE_HZ, 0.45 * sampleRate) / sampleRate);
  }

  /** How far back this tracker reads. */
  static lookback(sampleRate: number): number {
    return 2 * Math.round((Math.max(...LAGS_MS) * sampleRate) / 1000) + 4;
  }

  scan(x: Float32Array, base: number, from: number, to: number, out: RawEvent[]): void {
    if (this.started < 0) this.started = from;
    const n0 = from - this.started;
    this.reserve(n0, to - from);
    // Low-pass the block into the ring (transposed direct form II), then follow each lag over it.
    const [b0, b1, b2, a1, a2] = this.lp;
    const { y, mask } = this;
    let { z1, z2 } = this;
    for (let a = from, n = n0; a < to; a++, n++) {
      const v = x[a - base];
      const f = b0 * v + z1;
      z1 = b1 * v - a1 * f + z2;
      z2 = b2 * v - a2 * f;
      y[n & mask] = f;
    }
    this.z1 = z1;
    this.z2 = z2;
    for (const fo of this.followers) {
      for (let n = Math.max(n0, fo.lag), end = to - this.started; n < end; n++) {
        fo.step(y, n & mask, mask, x, n + this.started - base, n, this.started, this.found, this.sens);
      }
    }
    // The same copy shows as several neighbouring minima, at one lag or both: one event, the closest match.
    this.found.sort((a, b) => a.start - b.start);
    for (const c of this.found) {
      if (this.pending && c.start < this.pending.end) {
        if (c.match < this.pending.match) this.pending = c;
      } else {
        this.flush(out);
        this.pending = c;
      }
    }
    this.found.length = 0;
  }

  /** Grows the ring (rarely: the caller's block size is bounded) to hold a block of `len` from sample n0 and the history before it. */
  private reserve(n0: number, len: number): void {
    if (len + this.history <= this.y.length) return;
    const y = new Float32Array(2 ** Math.ceil(Math.log2(len + this.history)));
    if (this.y.length) for (let n = Math.max(0, n0 - this.history); n < n0; n++) y[n & (y.length - 1)] = this.y[n & this.mask];
    this.y = y;
    this.mask = y.length - 1;
  }

  finish(out: RawEvent[]): void {
    this.flush(out);
  }

  private flush(out: RawEvent[]): void {
    if (!this.pending) return;
    const { kind, start, end, level } = this.pending;
    out.push({ kind, start, end, level });
    this.pending = undefined;
  }
}

/** Biquad coefficients [b0, b1, b2, a1, a2] of a 2nd-order Butterworth low-pass at `f` (cycles per sample). */
function butterworthLowPass(f: number): Float64Array {
  const w = 2 * Math.PI * f;
  const alpha = Math.sin(w) / Math.SQRT2;
  const cw = Math.cos(w);
  const a0 = 1 + alpha;
  return new Float64Array([(1 - cw) / 2 / a0, (1 - cw) / a0, (1 - cw) / 2 / a0, (-2 * cw) / a0, (1 - alpha) / a0]);
}
