/**
 * AssemblyAI Universal Streaming v3 (wss://streaming.assemblyai.com/v3/ws),
 * client side: mono pcm_s16le at `sample_rate`, `Authorization: <key>` (or
 * `token=` for a temporary token), binary chunks of 50-1000 ms sent no
 * faster than real time (the server closes 3007 otherwise), and Terminate
 * at the end, answered by Termination.
 */
import { endingText } from '../core/policy';
import type { Adapter, Ending, PartnerSpec, Verdict } from '../types';
import { authHeader, withParams } from '../types';
import { parseAssemblyai } from './messages';

export function assemblyaiClient(spec: PartnerSpec): Adapter {
  const p = spec.params;
  const rate = Number(p.sample_rate ?? 16_000);
  const params: Record<string, string | undefined> = {
    speech_model: 'universal-streaming-english',
    format_turns: 'true',
    ...p,
    sample_rate: String(rate),
    encoding: 'pcm_s16le',
  };
  const formatTurns = params.format_turns === 'true';
  return {
    provider: 'assemblyai',
    codec: { name: 'linear16', sampleRate: rate, channels: 1 },
    // 100 ms: inside the 50-1000 ms window with room, and few messages.
    chunkMs: 100,
    minChunkMs: 50,
    realtimeOnly: true,
    endpoint: () => ({ url: withParams(spec.url, params), headers: authHeader(spec.key) }),
    connection: () => ({
      readyOnOpen: true,
      start: () => [],
      audio: (data) => data,
      finish: () => '{"type":"Terminate"}',
      parse: (text) => parseAssemblyai(text, formatTurns),
    }),
    classify,
  };
}

/**
 * AssemblyAI's closes, read from the reason and the Error frame before it:
 * 1008 has meant both "Too many concurrent sessions" (a rate limit that
 * clears: retry later) and "Missing Authorization header" / "<account
 * reason>" (permanent); 3009 is the newer concurrency code; 3008 a session
 * past its maximum duration (reconnect now); 3007 our chunking broke the
 * rules (later, not hammering); 3005 a server error.
 */
function classify(e: Ending): Verdict | undefined {
  const text = endingText(e);
  if (e.code === 1008 || e.code === 3009 || e.code === 4001 || e.code === 4002 || e.code === 4003) {
    if (/concurren|too many|rate limit/.test(text)) return { retry: 'later' };
    if (/missing authori[sz]ation|invalid (api )?key|api key|invalid token|token (is )?(invalid|expired)/.test(text) || e.code === 4001) {
      return { retry: 'never', problem: 'key_rejected' };
    }
    return { retry: 'never', problem: 'refused' }; // insufficient balance, free tier, account issues
  }
  if (e.code === 3007) return { retry: 'later' };
  if (e.code === 3008 || e.code === 3005) return { retry: 'now' };
  return undefined;
}
