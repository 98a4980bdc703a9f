/**
 * The deadline clock: when should frame k's last sample have arrived?
 *
 * due(k) = anchor + (k + 1) * 20 ms. The anchor is set by the first frame and
 * then follows the earliest arrivals seen, but only at a bounded rate
 * (MAX_DRIFT_PPM) after a warm-up: a capture clock that runs slightly slow or
 * fast against CLOCK_MONOTONIC is tracked, while a stall (a sudden jump) is
 * measured as lateness instead of being absorbed.
 */
import { FRAME_NS } from './frame';

/** Capture clocks drift by tens of ppm; 500 ppm tracks any sane device. */
const MAX_DRIFT_PPM = 500;
const MAX_STEP_NS = (FRAME_NS * MAX_DRIFT_PPM) / 1e6; // 10 µs per frame
/** During the first second the anchor may move freely to the earliest arrival (start-up jitter). */
const WARMUP_FRAMES = 50;

export class DeadlineClock {
  private anchorNs = NaN;

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
    const candidate = arrivalNs - (seq + 1) * FRAME_NS;
    if (!this.started) this.anchorNs = candidate;
    else if (seq < WARMUP_FRAMES) this.anchorNs = Math.min(this.anchorNs, candidate);
    else if (candidate < this.anchorNs) this.anchorNs -= Math.min(this.anchorNs - candidate, MAX_STEP_NS);
    else this.anchorNs += Math.min(candidate - this.anchorNs, MAX_STEP_NS);
    const late = arrivalNs - this.dueNs(seq);
    return late > 0 ? late : 0;
  }
}
