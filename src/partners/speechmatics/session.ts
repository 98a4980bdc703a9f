/**
 * The emulator's Speechmatics real-time session: StartRecognition must come
 * first (raw pcm_s16le with a sample_rate, a language), then binary AddAudio
 * frames, each answered by AudioAdded; AddTranscript finals tile the
 * timeline (at the end of each utterance, and every 2 s of silence, as the
 * service's max_delay does), AddPartialTranscript with enable_partials;
 * EndOfStream (with the right last_seq_no) answered by EndOfTranscript.
 * Refusals: a bad key at the handshake (HTTP 401); the concurrency quota
 * in-band (Error quota_exceeded, close 4005).
 */
import type WebSocket from 'ws';
import { Session, r3, type SessionContext } from '../emulator/session';
import { wordsFor, type Segment } from '../emulator/segmenter';

type Word = { word: string; start: number; end: number };

export class SpeechmaticsSession extends Session {
  private started = false;
  private seqNo = 0;
  private cursor = 0;
  private lastPartial = 0;
  private partials = false;

  constructor(ws: WebSocket, params: Record<string, string>, ctx: SessionContext) {
    super(ws, 'speechmatics', params, 300, ctx);
  }

  onBinary(data: Buffer): void {
    this.rec.binaryMessages++;
    if (!this.started) return this.error('protocol_error', 'AddAudio before StartRecognition', 1003);
    this.rec.chunkMs.push((data.length / 2 / this.rate) * 1000);
    this.feed(data);
    this.send({ message: 'AudioAdded', seq_no: ++this.seqNo });
  }

  onText(text: string): void {
    const m = this.message(text);
    if (!m) return this.error('invalid_message', 'not JSON', 1003);
    switch (m.message) {
      case 'StartRecognition':
        return this.start(m);
      case 'EndOfStream':
        if (m.last_seq_no !== this.seqNo) this.rec.violations.push(`EndOfStream last_seq_no ${String(m.last_seq_no)}, ${this.seqNo} AddAudio received`);
        this.flushSpeech();
        if (this.audioSec > this.cursor) this.transcript(this.cursor, this.audioSec, []);
        this.send({ message: 'EndOfTranscript' });
        return this.end(1000);
      case 'SetRecognitionConfig':
      case 'ForceEndOfUtterance':
        return;
      default:
        this.rec.violations.push(`unknown message ${String(m.message)}`);
        return this.error('invalid_message', `unknown message ${String(m.message)}`, 1003);
    }
  }

  private start(m: Record<string, unknown>): void {
    const af = m.audio_format as { type?: string; encoding?: string; sample_rate?: unknown } | undefined;
    const tc = m.transcription_config as { language?: unknown; enable_partials?: unknown } | undefined;
    if (this.started) return this.error('protocol_error', 'StartRecognition sent twice', 1003);
    if (af?.type !== 'raw' || af.encoding !== 'pcm_s16le' || typeof af.sample_rate !== 'number' || af.sample_rate <= 0) {
      this.rec.violations.push(`audio_format ${JSON.stringify(af)}`);
      return this.error('invalid_audio_type', 'the emulator takes raw pcm_s16le with a sample_rate', 4003);
    }
    if (typeof tc?.language !== 'string') return this.error('invalid_config', 'transcription_config.language is required', 4003);
    this.started = true;
    this.partials = tc.enable_partials === true;
    this.setPcm(af.sample_rate);
    this.send({ message: 'RecognitionStarted', id: this.rec.id, language_pack_info: { language_description: tc.language, word_delimiter: ' ', writing_direction: 'left-to-right', itn: true, adapted: false } });
  }

  private error(type: string, reason: string, code: number): void {
    this.send({ message: 'Error', type, reason });
    this.end(code, type);
  }

  malformed(): string {
    return JSON.stringify({ message: 'AddTranscript', metadata: { start_time: 0, end_time: 1, transcript: 'x' }, results: [null] });
  }

  /** In-band refusal of a rate limit: Error quota_exceeded, close 4005. */
  static refuse(ws: WebSocket): void {
    ws.send(JSON.stringify({ message: 'Error', type: 'quota_exceeded', reason: 'Concurrent session limit reached' }));
    ws.close(4005, 'quota_exceeded');
  }

  protected onSpeechStart(): void {
    this.lastPartial = this.audioSec;
  }

  protected onSegment(s: Segment): void {
    this.transcript(this.cursor, Math.max(this.audioSec, s.end), wordsFor(Math.max(s.start, this.cursor), s.end));
  }

  protected override afterAudio(): void {
    const now = this.audioSec;
    if (!this.seg.inSpeech) {
      if (now - this.cursor >= 2) this.transcript(this.cursor, now, []);
      return;
    }
    if (this.partials && now - this.lastPartial >= 0.5) {
      this.lastPartial = now;
      this.send(this.shape('AddPartialTranscript', this.cursor, now, wordsFor(Math.max(this.seg.currentStart, this.cursor), now)));
    }
  }

  private transcript(start: number, end: number, words: Word[]): void {
    this.cursor = end;
    this.rec.results.push({ start, end, final: true, words: words.length });
    this.send(this.shape('AddTranscript', start, end, words));
  }

  private shape(message: string, start: number, end: number, words: Word[]) {
    return {
      message,
      format: '2.9',
      metadata: { start_time: r3(start), end_time: r3(end), transcript: words.map((w) => w.word).join(' ') },
      results: words.map((w) => ({ type: 'word', start_time: w.start, end_time: w.end, alternatives: [{ content: w.word, confidence: 0.99, language: 'en', speaker: 'S1' }] })),
    };
  }
}
