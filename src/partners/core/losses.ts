/**
 * Audio a partner will never get, as `partner_gap` events on the meeting
 * timeline, each with its true cause (an outage longer than the buffer, a
 * partner too slow for it, a refused key, the close deadline...). Spans are
 * reported once: a position already reported, or confirmed, is never
 * reported again.
 */
import type { MeetingEvent } from '../../events';
import type { ReplayBuffer } from './replay';

export class Losses {
  private reportedUpTo = 0;
  gapsMs = 0;

  constructor(
    private readonly partner: string,
    private readonly buf: ReplayBuffer,
    private readonly onEvent: (e: MeetingEvent) => void,
  ) {}

  /** Audio between two sent-axis positions will never reach the partner. */
  positions(from: number, to: number, reason: string): void {
    from = Math.max(from, this.reportedUpTo, this.buf.confirmedPos);
    if (to <= from) return;
    this.reportedUpTo = to;
    const start = this.buf.timeOf(from);
    this.span(start, start + (to - from) / this.buf.rate, reason);
  }

  /** A timeline span (seconds) lost for this partner. */
  span(start: number, end: number, reason: string): void {
    if (end <= start) return;
    const durationMs = (end - start) * 1000;
    this.gapsMs += durationMs;
    this.onEvent({
      t: Math.round(start * 1000) / 1000,
      kind: 'partner_gap',
      durationMs: Math.round(durationMs),
      frames: Math.round(durationMs / 20),
      detail: { partner: this.partner, reason },
    });
  }

  /** Everything from here on is accounted for (a failed partner's loss is one span). */
  markReported(pos: number): void {
    this.reportedUpTo = Math.max(this.reportedUpTo, pos);
  }
}
