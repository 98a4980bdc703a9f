/** AssemblyAI Universal Streaming v3 server messages, as shapes checked before use. */
import { arr, bool, byTag, num, obj, opt, readJson, str } from '../core/validate';
import type { Parsed } from '../types';

const turn = obj({
  type: str,
  transcript: str,
  end_of_turn: bool,
  turn_is_formatted: opt(bool),
  end_of_turn_confidence: opt(num),
  words: arr(obj({ text: str, start: num, end: num, confidence: opt(num), word_is_final: opt(bool) })),
});

const message = byTag('type', {
  Begin: obj({ type: str, id: str }),
  Turn: turn,
  Termination: obj({ type: str }),
  Error: obj({ type: str, error: opt(str), error_code: opt(num) }),
});

/**
 * With format_turns an ended turn arrives twice (raw, then formatted): the
 * formatted one is the final, the raw one counts as interim. Word times are
 * in milliseconds.
 */
export function parseAssemblyai(text: string, formatTurns: boolean): Parsed[] {
  const m = readJson(text, message, 'AssemblyAI message') as Record<string, any>;
  switch (m.type) {
    case 'Begin':
      return [{ kind: 'session', id: m.id }];
    case 'Turn': {
      const ended = m.end_of_turn === true;
      const final = ended && (!formatTurns || m.turn_is_formatted === true);
      const words = (m.words as { text: string; start: number; end: number; confidence?: number }[]).map((w) => ({
        word: w.text,
        start: w.start / 1000,
        end: w.end / 1000,
        ...(w.confidence !== undefined && { confidence: w.confidence }),
      }));
      const start = words.length ? words[0]!.start : 0;
      const end = words.length ? words[words.length - 1]!.end : 0;
      return [{ kind: 'result', result: { start, end, text: m.transcript, final, endOfTurn: ended, words } }];
    }
    case 'Termination':
      return [{ kind: 'done' }];
    case 'Error':
      return [{ kind: 'error', message: m.error ?? 'error', ...(m.error_code !== undefined && { code: String(m.error_code) }) }];
    default:
      return [{ kind: 'other' }];
  }
}
