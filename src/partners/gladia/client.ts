/**
 * Gladia live v2, client side. Each connection first creates a session:
 * POST <api>/v2/live with `x-gladia-key` and the audio format (wav/pcm,
 * 16 bit, 16 kHz, mono) and which messages to receive; the answer names the
 * session (id) and its WebSocket URL (a temporary token in the query, so the
 * key itself never travels on the socket). Audio goes as binary frames;
 * {"type":"stop_recording"} at the end, answered (with lifecycle events on)
 * by end_session. A reconnection is a new session: its times start at zero
 * again, which the stream's per-connection clock expects.
 */
import type { Adapter, Ending, PartnerSpec, Verdict } from '../types';
import { parseGladia } from './messages';

const RATES = [8000, 16000, 32000, 44100, 48000];

export function gladiaClient(spec: PartnerSpec, connectTimeoutMs = 10_000): Adapter {
  const p = spec.params;
  const rate = Number(p.sample_rate ?? 16_000);
  if (!RATES.includes(rate)) throw new Error(`gladia: sample_rate=${p.sample_rate} - use one of ${RATES.join(', ')}`);
  const body = JSON.stringify({
    encoding: 'wav/pcm',
    bit_depth: 16,
    sample_rate: rate,
    channels: 1,
    ...(p.model && { model: p.model }),
    ...(p.endpointing && { endpointing: Number(p.endpointing) }),
    ...(p.language && { language_config: { languages: p.language.split(','), code_switching: false } }),
    messages_config: {
      receive_partial_transcripts: spec.interim,
      receive_final_transcripts: true,
      receive_speech_events: false,
      receive_pre_processing_events: false,
      receive_realtime_processing_events: false,
      receive_post_processing_events: false,
      receive_acknowledgments: false,
      receive_errors: true,
      receive_lifecycle_events: true,
    },
  });
  const initUrl = new URL('v2/live', spec.url.endsWith('/') ? spec.url : `${spec.url}/`).toString();
  return {
    provider: 'gladia',
    codec: { name: 'linear16', sampleRate: rate, channels: 1 },
    chunkMs: 100,
    realtimeOnly: false,
    async endpoint(signal) {
      const res = await fetch(initUrl, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...(spec.key && { 'x-gladia-key': spec.key }) },
        body,
        signal: AbortSignal.any([signal, AbortSignal.timeout(connectTimeoutMs)]),
      });
      const text = await res.text();
      if (!res.ok) throw Object.assign(new Error(`HTTP ${res.status} creating the session`), { status: res.status });
      let session: { id?: unknown; url?: unknown };
      try {
        session = JSON.parse(text) as typeof session;
      } catch {
        throw new Error('the session set-up answer is not JSON');
      }
      if (typeof session.url !== 'string' || !/^wss?:\/\//.test(session.url)) throw new Error('the session set-up answer has no WebSocket url');
      return { url: session.url, headers: {} };
    },
    connection: () => ({
      readyOnOpen: true,
      start: () => [],
      audio: (data) => data,
      finish: () => '{"type":"stop_recording"}',
      parse: parseGladia,
    }),
    classify,
  };
}

/**
 * Gladia: the session set-up's HTTP status decides first (401/403 the key,
 * 400/422 our parameters, 429 the concurrency limit); once a session's
 * socket closes with 4000-4999 that session is over, and a new one is
 * created at once (the same URL would only repeat the close).
 */
function classify(e: Ending): Verdict | undefined {
  if (e.http === 422) return { retry: 'never', problem: 'refused' };
  if (e.code !== undefined && e.code >= 4000 && e.code <= 4999) return { retry: 'now' };
  return undefined;
}
