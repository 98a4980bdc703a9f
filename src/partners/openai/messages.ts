/**
 * OpenAI Realtime transcription-session server events, as shapes checked
 * before use. Transcripts carry no times of their own: a turn's times are
 * the VAD's speech_started/speech_stopped for the same item_id (audio
 * milliseconds since the session's first sample), so the parser keeps one
 * connection's items and emits a result when an item's transcript completes.
 */
import { byTag, num, obj, opt, readJson, str } from '../core/validate';
import type { Parsed } from '../types';

const message = byTag('type', {
  'session.created': obj({ type: str, session: obj({ id: opt(str) }) }),
  'session.updated': obj({ type: str }),
  'input_audio_buffer.speech_started': obj({ type: str, item_id: str, audio_start_ms: num }),
  'input_audio_buffer.speech_stopped': obj({ type: str, item_id: str, audio_end_ms: num }),
  'input_audio_buffer.committed': obj({ type: str, item_id: str }),
  'conversation.item.input_audio_transcription.delta': obj({ type: str, item_id: str, delta: opt(str) }),
  'conversation.item.input_audio_transcription.completed': obj({ type: str, item_id: str, transcript: str }),
  'conversation.item.input_audio_transcription.failed': obj({ type: str, item_id: str, error: obj({ message: opt(str), code: opt(str) }) }),
  error: obj({ type: str, error: obj({ type: opt(str), code: opt(str), message: opt(str) }) }),
});

interface Item {
  start?: number;
  end?: number;
  text: string;
}

/**
 * One connection's parser: it remembers the items in flight. Our final
 * commit is answered either by a `committed` for an item the VAD never
 * stopped (the turn ends where our audio ended) or by
 * input_audio_buffer_commit_empty; once answered, the stream is done when no
 * item is left in flight.
 */
export class OpenaiParser {
  private readonly items = new Map<string, Item>();
  /** Audio appended on this connection (s), and where our final commit cut it (-1: not yet). */
  appendedSec = 0;
  private commitAt = -1;
  private commitAnswered = false;

  finish(): void {
    this.commitAt = this.appendedSec;
  }

  private doneIfIdle(): Parsed[] {
    return this.commitAnswered && this.items.size === 0 ? [{ kind: 'done' }] : [];
  }

  parse(text: string): Parsed[] {
    const m = readJson(text, message, 'OpenAI realtime event') as Record<string, any>;
    const item = (id: string) => this.items.get(id) ?? this.items.set(id, { text: '' }).get(id)!;
    switch (m.type) {
      case 'session.created':
        return m.session.id ? [{ kind: 'session', id: m.session.id }] : [];
      case 'session.updated':
        return [{ kind: 'ready' }];
      case 'input_audio_buffer.speech_started':
        item(m.item_id).start = m.audio_start_ms / 1000;
        return [];
      case 'input_audio_buffer.speech_stopped':
        item(m.item_id).end = m.audio_end_ms / 1000;
        return [];
      case 'input_audio_buffer.committed': {
        const it = item(m.item_id);
        if (it.end === undefined && this.commitAt >= 0) {
          it.end = this.commitAt;
          this.commitAnswered = true;
        }
        return [];
      }
      case 'conversation.item.input_audio_transcription.delta': {
        const it = item(m.item_id);
        it.text += m.delta ?? '';
        return it.start === undefined ? [] : [{ kind: 'result', result: { start: it.start, end: it.end ?? it.start, text: it.text, final: false } }];
      }
      case 'conversation.item.input_audio_transcription.completed':
      case 'conversation.item.input_audio_transcription.failed': {
        const it = item(m.item_id);
        this.items.delete(m.item_id);
        const out: Parsed[] =
          m.type === 'conversation.item.input_audio_transcription.failed'
            ? [{ kind: 'error', message: m.error.message ?? 'transcription failed', ...(m.error.code && { code: m.error.code }) }]
            : it.start === undefined || it.end === undefined
              ? []
              : [{ kind: 'result', result: { start: it.start, end: it.end, text: m.transcript.trim(), final: true } }];
        return [...out, ...this.doneIfIdle()];
      }
      case 'error': {
        const e = m.error;
        const out: Parsed[] = [{ kind: 'error', message: e.message ?? e.code ?? 'error', ...(e.code && { code: e.code }) }];
        // Our final commit found nothing left to transcribe.
        if (this.commitAt >= 0 && e.code === 'input_audio_buffer_commit_empty') this.commitAnswered = true;
        return [...out, ...this.doneIfIdle()];
      }
      default:
        return [{ kind: 'other' }];
    }
  }
}
