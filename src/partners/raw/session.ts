/** The emulator's raw session: PCM16 or Opus packets in, generic transcripts out, `close` answered by `closed`. */
import type WebSocket from 'ws';
import { Session, r3, type SessionContext } from '../emulator/session';
import { wordsFor, type Segment } from '../emulator/segmenter';

export class RawSession extends Session {
  constructor(ws: WebSocket, params: Record<string, string>, ctx: SessionContext) {
    super(ws, 'raw', params, 300, ctx, params.encoding === 'opus' ? 'opus-packets' : 'pcm');
    this.send({ type: 'session', id: this.rec.id });
  }

  onBinary(data: Buffer): void {
    this.rec.binaryMessages++;
    if (data.length === 0) {
      this.rec.emptyFrames++;
      return;
    }
    if (this.rec.format === 'pcm') this.rec.chunkMs.push((data.length / 2 / this.channels / this.rate) * 1000);
    this.feed(data);
  }

  onText(text: string): void {
    if (this.message(text)?.type === 'close') {
      this.flushSpeech();
      this.send({ type: 'closed', audioSec: r3(this.audioSec) });
      this.end(1000);
    }
  }

  malformed(): string {
    return JSON.stringify({ type: 'transcript', start: 'soon', end: null, text: 1 });
  }

  protected onSpeechStart(): void {}

  protected onSegment(s: Segment): void {
    this.rec.results.push({ start: s.start, end: s.end, final: true, words: 1 });
    this.send({ type: 'transcript', start: r3(s.start), end: r3(s.end), text: wordsFor(s.start, s.end).map((w) => w.word).join(' '), final: true });
  }
}
