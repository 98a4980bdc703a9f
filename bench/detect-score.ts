/**
 * One-to-one matching of detected events against the injected truth: a detection matches a
 * truth event of the same kind whose start is within the kind's tolerance; each truth event
 * and each detection is used at most once (closest pairs first).
 */
import { ChannelAnalyzer, type DetectEvent, type DetectKind } from '../src/detect/analyze';

/** Block size the benchmarks feed the analyzer with (the CLI's reader uses its own). */
export const BLOCK = 4096;

/** The analyzer as the benchmarks run it: one channel, pushed in BLOCK-sized pieces. */
export function analyze(x: Float32Array, fs: number, block = BLOCK, lossy = false): DetectEvent[] {
  const a = new ChannelAnalyzer(fs, 0, { lossy });
  for (let i = 0; i < x.length; i += block) a.push(x.subarray(i, Math.min(x.length, i + block)));
  return a.finish();
}

export const KINDS: DetectKind[] = ['click', 'dropout', 'discontinuity', 'repeat', 'clipping'];

/** Start-time tolerance: ±5 ms for clicks, ±10 ms for every other kind (the rule). */
export function toleranceSec(kind: DetectKind): number {
  return kind === 'click' ? 0.005 : 0.01;
}

export interface Interval {
  kind: DetectKind;
  startSec: number;
  endSec: number;
  variant?: string;
  /** Clicks: dB re local RMS; splices: ms lost (for the recall-by-size breakdown). */
  size?: number;
  /** Clicks: matched-filter SNR against the clean source (see detect-oracle). */
  oracleZ?: number;
  /** Clicks: dB re the 20 ms before. */
  levelDb?: number;
  /** In the audible set (see detect-inject); undefined counts as audible. */
  audible?: boolean;
}

export interface Tally {
  tp: number;
  fp: number;
  fn: number;
}

export function emptyTally(): Tally {
  return { tp: 0, fp: 0, fn: 0 };
}

export interface MatchResult {
  perKind: Map<DetectKind, Tally>;
  /** The audible set: only audible truth counts as TP/FN; detections of inaudible truth are neither right nor wrong. */
  audible: Map<DetectKind, Tally>;
  missed: Interval[];
  false: Interval[];
}

/**
 * `anyKind` ignores kinds (for a detector like adeclick that only knows "something was
 * repaired here"); the tolerance is then the truth event's.
 */
export function match(truth: Interval[], found: Interval[], anyKind = false): MatchResult {
  const pairs: [number, number, number][] = [];
  for (let t = 0; t < truth.length; t++) {
    for (let d = 0; d < found.length; d++) {
      if (!anyKind && truth[t].kind !== found[d].kind) continue;
      const dist = Math.abs(truth[t].startSec - found[d].startSec);
      if (dist <= toleranceSec(truth[t].kind)) pairs.push([dist, t, d]);
    }
  }
  pairs.sort((a, b) => a[0] - b[0]);
  const usedT = new Uint8Array(truth.length);
  const usedD = new Uint8Array(found.length);
  const perKind = new Map<DetectKind, Tally>(KINDS.map((k) => [k, emptyTally()]));
  const audible = new Map<DetectKind, Tally>(KINDS.map((k) => [k, emptyTally()]));
  const heard = (e: Interval) => e.audible !== false;
  for (const [, t, d] of pairs) {
    if (usedT[t] || usedD[d]) continue;
    usedT[t] = usedD[d] = 1;
    perKind.get(truth[t].kind)!.tp++;
    if (heard(truth[t])) audible.get(truth[t].kind)!.tp++;
  }
  const missed: Interval[] = [];
  const falses: Interval[] = [];
  truth.forEach((e, t) => {
    if (usedT[t]) return;
    perKind.get(e.kind)!.fn++;
    if (heard(e)) audible.get(e.kind)!.fn++;
    missed.push(e);
  });
  found.forEach((e, d) => {
    if (usedD[d]) return;
    perKind.get(e.kind)!.fp++;
    audible.get(e.kind)!.fp++;
    falses.push(e);
  });
  return { perKind, audible, missed, false: falses };
}

export function add(into: Tally, t: Tally): void {
  into.tp += t.tp;
  into.fp += t.fp;
  into.fn += t.fn;
}

export function prf(t: Tally): { p: number; r: number; f1: number } {
  const p = t.tp + t.fp ? t.tp / (t.tp + t.fp) : 1;
  const r = t.tp + t.fn ? t.tp / (t.tp + t.fn) : 1;
  return { p, r, f1: p + r ? (2 * p * r) / (p + r) : 0 };
}
