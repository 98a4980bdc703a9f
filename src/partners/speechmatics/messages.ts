/** Speechmatics real-time (v2) server messages, as shapes checked before use. */
import { arr, byTag, num, obj, opt, readJson, str } from '../core/validate';
import type { Parsed, PartnerResult } from '../types';

const result = obj({
  type: str,
  start_time: num,
  end_time: num,
  alternatives: opt(arr(obj({ content: str, confidence: opt(num), speaker: opt(str) }))),
});
const transcript = obj({ message: str, metadata: obj({ start_time: num, end_time: num, transcript: str }), results: arr(result), channel: opt(str) });

const message = byTag('message', {
  RecognitionStarted: obj({ message: str, id: opt(str) }),
  AddTranscript: transcript,
  AddPartialTranscript: transcript,
  EndOfTranscript: obj({ message: str }),
  Error: obj({ message: str, type: str, reason: opt(str), code: opt(num) }),
});

function toResult(m: Record<string, any>, final: boolean): PartnerResult {
  const words = (m.results as { type: string; start_time: number; end_time: number; alternatives?: { content: string; confidence?: number; speaker?: string }[] }[])
    .filter((r) => r.type === 'word' && r.alternatives?.length)
    .map((r) => {
      const a = r.alternatives![0]!;
      return { word: a.content, start: r.start_time, end: r.end_time, ...(a.confidence !== undefined && { confidence: a.confidence }), ...(a.speaker !== undefined && { speaker: a.speaker }) };
    });
  const speaker = words[0]?.speaker;
  return { start: m.metadata.start_time, end: m.metadata.end_time, text: m.metadata.transcript.trim(), final, words, ...(speaker !== undefined && { speaker }) };
}

export function parseSpeechmatics(text: string): Parsed[] {
  const m = readJson(text, message, 'Speechmatics message') as Record<string, any>;
  switch (m.message) {
    case 'RecognitionStarted':
      return [...(m.id ? [{ kind: 'session' as const, id: m.id as string }] : []), { kind: 'ready' }];
    case 'AddTranscript':
      return [{ kind: 'result', result: toResult(m, true) }];
    case 'AddPartialTranscript':
      return [{ kind: 'result', result: toResult(m, false) }];
    case 'EndOfTranscript':
      return [{ kind: 'done' }];
    case 'Error':
      return [{ kind: 'error', message: `${m.type}${m.reason ? `: ${m.reason}` : ''}`, code: m.type }];
    default:
      return [{ kind: 'other' }]; // AudioAdded, Info, Warning, EndOfUtterance...
  }
}
