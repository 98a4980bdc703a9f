/**
 * What a file's events add up to, for a person sorting a batch: a severity, and a
 * chopped-audio verdict when holes recur at a steady period ("80 ms holes every 170 ms", the
 * pattern of a bot that loses every other packet burst). Pure functions of the events.
 */
import type { DetectEvent } from './analyze';

export type Severity = 'none' | 'low' | 'medium' | 'high';
export const SEVERITY_RANK: Record<Severity, number> = { none: 0, low: 1, medium: 2, high: 3 };

export interface Chopped {
  /** Median hole length and median spacing between hole starts. */
  holeMs: number;
  everyMs: number;
  holes: number;
  fromSec: number;
  toSec: number;
}

export interface FileVerdict {
  severity: Severity;
  /** Audible events per minute: clicks at or above the local level (score >= 0 dB), every splice, dropout, repeat and clipping. */
  audiblePerMin: number;
  /** Audio lost or replayed (dropouts and repeats), milliseconds. */
  lostMs: number;
  chopped: Chopped | null;
}

/**
 * Kinds counted as audible whatever their score. Dropouts, repeats and clipping are all in the
 * bench's audible set; so are splices it finds (a reported splice passed a test stricter than
 * the audible set's oracle z, while its one-sample jump, the score, understates a cut: 20 ms cut
 * from speech scores -17 to +19 dB).
 */
const ALWAYS_AUDIBLE = new Set(['dropout', 'discontinuity', 'repeat', 'clipping']);
/** Audible events per minute at or above which a file is high / medium severity. */
const HIGH_PER_MIN = 6;
const MEDIUM_PER_MIN = 1;
/** Share of the file lost or replayed at or above which it is high / medium severity. */
const HIGH_LOST = 0.01;
const MEDIUM_LOST = 0.001;
/** Chopped: at least this many holes in a row at a steady period... */
const MIN_HOLES = 5;
/** ...each spacing within this fraction of the median one (or within 5 ms)... */
const PERIOD_SLACK = 0.15;
/** Holes in a row that may go unseen (in a pause) without breaking the period. */
const MAX_SKIPPED = 3;
/** ...and the periodic run holds at least this share of the file's holes. */
const MIN_SHARE = 0.5;

export function isAudible(e: DetectEvent): boolean {
  return ALWAYS_AUDIBLE.has(e.kind) || e.score >= 0;
}

export function fileVerdict(events: DetectEvent[], durationSec: number): FileVerdict {
  const minutes = durationSec / 60;
  const audible = events.filter(isAudible).length;
  const audiblePerMin = minutes > 0 ? audible / minutes : audible;
  let lost = 0;
  for (const e of events) if (e.kind === 'dropout' || e.kind === 'repeat') lost += e.endSec - e.startSec;
  const share = durationSec > 0 ? lost / durationSec : 0;
  const chopped = findChopped(events.filter((e) => e.kind === 'dropout'));
  let severity: Severity = 'none';
  if (chopped || audiblePerMin >= HIGH_PER_MIN || share >= HIGH_LOST) severity = 'high';
  else if (audiblePerMin >= MEDIUM_PER_MIN || share >= MEDIUM_LOST) severity = 'medium';
  else if (events.length > 0) severity = 'low';
  return { severity, audiblePerMin: Math.round(audiblePerMin * 100) / 100, lostMs: Math.round(lost * 1000), chopped };
}

/** The longest run of holes whose spacing stays within PERIOD_SLACK of its median, if long enough. */
export function findChopped(holes: DetectEvent[]): Chopped | null {
  const h = holes.slice().sort((a, b) => a.startSec - b.startSec);
  if (h.length < MIN_HOLES) return null;
  const gaps = h.slice(1).map((e, i) => e.startSec - h[i]!.startSec);
  const period = median(gaps);
  // A hole in a pause leaves no dropout (nothing was lost there): spacings of 2-4 periods continue the run.
  const multiple = (g: number) => {
    const k = Math.round(g / period);
    return k >= 1 && k <= MAX_SKIPPED + 1 && Math.abs(g - k * period) <= Math.max(0.005, PERIOD_SLACK * period) ? k : 0;
  };
  const near = (g: number) => multiple(g) > 0;
  let best = { from: 0, to: 0 };
  for (let i = 0; i < gaps.length; ) {
    if (!near(gaps[i]!)) { i++; continue; }
    let j = i;
    while (j < gaps.length && near(gaps[j]!)) j++;
    if (j - i > best.to - best.from) best = { from: i, to: j };
    i = j;
  }
  const run = h.slice(best.from, best.to + 1);
  if (best.to - best.from < MIN_HOLES - 1 || run.length < MIN_SHARE * h.length) return null;
  return {
    holeMs: Math.round(median(run.map((e) => e.endSec - e.startSec)) * 1000),
    everyMs: Math.round(median(gaps.slice(best.from, best.to).filter((g) => multiple(g) === 1)) * 1000),
    holes: run.length,
    fromSec: Math.round(run[0]!.startSec * 1000) / 1000,
    toSec: Math.round(run[run.length - 1]!.endSec * 1000) / 1000,
  };
}

export function choppedText(c: Chopped): string {
  return `${c.holeMs} ms holes every ${c.everyMs} ms (${c.holes} from ${c.fromSec.toFixed(1)} s to ${c.toSec.toFixed(1)} s)`;
}

function median(v: number[]): number {
  const s = v.slice().sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
