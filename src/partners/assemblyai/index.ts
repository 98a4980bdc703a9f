/**
 * AssemblyAI Universal Streaming v3 (wss://streaming.assemblyai.com/v3/ws):
 * mono pcm_s16le at `sample_rate`, `Authorization: <key>` (or `token=` for a
 * temporary token), binary chunks of 50-1000 ms sent no faster than real time
 * (the server closes 3007 otherwise), and Terminate at the end, answered by
 * Termination. Turn words carry times in milliseconds.
 */
import { partnerJson, unparseable, withParams, type Adapter, type Parsed, type PartnerSpec } from '../types';

interface AaiWord {
  text: string;
  start: number;
  end: number;
  word_is_final?: boolean;
}

export function assemblyaiAdapter(spec: PartnerSpec): Adapter {
  const p = spec.params;
  const rate = Number(p.sample_rate ?? 16_000);
  const params: Record<string, string | undefined> = {
    speech_model: 'universal-streaming-english',
    format_turns: 'true',
    ...p,
    sample_rate: String(rate),
    encoding: 'pcm_s16le',
  };
  return {
    provider: 'assemblyai',
    rate,
    channels: 1,
    codec: 'pcm16',
    // 100 ms: inside the 50-1000 ms window with room, and few messages.
    chunkMs: 100,
    realtimeOnly: true,
    url: () => withParams(spec.url, params),
    headers: (): Record<string, string> => (spec.key ? { Authorization: spec.key } : {}),
    closeMessage: () => '{"type":"Terminate"}',
    parse: (text) => parseAssemblyai(text, params.format_turns === 'true'),
  };
}

/**
 * With format_turns an ended turn arrives twice (raw, then formatted): the
 * formatted one is the final, the raw one counts as interim.
 */
export function parseAssemblyai(text: string, formatTurns = false): Parsed[] {
  const m = partnerJson(text);
  if (!m) return unparseable();
  switch (m.type) {
    case 'Begin':
      return [{ kind: 'session', id: String(m.id) }];
    case 'Turn': {
      const words = Array.isArray(m.words) ? (m.words as AaiWord[]) : [];
      const ended = m.end_of_turn === true;
      const final = ended && (!formatTurns || m.turn_is_formatted === true);
      const mapped = words.map((w) => ({ word: w.text, start: w.start / 1000, end: w.end / 1000 }));
      const start = mapped.length ? mapped[0]!.start : 0;
      const end = mapped.length ? mapped[mapped.length - 1]!.end : 0;
      return [
        {
          kind: 'result',
          result: { start, end, text: String(m.transcript ?? ''), final, endOfTurn: ended, words: mapped },
        },
      ];
    }
    case 'Termination':
      return [{ kind: 'done' }];
    case 'Error':
      return [{ kind: 'error', message: String(m.error ?? m.message ?? 'error') }];
    default:
      return [{ kind: 'other', type: String(m.type) }];
  }
}
