/**
 * The emulator's Gladia live v2 session, behind its HTTP set-up (index.ts):
 * binary PCM (or JSON audio_chunk with base64) in; `transcript` messages out
 * for each utterance (partials when asked), with the lifecycle events
 * start_session/start_recording/end_recording/end_session when asked;
 * stop_recording answered (acknowledged if asked) by the last transcripts,
 * end_recording, end_session and a close 1000.
 */
import type WebSocket from 'ws';
import { Session, r3, type SessionContext } from '../emulator/session';
import { wordsFor, type Segment } from '../emulator/segmenter';

export class GladiaSession extends Session {
  private utterances = 0;
  private lastPartial = 0;
  private readonly cfg: { partial: boolean; lifecycle: boolean; acks: boolean };

  constructor(ws: WebSocket, params: Record<string, string>, ctx: SessionContext) {
    super(ws, 'gladia', params, Number(params.endpointing ?? 0.3) * 1000, { ...ctx, id: params.session_id ?? ctx.id });
    this.cfg = { partial: params.partial === 'true', lifecycle: params.lifecycle === 'true', acks: params.acks === 'true' };
    this.lifecycle('start_session');
    this.lifecycle('start_recording');
  }

  private message_(type: string, fields: Record<string, unknown> = {}): void {
    this.send({ session_id: this.rec.id, created_at: new Date().toISOString(), type, ...fields });
  }

  private lifecycle(type: string, fields: Record<string, unknown> = {}): void {
    if (this.cfg.lifecycle) this.message_(type, fields);
  }

  onBinary(data: Buffer): void {
    this.rec.binaryMessages++;
    if (data.length === 0) {
      this.rec.emptyFrames++;
      return;
    }
    this.rec.chunkMs.push((data.length / 2 / this.rate) * 1000);
    const from = this.rec.audioBytes;
    const t0 = this.audioSec;
    this.feed(data);
    if (this.cfg.acks) {
      this.message_('audio_chunk', { acknowledged: true, error: null, data: { byte_range: [from, this.rec.audioBytes], time_range: [r3(t0), r3(this.audioSec)] } });
    }
  }

  onText(text: string): void {
    const m = this.message(text);
    if (!m) return;
    switch (m.type) {
      case 'audio_chunk': {
        const chunk = (m.data as { chunk?: unknown } | undefined)?.chunk;
        if (typeof chunk !== 'string') return void this.rec.violations.push('audio_chunk without data.chunk');
        return this.feed(Buffer.from(chunk, 'base64'));
      }
      case 'stop_recording': {
        this.flushSpeech();
        const duration = r3(this.audioSec);
        if (this.cfg.acks) this.message_('stop_recording', { acknowledged: true, error: null, data: { recording_duration: duration, recording_left_to_process: 0 } });
        this.lifecycle('end_recording', { data: { recording_duration: duration } });
        this.lifecycle('end_session');
        return this.end(1000);
      }
      default:
        this.rec.violations.push(`unknown message type ${String(m.type)}`);
    }
  }

  malformed(): string {
    return JSON.stringify({ type: 'transcript', session_id: this.rec.id, data: { id: 'x', is_final: true, utterance: { start: 0, end: 1, text: 'x', words: [null] } } });
  }

  protected onSpeechStart(): void {
    this.lastPartial = this.audioSec;
  }

  protected onSegment(s: Segment): void {
    this.utterance(s.start, s.end, true);
  }

  protected override afterAudio(): void {
    const now = this.audioSec;
    if (this.cfg.partial && this.seg.inSpeech && now - this.lastPartial >= 0.5) {
      this.lastPartial = now;
      this.utterance(this.seg.currentStart, now, false);
    }
  }

  private utterance(start: number, end: number, final: boolean): void {
    const words = wordsFor(start, end);
    if (final) this.rec.results.push({ start, end, final, words: words.length });
    this.message_('transcript', {
      data: {
        id: `${this.rec.id}_${final ? this.utterances++ : this.utterances}`,
        is_final: final,
        utterance: {
          start: r3(start),
          end: r3(end),
          confidence: 0.99,
          channel: 0,
          text: ` ${words.map((w) => w.word).join(' ')}`,
          language: 'en',
          words: words.map((w) => ({ word: ` ${w.word}`, start: w.start, end: w.end, confidence: 0.99 })),
        },
      },
    });
  }
}
