/**
 * The one path every meeting event takes, wherever it was found (frame flags,
 * ingest restarts, partner gaps, disk errors): stamped with the meeting id and
 * its wall-clock time, scrubbed of the input's credentials, counted for
 * metrics, logged, written to events.jsonl and handed to the library's
 * listeners.
 */
import type { Logger } from 'pino';
import type { EventKind, MeetingEvent } from '../events';
import { scrubObject, type Secrets } from '../logging/redact';
import type { FrameSink } from '../sinks/sink';

export interface MeetingEventsOptions {
  meetingId?: string;
  /** Known secrets (the input's credentials) masked in every event. */
  secrets?: Secrets;
  /** Wall-clock ms of timeline second 0, once known and when the timeline runs at wall-clock speed. */
  origin?: () => number | undefined;
}

export class MeetingEvents {
  readonly counts: Partial<Record<EventKind, number>> = {};
  private readonly listeners: Array<(e: MeetingEvent) => void> = [];

  constructor(
    private readonly log: Logger,
    private readonly o: MeetingEventsOptions = {},
  ) {}

  /** `fn` receives every event from now on (events.jsonl, the library handle). */
  onEvent(fn: (e: MeetingEvent) => void): void {
    this.listeners.push(fn);
  }

  /** Sinks whose `event()` receives every event from now on. */
  recordTo(sinks: FrameSink[]): void {
    for (const s of sinks) if (s.event) this.onEvent((e) => s.event!(e));
  }

  report = (event: MeetingEvent): void => {
    const origin = this.o.origin?.();
    const e: MeetingEvent = scrubObject(
      {
        ...(this.o.meetingId && { meetingId: this.o.meetingId }),
        t: event.t,
        ...(origin !== undefined && { at: new Date(origin + event.t * 1000).toISOString() }),
        kind: event.kind,
        durationMs: event.durationMs,
        frames: event.frames,
        ...(event.participant !== undefined && { participant: event.participant }),
        ...(event.detail && { detail: event.detail }),
      },
      3,
      this.o.secrets,
    );
    this.counts[e.kind] = (this.counts[e.kind] ?? 0) + 1;
    const level = e.kind === 'disk_error' || e.kind === 'component_error' ? 'error' : 'warn';
    this.log[level]({ event: e }, `${e.kind} at ${e.t.toFixed(2)} s (${e.durationMs} ms)`);
    for (const fn of this.listeners) fn(e);
  };
}
