/**
 * One emulated partner session per protocol. Each validates what the client
 * sends as the real service does and answers with protocol-shaped messages
 * over energy-detected speech, timed on the audio it received.
 */
import { randomUUID } from 'node:crypto';
import type WebSocket from 'ws';
import { EnergySegmenter, wordsFor, type Segment } from './segmenter';

export type Protocol = 'deepgram' | 'assemblyai' | 'raw';

export interface SessionRecord {
  protocol: Protocol;
  id: string;
  params: Record<string, string>;
  audioSec: number;
  binaryMessages: number;
  emptyFrames: number;
  keepAlives: number;
  textMessages: string[];
  violations: string[];
  /** Results sent, in connection seconds (for tests). */
  results: { start: number; end: number; final: boolean; words: number }[];
  closeCode?: number;
  closedBy?: 'client' | 'server';
  openedAt: number;
  /** Chunk durations (ms) as received. */
  chunkMs: number[];
}

export abstract class Session {
  readonly rec: SessionRecord;
  protected readonly seg: EnergySegmenter;
  protected readonly rate: number;
  protected readonly channels: number;
  private carry: number | undefined;
  private mono = new Int16Array(0);
  protected ended = false;

  /** Records a client text message; its JSON, or undefined (and a violation) when it is not JSON. */
  protected message(text: string): { type?: string } | undefined {
    this.rec.textMessages.push(text);
    try {
      return JSON.parse(text) as { type?: string };
    } catch {
      this.rec.violations.push('text message is not JSON');
      return undefined;
    }
  }

  constructor(
    protected readonly ws: WebSocket,
    readonly protocol: Protocol,
    params: Record<string, string>,
    hangoverMs: number,
    id = randomUUID(),
  ) {
    this.rate = Number(params.sample_rate ?? 16_000);
    this.channels = Number(params.channels ?? 1);
    this.seg = new EnergySegmenter(this.rate, { hangoverMs });
    this.rec = {
      protocol,
      id,
      params,
      audioSec: 0,
      binaryMessages: 0,
      emptyFrames: 0,
      keepAlives: 0,
      textMessages: [],
      violations: [],
      results: [],
      openedAt: performance.now(),
      chunkMs: [],
    };
  }

  get audioSec(): number {
    return this.seg.time;
  }

  send(obj: unknown): void {
    if (!this.ended && this.ws.readyState === 1) this.ws.send(JSON.stringify(obj));
  }

  end(code: number, reason = ''): void {
    if (this.ended) return;
    this.ended = true;
    this.rec.closeCode = code;
    this.rec.closedBy = 'server';
    this.ws.close(code, reason);
  }

  /** Decodes s16le (carrying an odd byte across messages), downmixes, segments. */
  protected feed(buf: Buffer): void {
    let bytes = buf;
    if (this.carry !== undefined) {
      bytes = Buffer.concat([Buffer.from([this.carry]), buf]);
      this.carry = undefined;
    }
    if (bytes.length % 2) {
      this.carry = bytes[bytes.length - 1];
      bytes = bytes.subarray(0, bytes.length - 1);
    }
    const n = bytes.length >> 1;
    const frames = Math.floor(n / this.channels);
    if (this.mono.length < frames) this.mono = new Int16Array(frames * 2);
    for (let i = 0; i < frames; i++) {
      let s = 0;
      for (let c = 0; c < this.channels; c++) s += bytes.readInt16LE((i * this.channels + c) * 2);
      this.mono[i] = s / this.channels;
    }
    this.seg.push(
      this.mono.subarray(0, frames),
      (t) => this.onSpeechStart(t),
      (s) => this.onSegment(s),
    );
    this.rec.audioSec = this.seg.time;
    this.afterAudio();
  }

  abstract onBinary(data: Buffer): void;
  abstract onText(text: string): void;
  protected abstract onSpeechStart(t: number): void;
  protected abstract onSegment(s: Segment): void;
  protected afterAudio(): void {}
  onClientClose(code: number): void {
    if (this.rec.closeCode === undefined) {
      this.rec.closeCode = code;
      this.rec.closedBy = 'client';
    }
    this.ended = true;
  }
  dispose(): void {}
}

