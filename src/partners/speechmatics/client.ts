/**
 * Speechmatics real-time v2 (wss://eu2.rt.speechmatics.com/v2), client side:
 * `Authorization: Bearer <key>`; StartRecognition first (raw pcm_s16le and
 * the transcription config), audio only after RecognitionStarted, as binary
 * AddAudio frames (each acknowledged by AudioAdded with its seq_no);
 * EndOfStream with the last seq_no at the end, answered by EndOfTranscript.
 */
import { endingText } from '../core/policy';
import type { Adapter, ClientSession, Ending, PartnerSpec, Verdict } from '../types';
import { authHeader } from '../types';
import { parseSpeechmatics } from './messages';

export function speechmaticsClient(spec: PartnerSpec): Adapter {
  const p = spec.params;
  const rate = Number(p.sample_rate ?? 16_000);
  const config = {
    language: p.language ?? 'en',
    enable_partials: spec.interim,
    max_delay: Number(p.max_delay ?? 2),
    ...(p.operating_point && { operating_point: p.operating_point }),
    ...(p.diarization && { diarization: p.diarization }),
  };
  if (!Number.isFinite(config.max_delay) || config.max_delay <= 0) throw new Error(`speechmatics: max_delay=${p.max_delay} - use seconds, e.g. 2`);
  const start = JSON.stringify({
    message: 'StartRecognition',
    audio_format: { type: 'raw', encoding: 'pcm_s16le', sample_rate: rate },
    transcription_config: config,
  });
  return {
    provider: 'speechmatics',
    codec: { name: 'linear16', sampleRate: rate, channels: 1 },
    chunkMs: 100,
    realtimeOnly: false,
    endpoint: () => ({ url: spec.url, headers: authHeader(spec.key, 'Bearer') }),
    connection: (): ClientSession => {
      let seq = 0;
      return {
        readyOnOpen: false,
        start: () => [start],
        audio: (data) => {
          seq++;
          return data;
        },
        finish: () => JSON.stringify({ message: 'EndOfStream', last_seq_no: seq }),
        parse: parseSpeechmatics,
      };
    },
    classify,
  };
}

/**
 * Speechmatics' closes (payload = error type): 4001 not_authorised (the key);
 * 4003 not_allowed, 4004 invalid_model, 4006 timelimit_exceeded, 1003
 * protocol_error (permanent); 4005 quota_exceeded, 4013 job_error and 1011
 * internal_error (retry after at least 5-10 s, as the docs ask); 1008
 * policy_violation is how sessions end on idle or session timeouts
 * (reconnect now).
 */
function classify(e: Ending): Verdict | undefined {
  const text = endingText(e);
  if (e.code === 4001 || /not_authori[sz]ed/.test(text)) return { retry: 'never', problem: 'key_rejected' };
  if (e.code === 4003 || e.code === 4004 || e.code === 4006 || e.code === 1003) return { retry: 'never', problem: 'refused' };
  if (e.code === 4005 || e.code === 4013 || e.code === 1011) return { retry: 'later' };
  if (e.code === 1008) return { retry: 'now' };
  return undefined;
}
