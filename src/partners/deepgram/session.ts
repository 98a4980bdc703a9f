/**
 * The emulator's Deepgram live session: validates what the client sends as
 * the service does (KeepAlive, Finalize, CloseStream; never an empty binary
 * frame; audio or a message at least every 10 s or NET-0001), decodes the
 * audio (linear16, raw Opus packets, or Ogg Opus pages), and answers with
 * Results tiling the timeline (finals at endpoints and in silence), optional
 * interims, SpeechStarted and UtteranceEnd, and Metadata at the end.
 */
import type WebSocket from 'ws';
import { Session, r3, type AudioFormat, type SessionContext } from '../emulator/session';
import { wordsFor, type Segment } from '../emulator/segmenter';

export class DeepgramSession extends Session {
  private cursor = 0;
  private lastInterim = 0;
  private inactivity?: NodeJS.Timeout;
  private readonly interim: boolean;
  private readonly vad: boolean;
  private readonly utteranceEndMs?: number;
  private lastWordEnd = -1;
  private utteranceEndSent = true;

  private readonly inactivityMs: number;

  constructor(ws: WebSocket, params: Record<string, string>, ctx: SessionContext) {
    super(ws, 'deepgram', params, Math.max(Number(params.endpointing) || 300, 10), ctx, deepgramFormat(params));
    this.inactivityMs = ctx.inactivityMs ?? 10_000;
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
    if (this.rec.format === 'pcm') this.rec.chunkMs.push((data.length / 2 / this.channels / this.rate) * 1000);
    this.feed(data);
    if (this.rec.violations.some((v) => /Ogg|OpusHead/.test(v))) {
      this.end(1008, 'DATA-0000: The payload cannot be decoded as audio. It is either not audio data or is a codec unsupported by Deepgram.');
    }
  }

  malformed(): string {
    return JSON.stringify({ type: 'Results', start: 0, duration: 1, is_final: true, channel: { alternatives: [{ transcript: 'x', words: [null] }] } });
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
    this.flushSpeech();
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


/** Raw PCM with encoding=linear16, raw Opus packets with encoding=opus, containerized (Ogg Opus) without encoding. */
export function deepgramFormat(params: Record<string, string>): AudioFormat {
  return params.encoding === 'linear16' ? 'pcm' : params.encoding === 'opus' ? 'opus-packets' : 'ogg-opus';
}
