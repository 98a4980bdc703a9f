/**
 * Dropouts: runs of exact or near-digital silence with abrupt edges. Real gated or faded
 * silence decays into the floor; a lost buffer (or inserted silence) cuts from sound to
 * nothing and back, so both edges carry signal right up to the run.
 */
import type { RawEvent } from './events';

/** A sample is "digitally silent" at or below 1.5 LSB of 16-bit audio (-86 dBFS): exact zeros and ±1 LSB dither. */
export const SILENCE_LEVEL = 1.5 / 32768;
/** Shortest run reported: 2 ms (the shortest injected dropout is 2.5 ms; natural zero runs in quiet speech are shorter than 3.5 ms but sit in near-silence, which the edge test rejects). */
const MIN_DROPOUT_MS = 2;
/** Edge window: the RMS of this much audio right before and right after the run. */
const EDGE_MS = 1;
/**
 * Both edges must carry at least this RMS (-60 dBFS, ~33 LSB at 16 bits): audio that fades into
 * silence is within a few LSB of zero when it gets there, audio that is cut is not.
 */
const EDGE_MIN_DB = -60;

export class DropoutTracker {
  private readonly minLen: number;
  private readonly edge: number;
  private readonly edgeMin: number;
  private runStart = -1;
  private beforeRms = 0;
  private pendingStart = -1;
  private pendingEnd = -1;
  private pendingBefore = 0;

  constructor(sampleRate: number, private readonly level: number, sensitivity: number) {
    this.minLen = Math.max(2, Math.round((MIN_DROPOUT_MS * sampleRate) / 1000));
    this.edge = Math.max(4, Math.round((EDGE_MS * sampleRate) / 1000));
    this.edgeMin = 10 ** (EDGE_MIN_DB / 20) / sensitivity;
  }

  /** Scans absolute samples [from, to) of `x` (whose index 0 is absolute `base`). */
  scan(x: Float32Array, base: number, from: number, to: number, out: RawEvent[]): void {
    const level = this.level;
    for (let n = from; n < to; n++) {
      if (this.runStart < 0 && this.pendingEnd < 0) {
        // Idle: skip to the next silent sample in a tight loop.
        let i = n - base;
        const end = to - base;
        while (i < end && (x[i] > level || x[i] < -level)) i++;
        n = i + base;
        if (n >= to) break;
      }
      if (this.pendingEnd >= 0 && n >= this.pendingEnd + this.edge) this.settle(x, base, out);
      const v = x[n - base];
      if (v <= level && v >= -level) {
        if (this.runStart < 0) {
          this.runStart = n;
          this.beforeRms = n - this.edge >= base ? edgeRms(x, n - this.edge - base, this.edge) : 0;
        }
      } else if (this.runStart >= 0) {
        if (n - this.runStart >= this.minLen && this.pendingEnd < 0) {
          this.pendingStart = this.runStart;
          this.pendingEnd = n;
          this.pendingBefore = this.beforeRms;
        }
        this.runStart = -1;
      }
    }
  }

  /** End of input: a run still waiting for its after-edge, or still silent, is not a dropout. */
  finish(x: Float32Array, base: number, total: number, out: RawEvent[]): void {
    if (this.pendingEnd >= 0 && total >= this.pendingEnd + this.edge) this.settle(x, base, out);
  }

  private settle(x: Float32Array, base: number, out: RawEvent[]): void {
    const after = edgeRms(x, this.pendingEnd - base, this.edge);
    const edgeLevel = Math.min(after, this.pendingBefore);
    if (edgeLevel >= this.edgeMin) {
      out.push({ kind: 'dropout', start: this.pendingStart, end: this.pendingEnd, level: edgeLevel });
    }
    this.pendingEnd = -1;
  }
}

function edgeRms(x: Float32Array, from: number, n: number): number {
  let s = 0;
  for (let i = from; i < from + n; i++) s += x[i] * x[i];
  return Math.sqrt(s / n);
}
