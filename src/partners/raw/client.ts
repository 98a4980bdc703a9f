/**
 * Any endpoint that takes binary PCM16 (or Opus packets, one per 20 ms
 * frame and one per message). Rate/channels/codec are sent as query params;
 * the key, if any, goes in `Authorization: Bearer <key>`. Results, if the
 * endpoint sends any, are read in a generic shape:
 * `{"type":"transcript","start":s,"end":s,"text":"...","final":true}`; at
 * the end we send `{"type":"close"}` and take `{"type":"closed"}` as done.
 */
import { bool, byTag, num, obj, opt, readJson, str } from '../core/validate';
import type { Adapter, Parsed, PartnerSpec } from '../types';
import { authHeader, withParams } from '../types';

const message = byTag('type', {
  transcript: obj({ type: str, start: num, end: num, text: str, final: opt(bool) }),
  session: obj({ type: str, id: str }),
  closed: obj({ type: str }),
  error: obj({ type: str, message: opt(str) }),
});

export function parseRaw(text: string): Parsed[] {
  const m = readJson(text, message, 'raw message') as Record<string, any>;
  switch (m.type) {
    case 'transcript':
      return [{ kind: 'result', result: { start: m.start, end: m.end, text: m.text, final: m.final !== false } }];
    case 'session':
      return [{ kind: 'session', id: m.id }];
    case 'closed':
      return [{ kind: 'done' }];
    case 'error':
      return [{ kind: 'error', message: m.message ?? 'error' }];
    default:
      return [{ kind: 'other' }];
  }
}

export function rawClient(spec: PartnerSpec, meetingChannels: number): Adapter {
  const p = spec.params;
  const opus = (spec.codec ?? (p.encoding === 'opus' ? 'opus' : 'linear16')) === 'opus';
  const rate = opus ? 48_000 : Number(p.sample_rate ?? 16_000);
  const channels = opus ? meetingChannels : Number(p.channels ?? 1);
  const params: Record<string, string | undefined> = {
    ...p,
    encoding: opus ? 'opus' : 'pcm_s16le',
    sample_rate: String(rate),
    channels: String(channels),
  };
  return {
    provider: 'raw',
    codec: { name: opus ? 'opus' : 'linear16', sampleRate: rate, channels },
    chunkMs: 20,
    realtimeOnly: p.realtime === 'true',
    endpoint: () => ({ url: withParams(spec.url, params), headers: authHeader(spec.key, 'Bearer') }),
    connection: () => ({
      readyOnOpen: true,
      start: () => [],
      audio: (data) => data,
      finish: () => '{"type":"close"}',
      parse: parseRaw,
    }),
  };
}
