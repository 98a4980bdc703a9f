/**
 * Repeated blocks in lossy-coded audio. A replayed frame (a stuck or re-sent buffer) is an
 * exact copy in PCM, which repeats.ts finds by hashing; after a codec the copy is only close.
 * This test follows, at the frame lengths capture pipelines replay (10 and 20 ms), the
 * difference between the last lag of audio and the lag before it, relative to their energy:
 * a replayed block makes it dip to near zero for the one window that covers the copy, and
 * not one lag earlier or later. Natural periodic sound (a vowel whose pitch divides the lag,
 * a held note) stays self-similar over many lags, so it fails the "not earlier, not later" test.
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
/** The copy must be audible: RMS of at least -45 dBFS. */
const MIN_RMS_DB = -45;

/** A copy found at one lag, with how close it was (the difference ratio). */
type Candidate = RawEvent & { match: number };

class LagFollower {
  // Running sums over the last L samples: x^2, x[-L]^2 and (x - x[-L])^2, and a ring of past ratios.
  private sxx = 0;
  private syy = 0;
  private sdd = 0;
  /** ratio at each of the last 2L+1 positions (ring), to test one lag before and after the dip. */
  private readonly ratios: Float32Array;
  private readonly levels: Float32Array;

  constructor(readonly lag: number, private readonly minEnergy: number) {
    this.ratios = new Float32Array(2 * lag + 1).fill(1);
    this.levels = new Float32Array(2 * lag + 1);
  }

  /**
   * Takes sample n (counted from the channel's first scanned sample, `origin` in absolute terms;
   * buffer index i, at least 2L samples of history behind it once n >= 2L); reports a copy
   * whose window ended L samples ago.
   */
  step(x: Float32Array, i: number, n: number, origin: number, out: Candidate[], sens: number): void {
    const L = this.lag;
    const v = x[i];
    const u = x[i - L];
    const d = v - u;
    this.sxx += v * v;
    this.syy += u * u;
    this.sdd += d * d;
    if (n >= 2 * L) {
      const vo = x[i - L];
      const uo = x[i - 2 * L];
      const dd = vo - uo;
      this.sxx -= vo * vo;
      this.syy -= uo * uo;
      this.sdd -= dd * dd;
    }
    const R = this.ratios.length;
    const e = this.sxx + this.syy;
    const ratio = e > this.minEnergy * L ? this.sdd / e : 1;
    this.ratios[n % R] = ratio;
    this.levels[n % R] = this.sxx;
    if (n < 3 * L) return;
    // The candidate is the window that ended L samples ago: a local minimum, low, with high ratios a lag either side.
    const c = n - L;
    const rc = this.ratios[c % R];
    if (rc > MATCH_MAX * sens) return;
    if (this.ratios[(c - 1) % R] < rc || this.ratios[(c + 1) % R] <= rc) return;
    const before = this.ratios[(c - L) % R];
    const after = this.ratios[n % R];
    if (before < AROUND_MIN / sens || after < AROUND_MIN / sens) return;
    out.push({ kind: 'repeat', start: origin + c - L + 1, end: origin + c + 1, level: Math.sqrt(this.levels[c % R] / L), match: rc });
  }
}

export class ReplayTracker {
  private readonly followers: LagFollower[];
  private readonly found: Candidate[] = [];
  /** The best copy of the overlapping ones seen so far, held until a later one no longer overlaps it. */
  private pending: Candidate | undefined;
  private started = -1;

  private readonly sens: number;

  constructor(sampleRate: number, sensitivity: number) {
    // The square root: natural periodic sound sits just past these thresholds, so they move
    // gently (at sensitivity 4 the full scaling turned a steady voice into 22 repeats in 14 s).
    this.sens = Math.sqrt(sensitivity);
    const minEnergy = 10 ** (MIN_RMS_DB / 10);
    this.followers = LAGS_MS.map((ms) => new LagFollower(Math.round((ms * sampleRate) / 1000), minEnergy));
  }

  /** How far back this tracker reads. */
  static lookback(sampleRate: number): number {
    return 2 * Math.round((Math.max(...LAGS_MS) * sampleRate) / 1000) + 4;
  }

  scan(x: Float32Array, base: number, from: number, to: number, out: RawEvent[]): void {
    if (this.started < 0) this.started = from;
    for (const f of this.followers) {
      for (let n = Math.max(from, this.started + f.lag); n < to; n++) f.step(x, n - base, n - this.started, this.started, this.found, this.sens);
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
