/** Gladia live v2 WebSocket messages, as shapes checked before use. */
import { arr, bool, byTag, num, obj, opt, readJson, str } from '../core/validate';
import type { Parsed } from '../types';

const utterance = obj({
  start: num,
  end: num,
  confidence: opt(num),
  channel: opt(num),
  speaker: opt(num),
  text: str,
  words: arr(obj({ word: str, start: num, end: num, confidence: opt(num) })),
});

const message = byTag('type', {
  transcript: obj({ type: str, session_id: str, data: obj({ id: str, is_final: bool, utterance }) }),
  start_session: obj({ type: str, session_id: str }),
  end_session: obj({ type: str, session_id: str }),
  audio_chunk: obj({ type: str, acknowledged: bool, error: opt(obj({ message: str })) }),
  stop_recording: obj({ type: str, acknowledged: bool, error: opt(obj({ message: str })) }),
});

export function parseGladia(text: string): Parsed[] {
  const m = readJson(text, message, 'Gladia message') as Record<string, any>;
  switch (m.type) {
    case 'transcript': {
      const u = m.data.utterance;
      return [
        {
          kind: 'result',
          result: {
            start: u.start,
            end: u.end,
            text: u.text.trim(),
            final: m.data.is_final,
            ...(u.confidence !== undefined && { confidence: u.confidence }),
            ...(u.channel !== undefined && { channel: u.channel }),
            ...(u.speaker !== undefined && { speaker: String(u.speaker) }),
            words: u.words.map((w: { word: string; start: number; end: number; confidence?: number }) => ({
              word: w.word.trim(),
              start: w.start,
              end: w.end,
              ...(w.confidence !== undefined && { confidence: w.confidence }),
            })),
          },
        },
      ];
    }
    case 'start_session':
      return [{ kind: 'session', id: m.session_id }];
    case 'end_session':
      // After stop_recording: every second of audio was transcribed.
      return [{ kind: 'done' }];
    case 'audio_chunk':
    case 'stop_recording':
      return m.acknowledged ? [{ kind: 'other' }] : [{ kind: 'error', message: m.error?.message ?? `${m.type} not acknowledged` }];
    default:
      return [{ kind: 'other' }];
  }
}
