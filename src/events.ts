/**
 * Events on the meeting timeline (DESIGN.md): one JSON object per line in
 * events.jsonl, also logged and counted.
 */
export type EventKind =
  | 'deadline_miss'
  | 'dropout'
  | 'overrun'
  | 'late_audio_dropped'
  | 'egress_overrun'
  | 'partner_gap'
  /** A partner message failed validation and was ignored (detail: partner, error, count). */
  | 'partner_bad_message'
  /** A partner stopped delivering (detail: partner, problem, reason): key rejected, never read, no results. */
  | 'partner_down'
  | 'ingest_restart'
  | 'sink_overrun';

export interface MeetingEvent {
  /** Seconds on the meeting timeline (frame k starts at k * 0.02 s). */
  t: number;
  kind: EventKind;
  durationMs: number;
  frames: number;
  detail?: Record<string, unknown>;
}
