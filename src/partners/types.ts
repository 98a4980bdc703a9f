/**
 * What a provider folder declares (partners/<provider>/index.ts exports one
 * ProviderDef): its client adapter and its emulator session. The shared
 * stream (core/) and the emulator's server (emulator/) speak to providers
 * only through these types.
 */
import type { IncomingMessage } from 'node:http';
import type WebSocket from 'ws';
import type { SessionContext, Session } from './emulator/session';
import type { PartnerCodec, PartnerProblem } from './status';

/** One partner as configured on the command line (the key is held, never printed). */
export interface PartnerSpec {
  /** Unique label: the provider, suffixed #2, #3 when repeated. */
  name: string;
  provider: string;
  /** ws:// or wss:// endpoint (http(s):// for providers that open a session over HTTP first). */
  url: string;
  key?: string;
  /** Where the key came from, for messages ("--partner-key-env DG_KEY"). */
  keySource?: string;
  /** Extra parameters (override the adapter's defaults). */
  params: Record<string, string>;
  /** --partner-codec: what to send, where the provider takes a choice. */
  codec?: 'opus' | 'linear16';
  bufferMs: number;
  interim: boolean;
  /** A partner that returns no result for this long while audio flows is reported (0: never). */
  noResultsMs: number;
}

/** A result as the partner reported it, in seconds since the connection's first sample. */
export interface PartnerResult {
  start: number;
  end: number;
  text: string;
  final: boolean;
  /** Deepgram speech_final / AssemblyAI end_of_turn. */
  endOfTurn?: boolean;
  confidence?: number;
  speaker?: string;
  channel?: number;
  words?: { word: string; start: number; end: number; confidence?: number; speaker?: string }[];
}

export type Parsed =
  | { kind: 'session'; id: string }
  /** The partner is ready for audio (Speechmatics RecognitionStarted, OpenAI session.updated). */
  | { kind: 'ready' }
  | { kind: 'result'; result: PartnerResult }
  /** The partner's answer to our end-of-stream message: everything sent was processed. */
  | { kind: 'done' }
  | { kind: 'error'; message: string; code?: string }
  | { kind: 'other' };

/** How a connection ended, for the provider's policy to judge. */
export interface Ending {
  /** HTTP status when the handshake (or the session set-up request) was refused. */
  http?: number;
  /** Close code and reason when an open socket closed (1006 when it was cut). */
  code?: number;
  reason?: string;
  /** The provider's last error frame on this connection, if any. */
  error?: { message: string; code?: string };
  /** Whether the socket had opened. */
  opened: boolean;
}

/** What to do after a connection ended. */
export interface Verdict {
  retry: 'now' | 'later' | 'never';
  /** With 'never': what the user must fix. */
  problem?: Extract<PartnerProblem, 'key_rejected' | 'refused'>;
}

export interface Endpoint {
  url: string;
  headers: Record<string, string>;
}

/** One connection's protocol state on the client side. */
export interface ClientSession {
  /** Frames to send right after the socket opens, before any audio (StartRecognition, session.update, Ogg headers). */
  start(): (string | Buffer)[];
  /** False: audio waits for a `ready` message. */
  readonly readyOnOpen: boolean;
  /** One chunk of audio as the provider takes it (binary, Ogg page, or a JSON text frame). */
  audio(data: Buffer, samples: number, packets?: number[]): string | Buffer;
  keepAlive?(): string;
  /** The message asking the partner to finish; undefined: close the socket (1000). */
  finish(): string | undefined;
  /** Validated parse of a text frame; throws BadMessage when it does not fit the protocol. */
  parse(text: string): Parsed[];
}

export interface Adapter {
  readonly provider: string;
  readonly codec: PartnerCodec;
  /** Chunk duration we send (ms): a multiple of 20. */
  readonly chunkMs: number;
  /** Shortest chunk the provider accepts (ms); a shorter tail is padded with silence. */
  readonly minChunkMs?: number;
  /** Replay must be paced no faster than real time (AssemblyAI closes 3007 otherwise). */
  readonly realtimeOnly: boolean;
  /** Send keepAlive() after this much time without audio (ms), if any. */
  readonly keepAliveMs?: number;
  /** Largest message we accept from this provider (bytes); bigger ones close the socket. */
  readonly maxMessageBytes?: number;
  /** Where and how to connect; may open a session over HTTP first (Gladia). */
  endpoint(signal: AbortSignal): Endpoint | Promise<Endpoint>;
  connection(): ClientSession;
  /** The provider's reading of a close; undefined: the generic policy (core/policy.ts). */
  classify?(e: Ending): Verdict | undefined;
  /**
   * Results come per audio channel, each on its own timeline (Deepgram `multichannel`): audio is
   * confirmed only up to the earliest channel's last final. Undefined: one timeline.
   */
  readonly resultChannels?: number;
  /** Session id from the handshake response headers, if the provider names it there (Deepgram). */
  sessionFromHeaders?(headers: IncomingMessage['headers']): string | undefined;
}

/** The emulator's side of a provider. */
export interface EmulatorDef {
  /** The path the service listens on (any path when undefined). */
  path?: string;
  /** The key the client presented, from the provider's accepted places. */
  key(req: IncomingMessage, query: URLSearchParams): string | undefined;
  /** Whether the provider needs a key at all (raw: only if the emulator was given one). */
  keyRequired: boolean;
  /** A reason to refuse the query string (HTTP 400), if any. */
  checkParams?(query: URLSearchParams): string | undefined;
  /** Refusals the provider makes in-band after the socket opened; the others are HTTP 401 / 429 at the handshake. */
  refuse?: { key?(ws: WebSocket): void; rate?(ws: WebSocket): void };
  /** Extra HTTP endpoints (Gladia's POST /v2/live); true when it answered. */
  http?(req: IncomingMessage, body: string, ctx: HttpContext): { status: number; body: unknown } | undefined;
  /** Headers added to the 101 response (Deepgram's dg-request-id). */
  upgradeHeaders?(sessionId: string): string[];
  session(ws: WebSocket, params: Record<string, string>, ctx: SessionContext): Session;
}

export interface HttpContext {
  /** Base ws:// URL of the emulator (for session URLs it hands out). */
  wsBase: string;
  /** Whether the request carries an acceptable key. */
  keyOk(key: string | undefined): boolean;
  /** Remembers query params for a session token (Gladia's configuration travels in the POST body). */
  register(token: string, params: Record<string, string>): void;
  /** The fault plan says: refuse this one as a rate limit. */
  rateLimited(): boolean;
}

export interface ProviderDef {
  readonly name: string;
  /** The production endpoint (none for raw). */
  readonly defaultUrl?: string;
  /** Codecs the provider takes; the first is the default for --partner-codec. */
  readonly codecs: readonly ('linear16' | 'opus')[];
  /** Results per audio channel on request (Deepgram `multichannel`): a page input's participants can share one connection. */
  readonly multichannel?: boolean;
  /** Builds the client adapter; throws Error (one line) for parameters it cannot honour. */
  client(spec: PartnerSpec, meeting: { channels: number }): Adapter;
  readonly emulator: EmulatorDef;
}

/** Builds url?params, keeping params already present in the URL unless overridden. */
export function withParams(base: string, params: Record<string, string | undefined>): string {
  const u = new URL(base);
  for (const [k, v] of Object.entries(params)) if (v !== undefined) u.searchParams.set(k, v);
  return u.toString();
}

/** `Authorization: <scheme> <key>` or, without a key, no header. */
export function authHeader(key: string | undefined, scheme?: string): Record<string, string> {
  return key ? { Authorization: scheme ? `${scheme} ${key}` : key } : {};
}