const r3 = (x: number) => Math.round(x * 1000) / 1000;

/** Deepgram live /v1/listen. */
export class DeepgramSession extends Session {
  private cursor = 0;
  private lastInterim = 0;
  private inactivity?: NodeJS.Timeout;
  private readonly interim: boolean;
  private readonly vad: boolean;
  private readonly utteranceEndMs?: number;
  private lastWordEnd = -1;
  private utteranceEndSent = true;

  constructor(ws: WebSocket, params: Record<string, string>, private readonly inactivityMs = 10_000) {
    super(ws, 'deepgram', params, Math.max(Number(params.endpointing) || 300, 10));
    this.interim = params.interim_results === 'true';
    this.vad = params.vad_events === 'true';
    this.utteranceEndMs = params.utterance_end_ms ? Number(params.utterance_end_ms) : undefined;
    this.touch();
  }

  /** NET-0001: no audio or text message within the window. */
  private touch(): void {
    if (this.inactivity) clearTimeout(this.inactivity);
    this.inactivity = setTimeout(() => {
      this.rec.violations.push('NET-0001: no audio or KeepAlive for 10 s');
      this.end(1011, 'Deepgram did not receive audio data or a text message within the timeout window. NET-0001');
    }, this.inactivityMs);
  }

  onBinary(data: Buffer): void {
    this.touch();
    this.rec.binaryMessages++;
    if (data.length === 0) {
      // Deprecated: an empty binary frame used to mean "close the stream".
      this.rec.emptyFrames++;
      this.rec.violations.push('empty binary frame (deprecated close signal)');
      return this.closeStream();
    }
    this.rec.chunkMs.push((data.length / 2 / this.channels / this.rate) * 1000);
    this.feed(data);
  }

  onText(text: string): void {
    this.touch();
    const m = this.message(text);
    if (!m) return;
    switch (m.type) {
      case 'KeepAlive':
        this.rec.keepAlives++;
        break;
      case 'Finalize':
        this.finalizeNow(true);
        break;
      case 'CloseStream':
        this.closeStream();
        break;
      default:
        this.rec.violations.push(`unknown message type ${m.type}`);
    }
  }

  private closeStream(): void {
    this.seg.flush((s) => this.onSegment(s));
    this.finalizeNow(true);
    this.send({
      type: 'Metadata',
      transaction_key: 'deprecated',
      request_id: this.rec.id,
      sha256: '',
      created: new Date().toISOString(),
      duration: r3(this.audioSec),
      channels: this.channels,
      models: ['emulated'],
      model_info: { emulated: { name: 'earshot-emulator', version: '1', arch: 'energy' } },
    });
    this.end(1000);
  }

  protected onSpeechStart(t: number): void {
    if (this.vad) this.send({ type: 'SpeechStarted', channel: [0], timestamp: r3(t) });
    this.utteranceEndSent = true;
  }

  protected onSegment(s: Segment): void {
    // An endpoint: a final, speech_final result tiling from the last final to now.
    const from = Math.max(s.start, this.cursor);
    this.results(this.cursor, Math.max(this.audioSec, s.end), wordsFor(from, s.end), true, true);
    this.lastWordEnd = s.end;
    this.utteranceEndSent = this.utteranceEndMs === undefined;
  }

  protected override afterAudio(): void {
    const now = this.audioSec;
    if (!this.seg.inSpeech) {
      // Silence is finalised too (empty transcripts), so results tile the timeline.
      if (now - this.cursor >= 3) this.results(this.cursor, now, [], true, false);
      if (!this.utteranceEndSent && now - this.lastWordEnd >= this.utteranceEndMs! / 1000) {
        this.utteranceEndSent = true;
        this.send({ type: 'UtteranceEnd', channel: [0, 1], last_word_end: r3(this.lastWordEnd) });
      }
      return;
    }
    const from = Math.max(this.seg.currentStart, this.cursor);
    if (now - this.cursor >= 8) {
      this.results(this.cursor, now, wordsFor(from, now), true, false);
    } else if (this.interim && now - this.lastInterim >= 1) {
      this.lastInterim = now;
      this.results(this.cursor, now, wordsFor(from, now), false, false);
    }
  }

