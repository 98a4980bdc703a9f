/**
 * Dropouts in lossy-coded audio. A codec (Opus, in earshot's own recordings and in most meeting
 * archives) turns a run of lost samples into low-level noise 35-50 dB under the audio around it,
 * with edges smeared over a few milliseconds, so the exact-silence test (dropouts.ts) never
 * fires. This one works on 1 ms block levels: the level falls by at least DROP_DB within
 * EDGE_MS, stays under the level before it, then rises by at least DROP_DB within EDGE_MS, and
 * at its deepest sits DEPTH_DB under both sides. Natural sound does not fall that fast: a
 * formant rings down at about 3 dB/ms, a drum's tail more slowly; sound that is cut does.
 * Run only on audio decoded from a lossy codec: in PCM a hole is exact silence, which
 * dropouts.ts finds with exact edges, and gated material (drum loops cut to digital silence)
 * would make this test fire where that one rightly does not.
 *
 * A second tracker (`shallow`) takes holes the codec fills only 20-26 dB under the audio (at
 * 16-32 kb/s, or a few milliseconds long): it opens on smaller falls, and the audio must read as
 * one sound cut and resumed - not decaying into the hole, at the same level after it as before -
 * and the fill must be the codec's, whose level wanders as it rings down, not a pause's steady
 * floor (see isShallowHole). Deep holes must stay low, not touch bottom once (DEEP_MEDIAN_DB). It runs beside the deep one rather than in it: opening on smaller
 * falls moves where the deep holes start (bench: deep holes found 2014 -> 1948 of 2559).
 */
import type { RawEvent } from './events';

/** Block length: 2 ms, so that the quiet between two pitch pulses of a high voice is no hole. */
const BLOCK_MS = 2;
/** The fall (and the rise) happens within this many milliseconds... */
const EDGE_MS = 6;
/** ...and spans at least this many dB. */
const DROP_DB = 24;
/** The shallow tracker opens a candidate hole on a fall of this many dB within EDGE_MS (its holes' falls are 20 dB). */
const SHALLOW_OPEN_DB = 16;
/** While in the hole, the level stays this far under the level before it. */
const STAY_DB = 15;
/**
 * A fresh fall from this far over the hole's floor restarts the hole there (the first fall was a
 * natural one) - unless the hole is already deep enough to be one (DEPTH_DB): at 16-32 kb/s the
 * codec fills a hole with noise that swells and falls again inside it, and a restart there moved
 * the reported start past the ±10 ms a listener's timeline needs. Bench (Opus copies, tuning part,
 * --quick): dropouts found 530 -> 549 of 731, false dropouts in the injected copies 89 -> 94.
 */
const FLOOR_SPREAD_DB = 20;
/**
 * The hole's deepest block sits this far under both sides. Set on the bench's Opus copies
 * (tuning part, --quick): 2 ms blocks and 26 dB found 73 % of the dropouts with 2.5 false
 * holes/min on the clean copies, nearly all hard cuts in drum loops (1 ms blocks: pitch-period
 * dips in 8 kHz speech came out as holes; 30 dB: 62 %, 1.8/min).
 */
const DEPTH_DB = 26;
/**
 * The shallow tracker's holes (see the file head): falls of SHALLOW_FALL_DB and rises of DROP_DB
 * within EDGE_MS; deepest block SHALLOW_DEPTH_DB and median block SHALLOW_MEDIAN_DB under both
 * sides; the last 6 ms before the fall no more than DECAY_MAX_DB under the 14 ms before them;
 * sides within SIDE_SPREAD_DB of each other; block levels in the hole spread by at least
 * FILL_SPREAD_DB (standard deviation). Chosen on candidates scored offline (tuning part), then
 * the bench (Opus copies, tuning part): dropouts found 2014 -> 2070 of 2559, false dropouts in
 * the injected copies 58 -> 63, false events on the clean copies 59 -> 60; a fill spread of 6 dB:
 * 2097, 68 and 66.
 */
/**
 * A deep hole's median block must also sit this far under the quieter side: a lost buffer's fill
 * stays low, while a drum loop's or a voice's own fast dip touches bottom for a block or two and
 * climbs back. Bench (Opus copies, tuning part): false events on the clean copies 60 -> 50 (drums
 * 46 -> 39), dropouts found 2070 -> 2039 of 2559, false ones in the injected copies 63 -> 60; 20 dB:
 * 41 clean and 2014 found, but it loses a 12 ms hole the codec fills in two falls (the test).
 */
