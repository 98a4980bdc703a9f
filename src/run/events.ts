/**
 * The one path every meeting event takes, wherever it was found (frame flags,
 * ingest restarts, partner gaps, disk overruns): counted for metrics, logged,
 * and handed to the sinks that record events (events.jsonl).
 */
import type { Logger } from 'pino';
import type { EventKind, MeetingEvent } from '../events';
import type { FrameSink } from '../sinks/sink';

export class MeetingEvents {
  readonly counts: Partial<Record<EventKind, number>> = {};
  private readonly sinks: FrameSink[] = [];

  constructor(private readonly log: Logger) {}

  /** Sinks whose `event()` receives every event from now on. */
  recordTo(sinks: FrameSink[]): void {
    this.sinks.push(...sinks.filter((s) => s.event));
  }

  report = (e: MeetingEvent): void => {
    this.counts[e.kind] = (this.counts[e.kind] ?? 0) + 1;
    this.log.warn({ event: e }, `${e.kind} at ${e.t.toFixed(2)} s (${e.durationMs} ms)`);
    for (const s of this.sinks) s.event!(e);
  };
}
