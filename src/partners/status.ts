/**
 * What a partner stream tells the rest of earshot while it runs and when it
 * ends: its status (metrics, summary), its connection state changes, the
 * transcript segments it receives, and its outcome (did it deliver anything,
 * and if not, why and what to fix). These types are the contract between the
 * partners and the run/library layer; they belong to the module that
 * produces them.
 */

/** The connection's state, one at a time (core/state.ts holds the union with its data). */
export type PartnerState =
  /** Opening a socket (handshake, or a provider's session set-up). */
  | 'connecting'
  /** Socket open and audio flowing. */
  | 'open'
  /** Waiting before the next attempt, after a connection ended. */
  | 'backoff'
  /** The end of the meeting was signalled; waiting for the partner's last results. */
  | 'closing'
  /** The partner confirmed everything it was sent; no more connections. */
  | 'done'
  /** Given up for the rest of the meeting (a refused key, a refused stream, too many failures). */
  | 'failed'
  /** Stopped (close deadline, abort), whatever was in flight. */
  | 'closed';

export interface PartnerStateChange {
  partner: string;
  from: PartnerState;
  to: PartnerState;
  /** Why, in one line (already redacted): "close 1011 (...)", "HTTP 401 at handshake", "no pong for 8 s". */
  reason?: string;
  /** Seconds on the meeting timeline when it happened (the end of the last frame written). */
  t: number;
}

/** Why a partner delivered nothing (or stopped delivering) in a meeting. */
export type PartnerProblem =
  /** Every attempt failed before a socket opened (DNS, refused, TLS, timeouts). */
  | 'never_connected'
  /** The partner refused the key (HTTP 401/403, or the provider's auth close/error). */
  | 'key_rejected'
  /** The partner refused the stream or its parameters (HTTP 400/404, policy closes). */
  | 'refused'
  /** Connections opened but the partner stopped reading what we sent. */
  | 'never_read'
  /** Audio was sent but no result came back for longer than the no-results limit. */
  | 'no_results'
  /** Gave up after connections that kept closing before any result. */
  | 'gave_up';

export interface PartnerOutcome {
  /** True once the partner has confirmed any audio (a final result, or its end-of-stream answer). */
  delivered: boolean;
  /** Set when the partner did not deliver (or stopped delivering for good). */
  problem?: PartnerProblem;
  /** One line naming the cause and the fix (no key, ever). */
  reason?: string;
}

/** The audio a partner gets. */
export interface PartnerCodec {
  /** 'linear16' (PCM s16le) or 'opus' (Ogg Opus pages, or raw packets for `raw`). */
  name: 'linear16' | 'opus';
  sampleRate: number;
  channels: number;
}

export interface PartnerStatus {
  name: string;
  provider: string;
  codec: PartnerCodec;
  state: PartnerState;
  connected: boolean;
  /** Audio queued for this partner but not yet sent, in seconds. */
  backlogSec: number;
  audioSecSent: number;
  /** Audio payload bytes sent (replays included), for bandwidth figures. */
  bytesSent: number;
  reconnects: number;
  sessionIds: string[];
  gapsMs: number;
  /** Partner messages that failed validation (each ignored, the stream went on). */
  badMessages: number;
  /**
   * Capture -> send: from the capture of the frame that completed a chunk to its ws.send, over
   * first sends (a replay after a reconnection is not latency); null before anything was sent.
   */
  sendLatencyMs: { p50: number; p99: number; max: number } | null;
  outcome: PartnerOutcome;
}

/** One transcript segment on the meeting timeline, as written to transcripts.jsonl and given to onTranscript. */
export interface TranscriptSegment {
  partner: string;
  provider: string;
  sessionId: string | null;
  /** Seconds on the meeting timeline. */
  start: number;
  end: number;
  final: boolean;
  endOfTurn?: boolean;
  text: string;
  /** Where the provider gives them. */
  confidence?: number;
  speaker?: string;
  channel?: number;
  words?: TranscriptWord[];
}

export interface TranscriptWord {
  word: string;
  start: number;
  end: number;
  confidence?: number;
  speaker?: string;
}
