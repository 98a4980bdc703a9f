/**
 * What a meeting is asked to do: `MeetingOptions`, the library's typed mirror of `earshot run`'s
 * flags (public types only; resolve.ts checks them).
 */

/** A length of time: milliseconds as a number, or text such as '500ms', '30s', '5m'. */
export type Duration = number | string;

export interface PartnerOptions {
  /** deepgram | assemblyai | raw (and any provider `earshot partner --help` lists). */
  provider: string;
  /** ws:// or wss:// endpoint; the provider's own by default. */
  url?: string;
  /** The key itself (kept in memory, never logged or written), or: */
  key?: string;
  /** the name of an environment variable holding it, or */
  keyEnv?: string;
  /** a file holding it. */
  keyFile?: string;
  /** Query parameters for this partner (e.g. { model: 'nova-3' }). */
  params?: Record<string, string>;
}

export interface PriorityOptions {
  /** Nice value of the audio thread only (e.g. -10; needs CAP_SYS_NICE or RLIMIT_NICE). */
  nice?: number;
  /** CPUs to pin the audio thread to: [1] or '2-3'. */
  cpus?: number[] | string;
  /** 'other' | 'fifo' | 'rr', optionally with its priority: 'fifo:20' (needs CAP_SYS_NICE or RLIMIT_RTPRIO). */
  policy?: string;
  /** Fail the start when a request is refused (default: warn and go on). */
  strict?: boolean;
}

export interface LogOptions {
  /** file:PATH | socket:PATH | stdout | null (the library's default) | console-sync (legacy). */
  sink?: string;
  /** 'info', or per module: 'info,partners=trace'. */
  level?: string;
}

/** What `record` does when the folder already holds a meeting. */
export type RecordExisting = 'refuse' | 'segment' | 'replace';

/** Partners that must deliver for the meeting to count as a success (the CLI's exit status). */
export type PartnersRequired = 'all' | 'any' | 'none';

export interface MeetingOptions {
  /** file:PATH | pulse:SOURCE | alsa:DEVICE | lavfi:GRAPH | url:URL | - (raw s16le 48 kHz on stdin). */
  input: string;
  /** Tags every log line, event, transcript and the summary (default: a random UUID). */
  meetingId?: string;
  /** Folder for audio.opus, events.jsonl, transcripts.jsonl and summary.json. */
  record?: string;
  /** When `record` already holds a meeting: refuse (default), write a numbered segment-N folder inside it, or replace its files. */
  recordExisting?: RecordExisting;
  /** Also write audio.wav. */
  wav?: boolean;
  /** Pace file and lavfi input at real time (default true). */
  pace?: boolean;
  /** Stop after this much meeting time. */
  duration?: Duration;
  channels?: 1 | 2;
  /** Opus bitrate in bit/s (default 64000). */
  bitrate?: number;
  conceal?: 'silence' | 'fade';
  /** How unevenly the input may arrive before missing audio is concealed (default '500ms', 20 ms to 5 s). */
  maxJitter?: Duration;
  priority?: PriorityOptions;
  /** 'worker' (default) | 'main' (LEGACY: audio on the event loop, for `earshot repro`). */
  realtimeThread?: 'worker' | 'main';
  partners?: PartnerOptions[];
  /** Replay buffer per partner (default '120s'). */
  partnerBuffer?: Duration;
  /** Also deliver interim results. */
  partnerInterim?: boolean;
  /** How long partners may take to finish once the audio is finalised (default '5s'). */
  partnerCloseTimeout?: Duration;
  /** Which partners must deliver for `summary.ok` (default 'all'). */
  partnersRequired?: PartnersRequired;
  log?: LogOptions;
  /** Serve Prometheus /metrics, /healthz and /readyz on ADDR (':9464' binds 127.0.0.1). */
  metrics?: string;
  /** Log a per-thread heartbeat this often. */
  heartbeat?: Duration;
  /** Give up when the source has delivered no audio for this long after the start (default '15s', or `duration` if shorter). */
  firstAudioTimeout?: Duration;
  /** Aborting it stops the meeting, as `stop()` does. */
  signal?: AbortSignal;
  /** @internal Test and benchmark hooks; not part of the API. */
  test?: TestHooks;
  /** @internal The CLI's partner flags (PartnerFlagValues), parsed by the partners' own parser instead of `partners`. */
  partnerFlags?: Record<string, unknown>;
  /**
   * With `input: 'page:HOST:PORT'` (each participant from the meeting page): 'each' opens the
   * partners once per participant, every segment's speaker being the participant; 'multichannel'
   * opens each partner once with every participant as a channel of its own (Deepgram
   * `multichannel`; 8 channel slots, `multichannel:N` for N, up to 20), the speaker found from
   * the result's channel; 'mix' (the default) streams the mixed meeting as with any input.
   */
  participantTranscripts?: 'mix' | 'each' | 'multichannel' | `multichannel:${number}`;
  /** With a page input: the token the capture script must present (default: a random one, see `meeting.page.captureScript()`). */
  pageToken?: string;
  /** With a page input: a live participant's capture delivering nothing or digital silence this long is capture_silent (default '10s'). */
  captureSilentAfter?: Duration;
}

/** @internal */
export interface TestHooks {
  /** Busy-loop the main thread once, `ms` long, at timeline `atMs`. */
  stallMain?: { atMs: number; ms: number };
  /** Busy-loop the audio worker once, `ms` long, at timeline `atMs`. */
  stallWorker?: { atMs: number; ms: number };
  /** Per-frame capture times for bench:realtime. */
  frameTimesFile?: string;
  /** Log chatter (records/s) for `earshot repro`. */
  logChatter?: number;
}

