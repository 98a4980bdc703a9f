/**
 * Events on the meeting timeline (DESIGN.md): one JSON object per line in
 * events.jsonl, also logged, counted in metrics and emitted by the library's
 * meeting handle.
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
  | 'sink_overrun'
  /** The browser concealed a participant's audio (packets lost or late upstream of the capture): WebRTC's own receive statistics. */
  | 'upstream_loss'
  /** A source that should deliver audio (a live participant's track, the meeting's input) delivered nothing or digital silence. */
  | 'capture_silent'
  /** A recording file could not be written (ENOSPC, EIO...): the recording stops there, the meeting goes on. */
  | 'disk_error'
  /** A best-effort component (a sink, the metrics, the heartbeat) failed and was switched off for the rest of the meeting. */
  | 'component_error';

export interface MeetingEvent {
  /** The meeting this happened in (stamped when the event is reported). */
  meetingId?: string;
  /** Seconds on the meeting timeline (frame k starts at k * 0.02 s). */
  t: number;
  /** Wall clock of `t` (ISO 8601), for paced input: the timeline origin plus `t`. */
  at?: string;
  kind: EventKind;
  durationMs: number;
  frames: number;
  /** The participant the event is about (per-participant capture); absent for the meeting as a whole. */
  participant?: string;
  detail?: Record<string, unknown>;
}
