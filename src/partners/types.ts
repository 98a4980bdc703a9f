/** What each provider adapter declares, and what it makes of the partner's messages. */

export type Provider = 'deepgram' | 'assemblyai' | 'raw';

/** One partner as configured on the command line (the key is held, never printed). */
export interface PartnerSpec {
  /** Unique label: the provider, suffixed #2, #3 when repeated. */
  name: string;
  provider: Provider;
  /** ws:// or wss:// endpoint (the provider's default when not given). */
  url: string;
  key?: string;
  /** Where the key came from, for messages ("env DG_KEY", "file /run/key"). */
  keySource?: string;
  /** Extra query parameters (override the adapter's defaults). */
  params: Record<string, string>;
  bufferMs: number;
  interim: boolean;
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
  | { kind: 'result'; result: PartnerResult }
  /** The partner's last message before it closes (Deepgram Metadata, AssemblyAI Termination). */
  | { kind: 'done' }
  | { kind: 'error'; message: string }
  | { kind: 'other'; type: string };

/** A partner's JSON text message, or undefined when it is not JSON. */
export function partnerJson(text: string): Record<string, any> | undefined {
  try {
    return JSON.parse(text) as Record<string, any>;
  } catch {
    return undefined;
  }
}

export const unparseable = (): Parsed[] => [{ kind: 'error', message: 'unparseable message from the partner' }];

export interface Adapter {
  readonly provider: Provider;
  /** Audio the partner takes: sample rate, channels, codec. */
  readonly rate: number;
  readonly channels: number;
  readonly codec: 'pcm16' | 'opus';
  /** Chunk duration we send (ms): a multiple of 20. */
  readonly chunkMs: number;
  /** Replay must be paced no faster than real time (AssemblyAI closes 3007 otherwise). */
  readonly realtimeOnly: boolean;
  /** Send keepAlive() after this much time without audio (ms), if any. */
  readonly keepAliveMs?: number;
  /** Full URL with query parameters (may carry a token: log it only through redaction). */
  url(): string;
  headers(): Record<string, string>;
  keepAlive?(): string;
  /** Text message asking the partner to finish (CloseStream / Terminate), if any. */
  closeMessage(): string | undefined;
  parse(text: string): Parsed[];
}

/** Default endpoint per provider. */
export const DEFAULT_URLS: Record<Provider, string | undefined> = {
  deepgram: 'wss://api.deepgram.com/v1/listen',
  assemblyai: 'wss://streaming.assemblyai.com/v3/ws',
  raw: undefined,
};

/** Builds url?params, keeping params already present in the URL unless overridden. */
export function withParams(base: string, params: Record<string, string | undefined>): string {
  const u = new URL(base);
  for (const [k, v] of Object.entries(params)) if (v !== undefined) u.searchParams.set(k, v);
  return u.toString();
}