const DEEP_MEDIAN_DB = 16;
const SHALLOW_FALL_DB = 20;
const SHALLOW_DEPTH_DB = 20;
const SHALLOW_MEDIAN_DB = 18;
const DECAY_MAX_DB = 4;
const SIDE_SPREAD_DB = 6;
const FILL_SPREAD_DB = 8;
/** Blocks of context kept before a hole (for the decay test) and looked at after it (for the rise). */
const BEFORE_BLOCKS = 10;
const AFTER_BLOCKS = 3;
/** The audio either side must be at least this loud (dBFS): a hole in near-silence is not heard. */
const MIN_SIDE_DB = -50;
/** Shorter holes are left to the click/splice test; longer ones are pauses, not dropouts. */
const MIN_HOLE_MS = 2;
const MAX_HOLE_MS = 250;

export class DipTracker {
  private readonly block: number;
  private readonly edge: number;
  private readonly minHole: number;
  private readonly maxHole: number;
  private readonly depth: number;
  /** How much the sensitivity lowers the depth thresholds (dB). */
  private readonly sensDb: number;
  /** The fall (dB within EDGE_MS) that opens a candidate hole, or restarts one. */
  private readonly openDb: number;
  /** Levels (dB) of the last EDGE blocks, a ring. */
  private readonly recent: Float64Array;
  /** Levels (dB) of every block of the longest hole and its context, a ring of 2^k. */
  private readonly levels: Float64Array;
  private acc = 0;
  private fill = 0;
  private k = 0; // blocks completed
  // The hole being followed (block indices), or start < 0.
  private start = -1;
  private pre = 0;
  private deepest = 0;
  private lastLow = 0;
  private riseEnd = -1;
  private post = -Infinity;

  /** `shallow`: the second tracker, for shallow holes only (see the file head). */
  constructor(sampleRate: number, sensitivity: number, private readonly shallow = false) {
    this.openDb = shallow ? SHALLOW_OPEN_DB : DROP_DB;
    this.block = Math.max(4, Math.round((BLOCK_MS * sampleRate) / 1000));
    this.edge = Math.round(EDGE_MS / BLOCK_MS);
    this.minHole = Math.round(MIN_HOLE_MS / BLOCK_MS);
    this.maxHole = Math.round(MAX_HOLE_MS / BLOCK_MS);
    this.sensDb = 20 * Math.log10(sensitivity);
    this.depth = DEPTH_DB - this.sensDb;
    this.recent = new Float64Array(this.edge).fill(-200);
    this.levels = new Float64Array(2 ** Math.ceil(Math.log2(this.maxHole + BEFORE_BLOCKS + AFTER_BLOCKS + this.edge + 4)));
  }

  scan(x: Float32Array, base: number, from: number, to: number, out: RawEvent[]): void {
    const B = this.block;
    let acc = this.acc;
    let fill = this.fill;
    for (let i = from - base, end = to - base; i < end; i++) {
      acc += x[i] * x[i];
      if (++fill === B) {
        this.onBlock(10 * Math.log10(acc / B + 1e-20), out);
        acc = 0;
        fill = 0;
      }
    }
    this.acc = acc;
    this.fill = fill;
  }

  finish(out: RawEvent[]): void {
    if (this.start >= 0 && this.riseEnd >= 0) this.decide(out, this.k - 1);
  }

  private onBlock(d: number, out: RawEvent[]): void {
    const k = this.k++;
    const E = this.edge;
    this.levels[k & (this.levels.length - 1)] = d;
    if (this.start >= 0) {
      if (this.riseEnd < 0) {
        const [max, at] = this.recentMax(k);
        const deepAlready = this.pre - this.deepest >= this.depth && k - this.start >= this.minHole; // see FLOOR_SPREAD_DB
        if (!deepAlready && d <= this.pre - STAY_DB && max > this.deepest + FLOOR_SPREAD_DB && max >= MIN_SIDE_DB && d <= max - this.openDb) {
          this.open(k, at, max, d);
        } else if (d <= this.pre - STAY_DB) {
          if (d < this.deepest) this.deepest = d;
          this.lastLow = k;
          if (k - this.start > this.maxHole) this.start = -1; // a pause, not a hole
        } else {
          this.riseEnd = k + E; // the rise must complete within EDGE blocks of the last low one
          this.post = d;
        }
      } else {
        if (d > this.post) this.post = d;
        if (k >= this.riseEnd) this.decide(out, k);
      }
    }
    if (this.start < 0) {
      const [max, at] = this.recentMax(k);
      if (max >= MIN_SIDE_DB && d <= max - this.openDb) this.open(k, at, max, d);
    }
    this.recent[k % E] = d;
  }

