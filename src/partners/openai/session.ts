/**
 * The emulator's OpenAI Realtime transcription session: session.created on
 * open; session.update must ask for a transcription session with 24 kHz
 * audio/pcm (answered by session.updated); audio arrives base64 in
 * input_audio_buffer.append events; the server VAD (the energy segmenter,
 * with the session's silence_duration_ms) announces speech_started /
 * speech_stopped with audio milliseconds, commits the item and sends its
 * transcript (a delta, then completed); input_audio_buffer.commit closes the
 * open turn, or answers input_audio_buffer_commit_empty. Refusals are in-band
 * as the service does them: an `error` event, then close 3000.
 */
import type WebSocket from 'ws';
import { Session, type SessionContext } from '../emulator/session';
import { wordsFor, type Segment } from '../emulator/segmenter';

export class OpenaiSession extends Session {
  private configured = false;
  private items = 0;
  private open?: { id: string; start: number };
  private previous: string | null = null;
  private events = 0;
  private manual = false;

  constructor(ws: WebSocket, params: Record<string, string>, ctx: SessionContext) {
    super(ws, 'openai', params, 500, ctx);
    this.setPcm(24_000);
    this.rec.id = `sess_${ctx.id.replace(/-/g, '').slice(0, 20)}`;
    this.event('session.created', { session: { id: this.rec.id, object: 'realtime.session', type: 'transcription' } });
  }

  private event(type: string, fields: Record<string, unknown>): void {
    this.send({ type, event_id: `event_${++this.events}`, ...fields });
  }

  private error(code: string, message: string, type = 'invalid_request_error'): void {
    this.event('error', { error: { type, code, message, param: null, event_id: null } });
  }

  onBinary(): void {
    this.rec.binaryMessages++;
    this.rec.violations.push('binary frame: audio goes in input_audio_buffer.append events');
  }

  onText(text: string): void {
    const m = this.message(text);
    if (!m) return this.error('invalid_json', 'The event is not valid JSON');
    switch (m.type) {
      case 'session.update':
        return this.update(m.session as Record<string, any> | undefined);
      case 'input_audio_buffer.append': {
        if (typeof m.audio !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(m.audio)) {
          this.rec.violations.push('append without base64 audio');
          return this.error('invalid_value', 'audio must be base64');
        }
        if (!this.configured) this.rec.violations.push('audio before session.updated');
        const pcm = Buffer.from(m.audio, 'base64');
        this.rec.chunkMs.push((pcm.length / 2 / this.rate) * 1000);
        return this.feed(pcm);
      }
      case 'input_audio_buffer.commit':
        if (!this.open) return this.error('input_audio_buffer_commit_empty', 'Error committing input audio buffer: the buffer has no speech to commit');
        // A manual commit: the turn ends where the audio ends, with no speech_stopped.
        this.manual = true;
        this.flushSpeech();
        if (this.open) this.closeItem(this.open.start, this.audioSec, '');
        this.manual = false;
        return;
      default:
        this.rec.violations.push(`unknown event ${String(m.type)}`);
        return this.error('unknown_event', `Unknown event type ${String(m.type)}`);
    }
  }

  private update(session: Record<string, any> | undefined): void {
    const fmt = session?.audio?.input?.format;
    if (session?.type !== 'transcription') {
      this.rec.violations.push(`session.update type ${String(session?.type)}`);
      return this.error('invalid_value', 'session.type must be transcription on a transcription session');
    }
    if (fmt && (fmt.type !== 'audio/pcm' || fmt.rate !== 24_000)) {
      this.rec.violations.push(`audio format ${JSON.stringify(fmt)}`);
      return this.error('invalid_value', 'audio/pcm at 24000 Hz only');
    }
    const silence = session.audio?.input?.turn_detection?.silence_duration_ms;
    this.setPcm(24_000, 1, typeof silence === 'number' ? silence : 500);
    this.configured = true;
    this.event('session.updated', { session });
  }

  malformed(): string {
    return JSON.stringify({ type: 'conversation.item.input_audio_transcription.completed', item_id: null, transcript: 7 });
  }

  static refuse(ws: WebSocket, code: 'invalid_api_key' | 'rate_limit_exceeded'): void {
    const type = code === 'invalid_api_key' ? 'invalid_request_error' : 'rate_limit_error';
    const message = code === 'invalid_api_key' ? 'Incorrect API key provided.' : 'Rate limit reached for realtime sessions.';
    ws.send(JSON.stringify({ type: 'error', event_id: 'event_0', error: { type, code, message, param: null, event_id: null } }));
    ws.close(3000, `${type}.${code}`);
  }

  protected onSpeechStart(t: number): void {
    this.open = { id: `item_${++this.items}`, start: t };
    this.event('input_audio_buffer.speech_started', { audio_start_ms: Math.round(t * 1000), item_id: this.open.id });
  }

  protected onSegment(s: Segment): void {
    this.closeItem(s.start, s.end, wordsFor(s.start, s.end).map((w) => w.word).join(' '));
  }

  protected override afterAudio(): void {
    // A blip too short to be speech still made an item: it is transcribed as nothing.
    if (this.open && !this.seg.inSpeech) this.closeItem(this.open.start, this.audioSec, '');
  }

  private closeItem(start: number, end: number, transcript: string): void {
    const id = this.open?.id ?? `item_${++this.items}`;
    this.open = undefined;
    if (!this.manual) this.event('input_audio_buffer.speech_stopped', { audio_end_ms: Math.round(end * 1000), item_id: id });
    this.event('input_audio_buffer.committed', { item_id: id, previous_item_id: this.previous });
    this.previous = id;
    if (transcript) this.event('conversation.item.input_audio_transcription.delta', { item_id: id, content_index: 0, delta: transcript });
    this.rec.results.push({ start, end, final: true, words: transcript ? transcript.split(' ').length : 0 });
    this.event('conversation.item.input_audio_transcription.completed', {
      item_id: id,
      content_index: 0,
      transcript,
      usage: { type: 'duration', seconds: Math.round((end - start) * 10) / 10 },
    });
  }
}
