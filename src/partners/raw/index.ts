/**
 * Any endpoint that takes binary PCM16 (or Opus packets, one per 20 ms
 * frame). Rate/channels/codec are given as params and also sent as query
 * params; the key, if any, goes in `Authorization: Bearer <key>`. Results, if
 * the endpoint sends any, are read in a generic shape:
 * `{"type":"transcript","start":s,"end":s,"text":"...","final":true}`; at the
 * end we send `{"type":"close"}` and take `{"type":"closed"}` (or the close) as done.
 */
import { withParams, type Adapter, type Parsed, type PartnerSpec } from '../types';

export function rawAdapter(spec: PartnerSpec): Adapter {
  const p = spec.params;
  const codec = p.encoding === 'opus' ? 'opus' : 'pcm16';
  const rate = codec === 'opus' ? 48_000 : Number(p.sample_rate ?? 16_000);
  const channels = Number(p.channels ?? 1);
  const params: Record<string, string | undefined> = {
    ...p,
    encoding: codec === 'opus' ? 'opus' : 'pcm_s16le',
    sample_rate: String(rate),
    channels: String(channels),
  };
  return {
    provider: 'raw',
    rate,
    channels,
    codec,
    chunkMs: 20,
    realtimeOnly: p.realtime === 'true',
    url: () => withParams(spec.url, params),
    headers: (): Record<string, string> => (spec.key ? { Authorization: `Bearer ${spec.key}` } : {}),
    closeMessage: () => '{"type":"close"}',
    parse: parseRaw,
  };
}

export function parseRaw(text: string): Parsed[] {
  let m: Record<string, any>;
  try {
    m = JSON.parse(text);
  } catch {
    return [{ kind: 'other', type: 'text' }];
  }
  if (m.type === 'transcript') {
    return [
      {
        kind: 'result',
        result: { start: Number(m.start) || 0, end: Number(m.end) || 0, text: String(m.text ?? ''), final: m.final !== false },
      },
    ];
  }
  if (m.type === 'session' && m.id) return [{ kind: 'session', id: String(m.id) }];
  if (m.type === 'closed') return [{ kind: 'done' }];
  if (m.type === 'error') return [{ kind: 'error', message: String(m.message ?? 'error') }];
  return [{ kind: 'other', type: String(m.type) }];
}