  /** The loudest of the EDGE blocks before block k, and its index. */
  private recentMax(k: number): [number, number] {
    let max = -200;
    let at = 0;
    for (let j = 1; j <= this.edge && k - j >= 0; j++) {
      const v = this.recent[(k - j) % this.edge];
      if (v > max) { max = v; at = k - j; }
    }
    return [max, at];
  }

  /** A fall at block k from level `pre` (block `at`): the hole starts right after `at`. */
  private open(k: number, at: number, pre: number, d: number): void {
    this.start = at + 1;
    this.pre = pre;
    this.deepest = d;
    this.lastLow = k;
    this.riseEnd = -1;
    this.post = -Infinity;
  }

  /** Decides the candidate hole whose rise has been followed up to the newest block (`last`). */
  private decide(out: RawEvent[], last: number): void {
    const side = Math.min(this.pre, this.post);
    const holeBlocks = this.lastLow + 1 - this.start;
    let ok = this.post >= MIN_SIDE_DB && holeBlocks >= this.minHole && holeBlocks <= this.maxHole;
    if (ok) ok = this.shallow ? this.isShallowHole(this.profile(last)) : this.post - this.deepest >= DROP_DB && side - this.deepest >= this.depth &&
      this.profile(last).medianDepth >= DEEP_MEDIAN_DB - this.sensDb;
    if (ok) {
      const B = this.block;
      out.push({ kind: 'dropout', start: this.start * B, end: (this.lastLow + 1) * B, level: 10 ** (this.pre / 20) });
    }
    this.start = -1;
  }

  /** The candidate's shape in dB (see the file head and the shallow route's constants). */
  private profile(last: number): HoleProfile {
    const at = (b: number) => this.levels[b & (this.levels.length - 1)];
    const s = this.start;
    const e = this.lastLow + 1;
    const hole: number[] = [];
    for (let b = s; b < e; b++) hole.push(at(b));
    const before: number[] = [];
    for (let b = Math.max(0, s - BEFORE_BLOCKS); b < s; b++) before.push(at(b));
    const after: number[] = [];
    for (let b = e; b < Math.min(e + AFTER_BLOCKS, last + 1); b++) after.push(at(b));
    const side = Math.min(this.pre, this.post);
    const mean = hole.reduce((a, v) => a + v, 0) / hole.length;
    const sorted = [...hole].sort((a, b) => a - b);
    const median = sorted.length % 2 ? sorted[sorted.length >> 1] : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
    const lastBefore = before.length ? Math.max(...before.slice(-3)) : this.pre;
    return {
      fall: lastBefore - Math.min(...hole.slice(0, 3)),
      rise: (after.length ? Math.max(...after) : this.post) - Math.min(...hole.slice(-3)),
      depth: side - this.deepest,
      medianDepth: side - median,
      decay: before.length > 4 ? lastBefore - Math.max(...before.slice(0, -3)) : 0,
      sideSpread: Math.abs(this.pre - this.post),
      fillSpread: Math.sqrt(hole.reduce((a, v) => a + (v - mean) ** 2, 0) / hole.length),
    };
  }

  /** A shallower codec-filled hole in one ongoing sound (the shallow route, see the file head). */
  private isShallowHole(p: HoleProfile): boolean {
    return p.fall >= SHALLOW_FALL_DB && p.rise >= DROP_DB && p.depth >= SHALLOW_DEPTH_DB - this.sensDb &&
      p.medianDepth >= SHALLOW_MEDIAN_DB - this.sensDb && p.decay >= -DECAY_MAX_DB && p.sideSpread <= SIDE_SPREAD_DB &&
      p.fillSpread >= FILL_SPREAD_DB;
  }
}

/** A candidate hole's shape, in dB: falls and rises over EDGE_MS, depths under the quieter side. */
interface HoleProfile {
  /** From the loudest of the 3 blocks before the hole to the lowest of its first 3. */
  fall: number;
  /** From the lowest of the hole's last 3 blocks to the loudest of the 3 after it. */
  rise: number;
  /** The deepest block and the median block under the quieter side. */
  depth: number;
  medianDepth: number;
  /** The 3 blocks before the hole against the 7 before them: negative when the sound was decaying into it. */
  decay: number;
  /** The sides' levels apart. */
  sideSpread: number;
  /** Standard deviation of the hole's block levels. */
  fillSpread: number;
}
