/**
 * OpenAI Realtime transcription sessions
 * (wss://api.openai.com/v1/realtime?intent=transcription), client side:
 * `Authorization: Bearer <key>`; session.update with type "transcription"
 * (24 kHz mono audio/pcm, the model, server VAD) and audio only after
 * session.updated; audio as input_audio_buffer.append text events (base64,
 * no binary frames in this protocol); at the end input_audio_buffer.commit,
 * done when the last item's transcript completes (or the commit was empty).
 */
import { endingText } from '../core/policy';
import type { Adapter, ClientSession, Ending, PartnerSpec, Verdict } from '../types';
import { authHeader } from '../types';
import { OpenaiParser } from './messages';

export function openaiClient(spec: PartnerSpec): Adapter {
  const p = spec.params;
  const silenceMs = Number(p.silence_duration_ms ?? 500);
  if (!Number.isInteger(silenceMs) || silenceMs <= 0) throw new Error(`openai: silence_duration_ms=${p.silence_duration_ms} - use milliseconds, e.g. 500`);
  const update = JSON.stringify({
    type: 'session.update',
    session: {
      type: 'transcription',
      audio: {
        input: {
          format: { type: 'audio/pcm', rate: 24_000 },
          transcription: { model: p.model ?? 'gpt-4o-transcribe', ...(p.language && { language: p.language }), ...(p.prompt && { prompt: p.prompt }) },
          turn_detection: { type: 'server_vad', silence_duration_ms: silenceMs },
        },
      },
    },
  });
  // A transcription session: ?intent=transcription, unless the URL already says what it is.
  const url = new URL(spec.url);
  if (!url.searchParams.has('intent') && !url.searchParams.has('model')) url.searchParams.set('intent', 'transcription');
  return {
    provider: 'openai',
    codec: { name: 'linear16', sampleRate: 24_000, channels: 1 },
    chunkMs: 100,
    realtimeOnly: false,
    endpoint: () => ({ url: url.toString(), headers: authHeader(spec.key, 'Bearer') }),
    connection: (): ClientSession => {
      const parser = new OpenaiParser();
      return {
        readyOnOpen: false,
        start: () => [update],
        audio: (data, samples) => {
          parser.appendedSec += samples / 24_000;
          return `{"type":"input_audio_buffer.append","audio":"${data.toString('base64')}"}`;
        },
        finish: () => {
          parser.finish();
          return '{"type":"input_audio_buffer.commit"}';
        },
        parse: (text) => parser.parse(text),
      };
    },
    classify,
  };
}

/**
 * OpenAI reports problems as an `error` event, then closes (3000, the reason
 * "<type>.<code>"): invalid_api_key is the key; rate limits retry later;
 * session_expired (sessions have a maximum length) reconnects now; other
 * invalid_request_error (a model or format we asked for) is permanent.
 */
function classify(e: Ending): Verdict | undefined {
  const text = endingText(e);
  if (/invalid_api_key|incorrect api key|missing bearer/.test(text)) return { retry: 'never', problem: 'key_rejected' };
  if (/rate_limit|concurren/.test(text)) return { retry: 'later' };
  if (/insufficient_quota/.test(text)) return { retry: 'never', problem: 'refused' };
  if (/session_expired|server_error/.test(text)) return { retry: 'now' };
  if (e.code === 3000 || /invalid_request_error/.test(text)) return { retry: 'never', problem: 'refused' };
  return undefined;
}
