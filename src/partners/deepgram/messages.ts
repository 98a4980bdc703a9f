/**
 * Deepgram live (/v1/listen) server messages, as shapes checked before use.
 * Only the fields earshot reads are declared; the rest may come and go.
 */
import { arr, bool, byTag, num, obj, opt, readJson, str, unknownValue } from '../core/validate';
import type { Parsed } from '../types';

const word = obj({
  word: str,
  punctuated_word: opt(str),
  start: num,
  end: num,
  confidence: opt(num),
  speaker: opt(num),
});

const results = obj({
  type: str,
  start: num,
  duration: num,
  is_final: opt(bool),
  speech_final: opt(bool),
  channel_index: opt(arr(num)),
  channel: obj({ alternatives: arr(obj({ transcript: str, confidence: opt(num), words: opt(arr(word)) })) }),
  metadata: opt(obj({ request_id: opt(str) })),
});

const message = byTag('type', {
  Results: results,
  Metadata: obj({ type: str, request_id: opt(str) }),
  Error: obj({ type: str, description: opt(str), message: opt(str), err_code: opt(unknownValue) }),
});

export function parseDeepgram(text: string): Parsed[] {
  const m = readJson(text, message, 'Deepgram message') as Record<string, any>;
  switch (m.type) {
    case 'Results': {
      const alt = m.channel.alternatives[0];
      const out: Parsed[] = [];
      if (m.metadata?.request_id) out.push({ kind: 'session', id: m.metadata.request_id });
      out.push({
        kind: 'result',
        result: {
          start: m.start,
          end: m.start + m.duration,
          text: alt?.transcript ?? '',
          final: m.is_final === true,
          endOfTurn: m.speech_final === true,
          ...(alt?.confidence !== undefined && { confidence: alt.confidence }),
          ...(m.channel_index?.[0] !== undefined && { channel: m.channel_index[0] }),
          words: (alt?.words ?? []).map((w: any) => ({
            word: w.punctuated_word ?? w.word,
            start: w.start,
            end: w.end,
            ...(w.confidence !== undefined && { confidence: w.confidence }),
            ...(w.speaker !== undefined && { speaker: String(w.speaker) }),
          })),
        },
      });
      return out;
    }
    case 'Metadata':
      return [...(m.request_id ? [{ kind: 'session' as const, id: m.request_id as string }] : []), { kind: 'done' }];
    case 'Error':
      return [{ kind: 'error', message: m.description ?? m.message ?? 'error', ...(m.err_code !== undefined && { code: String(m.err_code) }) }];
    default:
      return [{ kind: 'other' }];
  }
}
