/**
 * The lossy-coded burst rule of the click/splice detector (impulses.ts). A codec smears a click
 * or a splice over a millisecond or more: no pulse fits and no step stands, so the click and
 * splice tests reject it, but the burst still towers over the background, alone, with the sound
 * either side unchanged. On lossy input only, a candidate those tests rejected is judged here
 * from what the test measured on it. Apart from the detector because it is a separate, coarser
 * rule that PCM input never uses.
 */
import type { RawEvent } from './events';

/**
 * Lossy-coded input only: a candidate whose two-sided peak reaches BURST_Z robust sigmas,
 * BURST_RIVAL times any other in the window, with the sound either side unchanged (isolation
 * within BURST_ISOLATION), is a click or splice the codec smeared. First set at 30 on the
 * bench's Opus copies (tuning part, --quick). On the full bench at 30 it found 4 % of the
 * audible clicks and 3 % of the splices, with its reports wrong about two times in three
 * (click precision 35 %), most of the wrong ones on drum transients: 11 of the 60 false events
 * on all clean coded material (1.16/min). At 70: clicks F1 0.071 -> 0.051, splices 0.045 ->
 * 0.030, click precision 59 %, false events 0.98/min (drums 17.1 -> 13.6/min, held-out
 * unchanged); 45 gave 1.08/min. (Measured before 8dde47a, when the held-out speech was still the
 * English prompts read back: the drum figures stand, the rates are the old corpus's.)
 */
export const BURST_Z = 70;
const BURST_RIVAL = 1.5;
const BURST_ISOLATION = 1.5;
/** Two-sided peak over same-sample overlap at or above this: the burst is reported as a splice. */
const BURST_SPLICE_RATIO = 1.7;

export class BurstRule {
  // What the test measured on the current candidate (a test that stops early leaves z or rival
  // as reset, which fails the rule).
  /** The two-sided residual peak, in robust sigmas at sensitivity 1. */
  z = 0;
  /** The largest two-sided residual elsewhere in the window. */
  rival = Infinity;
  /** The larger isolation ratio (forward after, backward before). */
  iso = Infinity;
  /** The same-sample overlap of the one-sided residuals. */
  overlap = 0;
  /** Where the overlap peaked. */
  at = 0;
  /** The jump's level at the peak. */
  jump = 0;

  /** Before each candidate's test. */
  reset(): void {
    this.rival = Infinity;
    this.z = 0;
  }

  /**
   * After the click and splice tests rejected the candidate: a burst is reported as one or the
   * other. Which it was cannot be told well after coding; a burst as strong in one one-sided
   * residual as in the two-sided one was most likely a click.
   */
  judge(sens: number, out: RawEvent[]): void {
    const z = this.z * sens;
    if (z >= BURST_Z && this.z >= BURST_RIVAL * this.rival && this.iso <= BURST_ISOLATION) {
      const kind = this.z >= BURST_SPLICE_RATIO * this.overlap ? 'discontinuity' : 'click';
      out.push({ kind, start: this.at, end: kind === 'click' ? this.at + 1 : this.at, level: this.jump });
    }
  }
}
