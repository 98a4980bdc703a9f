/**
 * The emulator's AssemblyAI v3 session: Begin on open; binary chunks of
 * 50-1000 ms no faster than real time (3007 otherwise); Turns over the
 * speech found (partials every 0.5 s, the ended turn raw and then
 * formatted with format_turns); Terminate answered by Termination.
 * Refusals are in-band as the service does them: an Error frame, then a
 * close with the same code (1008 for keys and concurrency).
 */
import type WebSocket from 'ws';
import { Session, type SessionContext } from '../emulator/session';
import { wordsFor, type Segment } from '../emulator/segmenter';

export class AssemblyaiSession extends Session {
  private turnOrder = 0;
  private lastPartial = 0;
  private readonly formatTurns: boolean;
  /** Real time allowed ahead of the wall clock before 3007. */
  private readonly leadSec = 1;

  constructor(ws: WebSocket, params: Record<string, string>, ctx: SessionContext) {
    super(ws, 'assemblyai', params, Number(params.min_end_of_turn_silence_when_confident) || 400, ctx);
    this.formatTurns = params.format_turns === 'true';
    this.send({ type: 'Begin', id: this.rec.id, expires_at: Math.floor(Date.now() / 1000) + 3 * 3600 });
  }

  onBinary(data: Buffer): void {
    this.rec.binaryMessages++;
    const ms = (data.length / 2 / this.rate) * 1000;
    this.rec.chunkMs.push(ms);
    if (ms < 50 - 1e-6 || ms > 1000 + 1e-6) {
      this.rec.violations.push(`chunk of ${ms.toFixed(1)} ms`);
      return this.end(3007, `Input duration violation: ${ms.toFixed(0)} ms. Expected between 50 and 1000 ms`);
    }
    this.feed(data);
    const wall = (performance.now() - this.rec.openedAt) / 1000;
    if (this.audioSec > wall + this.leadSec) {
      this.rec.violations.push(`audio ${this.audioSec.toFixed(2)} s after ${wall.toFixed(2)} s of session`);
      this.end(3007, 'Audio sent faster than real time');
    }
  }

  onText(text: string): void {
    const m = this.message(text);
    if (!m) return;
    switch (m.type) {
      case 'Terminate':
        this.flushSpeech();
        this.send({
          type: 'Termination',
          audio_duration_seconds: Math.round(this.audioSec),
          session_duration_seconds: Math.round((performance.now() - this.rec.openedAt) / 1000),
        });
        return this.end(1000);
      case 'ForceEndpoint':
        return this.flushSpeech();
      case 'UpdateConfiguration':
        return;
      default:
        this.rec.violations.push(`unknown message type ${m.type}`);
    }
  }

  protected onSpeechStart(): void {
    this.lastPartial = this.audioSec;
  }

  malformed(): string {
    return JSON.stringify({ type: 'Turn', end_of_turn: true, transcript: 'x', words: [null] });
  }

  /** In-band refusal: the Error frame, then the close with the same code. */
  static refuse(ws: WebSocket, why: 'key' | 'rate'): void {
    const error = why === 'key' ? 'Unauthorized Connection: Missing Authorization header' : 'Unauthorized Connection: Too many concurrent sessions';
    ws.send(JSON.stringify({ type: 'Error', error_code: 1008, error }));
    ws.close(1008, error);
  }

  protected onSegment(s: Segment): void {
    this.turn(wordsFor(s.start, s.end), true, false);
    if (this.formatTurns) this.turn(wordsFor(s.start, s.end), true, true);
    this.turnOrder++;
  }

  protected override afterAudio(): void {
    const now = this.audioSec;
    if (this.seg.inSpeech && now - this.lastPartial >= 0.5) {
      this.lastPartial = now;
      this.turn(wordsFor(this.seg.currentStart, now), false, false);
    }
  }

  private turn(words: { word: string; start: number; end: number }[], endOfTurn: boolean, formatted: boolean): void {
    const text = words.map((w) => w.word).join(' ');
    if (endOfTurn && formatted) this.rec.results.push({ start: words[0]!.start, end: words[words.length - 1]!.end, final: true, words: words.length });
    else if (endOfTurn && !this.formatTurns) this.rec.results.push({ start: words[0]!.start, end: words[words.length - 1]!.end, final: true, words: words.length });
    this.send({
      type: 'Turn',
      turn_order: this.turnOrder,
      turn_is_formatted: formatted,
      end_of_turn: endOfTurn,
      transcript: formatted ? text.charAt(0).toUpperCase() + text.slice(1) + '.' : text,
      end_of_turn_confidence: endOfTurn ? 0.9 : 0.1,
      words: words.map((w, i) => ({
        start: Math.round(w.start * 1000),
        end: Math.round(w.end * 1000),
        text: w.word,
        confidence: 0.99,
        word_is_final: endOfTurn || i < words.length - 1,
      })),
      utterance: '',
    });
  }
}

