/**
 * Deepgram live streaming (wss://api.deepgram.com/v1/listen): raw linear16
 * described by query params, `Authorization: Token <key>`, binary audio
 * (never an empty frame: that used to mean "close"), KeepAlive as a text frame
 * when no audio flows (the server closes 1011 NET-0001 after 10 s), and
 * CloseStream at the end, answered by a final Metadata before the close.
 */
import { partnerJson, unparseable, withParams, type Adapter, type Parsed, type PartnerSpec } from '../types';

interface DgWord {
  word: string;
  punctuated_word?: string;
  start: number;
  end: number;
  confidence?: number;
  speaker?: number;
}

export function deepgramAdapter(spec: PartnerSpec): Adapter {
  const p = spec.params;
  const rate = Number(p.sample_rate ?? 16_000);
  const channels = Number(p.channels ?? 1);
  const params: Record<string, string | undefined> = {
    model: 'nova-3',
    encoding: 'linear16',
    punctuate: 'true',
    smart_format: 'true',
    interim_results: spec.interim ? 'true' : 'false',
    ...p,
    sample_rate: String(rate),
    channels: String(channels),
  };
  if (params.encoding !== 'linear16') {
    throw new Error(`deepgram: encoding=${params.encoding} is not supported by earshot - use linear16`);
  }
  return {
    provider: 'deepgram',
    rate,
    channels,
    codec: 'pcm16',
    chunkMs: 20,
    realtimeOnly: false,
    keepAliveMs: 4_000,
    url: () => withParams(spec.url, params),
    headers: (): Record<string, string> => (spec.key ? { Authorization: `Token ${spec.key}` } : {}),
    keepAlive: () => '{"type":"KeepAlive"}',
    closeMessage: () => '{"type":"CloseStream"}',
    parse: parseDeepgram,
  };
}

export function parseDeepgram(text: string): Parsed[] {
  const m = partnerJson(text);
  if (!m) return unparseable();
  switch (m.type) {
    case 'Results': {
      const alt = m.channel?.alternatives?.[0] ?? {};
      const start = Number(m.start) || 0;
      const words = Array.isArray(alt.words)
        ? (alt.words as DgWord[]).map((w) => ({
            word: w.punctuated_word ?? w.word,
            start: w.start,
            end: w.end,
            ...(typeof w.confidence === 'number' && { confidence: w.confidence }),
            ...(typeof w.speaker === 'number' && { speaker: String(w.speaker) }),
          }))
        : undefined;
      const out: Parsed[] = [];
      if (m.metadata?.request_id) out.push({ kind: 'session', id: String(m.metadata.request_id) });
      out.push({
        kind: 'result',
        result: {
          start,
          end: start + (Number(m.duration) || 0),
          text: String(alt.transcript ?? ''),
          final: m.is_final === true,
          endOfTurn: m.speech_final === true,
          ...(typeof alt.confidence === 'number' && { confidence: alt.confidence }),
          ...(Array.isArray(m.channel_index) && typeof m.channel_index[0] === 'number' && { channel: m.channel_index[0] }),
          words,
        },
      });
      return out;
    }
    case 'Metadata':
      return [...(m.request_id ? [{ kind: 'session' as const, id: String(m.request_id) }] : []), { kind: 'done' }];
    case 'Error':
      return [{ kind: 'error', message: String(m.description ?? m.message ?? 'error') }];
    default:
      return [{ kind: 'other', type: String(m.type) }];
  }
}
