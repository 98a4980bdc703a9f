/**
 * The deadline clock: when should frame k's last sample have arrived?
 *
 * due(k) = anchor + (k + 1) * 20 ms. The anchor follows the earliest arrival
 * phase seen (by at most 1 ms per frame: a big jump early is a burst, which the
 * audio loop handles before asking), so a frame is measured late against the
 * best the source has shown. If a whole second of frames arrives later than the
 * offset is persistent (the source's phase moved, its clock drifted, or a
 * start-up backlog misplaced the first anchor): the clock moves to it. A stall
 * shows up as lateness because the frames around it are still on time.
 */
import { FRAME_NS } from './frame';

/** Frames per re-anchoring window: one second. */
const WINDOW_FRAMES = 50;
/** How far one frame may pull the anchor earlier. */
const MAX_STEP_EARLIER_NS = 1e6;

export class DeadlineClock {
  private anchorNs = NaN;
  private windowMinNs = Infinity;
  private windowFrames = 0;

  get started(): boolean {
    return !Number.isNaN(this.anchorNs);
  }

  /** When frame `seq`'s last sample is due. */
  dueNs(seq: number): number {
    return this.anchorNs + (seq + 1) * FRAME_NS;
  }

  /** The source is ahead of us (e.g. a capture buffer released in a burst): follow it. */
  reanchor(seq: number, arrivalNs: number): void {
    this.anchorNs = arrivalNs - (seq + 1) * FRAME_NS;
  }

  /** Records that frame `seq` completed at `arrivalNs`; returns how late it was (ns, >= 0). */
  observe(seq: number, arrivalNs: number): number {
    const phase = arrivalNs - (seq + 1) * FRAME_NS;
    if (!this.started) this.anchorNs = phase;
    else if (phase < this.anchorNs) this.anchorNs -= Math.min(this.anchorNs - phase, MAX_STEP_EARLIER_NS);
    if (phase < this.windowMinNs) this.windowMinNs = phase;
    if (++this.windowFrames === WINDOW_FRAMES) {
      if (this.windowMinNs > this.anchorNs) this.anchorNs = this.windowMinNs;
      this.windowMinNs = Infinity;
      this.windowFrames = 0;
    }
    return Math.max(0, arrivalNs - this.dueNs(seq));
  }
}
