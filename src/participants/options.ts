/** The options of a participants meeting (meeting.ts), and their defaults. */
import pino, { type Logger } from 'pino';
import type { ConcealMode } from '../realtime/conceal';
import type { SchedRequest } from '../realtime/sched';
import type { RtStats } from '../realtime/stats';
import { MeetingEvents } from '../run/events';
import { Recorder } from '../sinks/recorder';
import type { FrameSink } from '../sinks/sink';

export interface PageMeetingOptions {
  /** Where the page receiver listens (loopback); port 0 picks a free one. */
  host?: string;
  port?: number;
  /** The meeting's page token; a random one when omitted. */
  token?: string;
  log?: Logger;
  /** Where every event goes (a MeetingEvents of `log` when omitted). */
  events?: MeetingEvents;
  /** Sinks of the mixed meeting (recorder, partners); a recorder in `recordDir` when omitted. */
  sinks?: FrameSink[];
  /** Sinks for one participant's stream (e.g. participantPartners: a partner connection per participant). */
  participantSinks?: (participant: string) => FrameSink[];
  /** Record the mix (audio.opus, events.jsonl) and each participant under DIR/participants/<name>/. */
  recordDir?: string;
  /** Opus bitrate of every stream (default 32000). */
  bitrate?: number;
  conceal?: ConcealMode;
  /** How long a frame waits for a live participant's audio past its due time (default 500). */
  maxJitterMs?: number;
  /** A live track silent this long is capture_silent (default 10000). */
  silentAfterMs?: number;
  durationMs?: number;
  sched?: SchedRequest;
  strict?: boolean;
  /** Serve /metrics, /healthz (503 while a live capture is silent) and /readyz here (`--metrics`). */
  metrics?: string;
  /** The participants whose live capture is silent changed (for a health monitor). */
  onSilence?(silent: string[]): void;
  /** Shared counters of the mix, when the caller made them (the library's meeting reads them from the start). */
  stats?: RtStats;
}

type Optional = 'token' | 'participantSinks' | 'recordDir' | 'durationMs' | 'metrics' | 'onSilence' | 'stats';
export type Resolved = Required<Omit<PageMeetingOptions, Optional>> & Pick<PageMeetingOptions, Optional>;

export function resolve(o: PageMeetingOptions): Resolved {
  const log = o.log ?? pino({ level: 'silent' });
  return {
    ...o,
    host: o.host ?? '127.0.0.1',
    port: o.port ?? 0,
    log,
    events: o.events ?? new MeetingEvents(log),
    sinks: o.sinks ?? (o.recordDir ? [new Recorder({ dir: o.recordDir, channels: 1, wav: false })] : []),
    bitrate: o.bitrate ?? 32_000,
    conceal: o.conceal ?? 'fade',
    maxJitterMs: o.maxJitterMs ?? 500,
    silentAfterMs: o.silentAfterMs ?? 10_000,
    sched: o.sched ?? {},
    strict: o.strict ?? false,
  };
}