  private finalizeNow(fromFinalize: boolean): void {
    const now = this.audioSec;
    if (now <= this.cursor) return;
    const words = this.seg.inSpeech ? wordsFor(Math.max(this.seg.currentStart, this.cursor), now) : [];
    this.results(this.cursor, now, words, true, false, fromFinalize);
  }

  private results(
    start: number,
    end: number,
    words: { word: string; start: number; end: number }[],
    isFinal: boolean,
    speechFinal: boolean,
    fromFinalize = false,
  ): void {
    if (isFinal) this.cursor = end;
    this.rec.results.push({ start, end, final: isFinal, words: words.length });
    this.send({
      type: 'Results',
      channel_index: [0, 1],
      duration: end - start,
      start,
      is_final: isFinal,
      speech_final: speechFinal,
      from_finalize: fromFinalize,
      channel: {
        alternatives: [
          {
            transcript: words.map((w) => w.word).join(' '),
            confidence: words.length ? 0.99 : 0,
            words: words.map((w) => ({ ...w, confidence: 0.99, punctuated_word: w.word })),
          },
        ],
      },
      metadata: {
        request_id: this.rec.id,
        model_info: { name: 'earshot-emulator', version: '1', arch: 'energy' },
        model_uuid: '00000000-0000-0000-0000-000000000000',
      },
    });
  }

  override dispose(): void {
    if (this.inactivity) clearTimeout(this.inactivity);
  }
}

/** AssemblyAI Universal Streaming v3. */
export class AssemblyaiSession extends Session {
  private turnOrder = 0;
  private lastPartial = 0;
  private readonly formatTurns: boolean;
  /** Real time allowed ahead of the wall clock before 3007. */
  private readonly leadSec = 1;

  constructor(ws: WebSocket, params: Record<string, string>) {
    super(ws, 'assemblyai', params, Number(params.min_end_of_turn_silence_when_confident) || 400);
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
        this.seg.flush((s) => this.onSegment(s));
        this.send({
          type: 'Termination',
          audio_duration_seconds: Math.round(this.audioSec),
          session_duration_seconds: Math.round((performance.now() - this.rec.openedAt) / 1000),
        });
        return this.end(1000);
      case 'ForceEndpoint':
        return this.seg.flush((s) => this.onSegment(s));
      case 'UpdateConfiguration':
        return;
      default:
        this.rec.violations.push(`unknown message type ${m.type}`);
    }
  }

  protected onSpeechStart(): void {
    this.lastPartial = this.audioSec;
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

/** Raw PCM endpoint with a generic result shape. */
export class RawSession extends Session {
  constructor(ws: WebSocket, params: Record<string, string>) {
    super(ws, 'raw', params, 300);
    this.send({ type: 'session', id: this.rec.id });
  }

  onBinary(data: Buffer): void {
    this.rec.binaryMessages++;
    if (data.length === 0) {
      this.rec.emptyFrames++;
      return;
    }
    this.rec.chunkMs.push((data.length / 2 / this.channels / this.rate) * 1000);
    if (this.rec.params.encoding === 'opus') {
      // Opus packets are not decoded here: count 20 ms per packet.
      this.rec.audioSec += 0.02;
      return;
    }
    this.feed(data);
  }

  onText(text: string): void {
    if (this.message(text)?.type === 'close') {
      this.seg.flush((s) => this.onSegment(s));
      this.send({ type: 'closed', audioSec: r3(this.audioSec) });
      this.end(1000);
    }
  }

  protected onSpeechStart(): void {}

  protected onSegment(s: Segment): void {
    this.rec.results.push({ start: s.start, end: s.end, final: true, words: 1 });
    this.send({ type: 'transcript', start: r3(s.start), end: r3(s.end), text: wordsFor(s.start, s.end).map((w) => w.word).join(' '), final: true });
  }
}
