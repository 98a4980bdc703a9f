/**
 * The emulator's Deepgram live session: validates what the client sends as
 * the service does (KeepAlive, Finalize, CloseStream; never an empty binary
 * frame; audio or a message at least every 10 s or NET-0001), decodes the
 * audio (linear16, raw Opus packets, or Ogg Opus pages), and answers with
 * Results tiling the timeline (finals at endpoints and in silence), optional
 * interims, SpeechStarted and UtteranceEnd, and Metadata at the end. With `multichannel=true`
 * every channel is segmented and answered on its own, each Results tagged `channel_index:
 * [channel, channels]` as Deepgram's streaming API does.
 */
import type WebSocket from 'ws';
import { Session, r3, type AudioFormat, type SessionContext } from '../emulator/session';
import { wordsFor, type Segment } from '../emulator/segmenter';

/** Where the results of one channel stand (one for the whole stream unless `multichannel`). */
interface Channel {
  index: number;
  cursor: number;
  lastInterim: number;
  lastWordEnd: number;
  utteranceEndSent: boolean;
}

export class DeepgramSession extends Session {
  private readonly chans: Channel[];
  private inactivity?: NodeJS.Timeout;
  private readonly interim: boolean;
  private readonly vad: boolean;
  private readonly utteranceEndMs?: number;
  private readonly multichannel: boolean;

  private readonly inactivityMs: number;

  constructor(ws: WebSocket, params: Record<string, string>, ctx: SessionContext) {
    super(ws, 'deepgram', params, Math.max(Number(params.endpointing) || 300, 10), ctx, deepgramFormat(params));
    this.inactivityMs = ctx.inactivityMs ?? 10_000;
    this.interim = params.interim_results === 'true';
    this.vad = params.vad_events === 'true';
    this.utteranceEndMs = params.utterance_end_ms ? Number(params.utterance_end_ms) : undefined;
    // multichannel=true: each channel is transcribed on its own, its results tagged channel_index [c, channels].
    this.multichannel = params.multichannel === 'true';
    if (this.multichannel) this.splitChannels();
    this.chans = Array.from({ length: this.multichannel ? this.channels : 1 }, (_, index) => ({ index, cursor: 0, lastInterim: 0, lastWordEnd: -1, utteranceEndSent: true }));
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

  /** The segmenter of a channel (the whole stream's unless multichannel). */
  private segOf(ch: Channel) {
    return this.split?.[ch.index] ?? this.seg;
  }

  protected onSpeechStart(t: number, channel = 0): void {
    if (this.vad) this.send({ type: 'SpeechStarted', channel: this.channelIndex(channel), timestamp: r3(t) });
    this.chans[channel]!.utteranceEndSent = true;
  }

  protected onSegment(s: Segment, channel = 0): void {
    // An endpoint: a final, speech_final result tiling from the last final to now.
    const ch = this.chans[channel]!;
    const from = Math.max(s.start, ch.cursor);
    this.results(ch, ch.cursor, Math.max(this.audioSec, s.end), wordsFor(from, s.end), true, true);
    ch.lastWordEnd = s.end;
    ch.utteranceEndSent = this.utteranceEndMs === undefined;
  }

  protected override afterAudio(): void {
    const now = this.audioSec;
    for (const ch of this.chans) {
      const seg = this.segOf(ch);
      if (!seg.inSpeech) {
        // Silence is finalised too (empty transcripts), so results tile the timeline.
        if (now - ch.cursor >= 3) this.results(ch, ch.cursor, now, [], true, false);
        if (!ch.utteranceEndSent && now - ch.lastWordEnd >= this.utteranceEndMs! / 1000) {
          ch.utteranceEndSent = true;
          this.send({ type: 'UtteranceEnd', channel: this.channelIndex(ch.index), last_word_end: r3(ch.lastWordEnd) });
        }
        continue;
      }
      const from = Math.max(seg.currentStart, ch.cursor);
      if (now - ch.cursor >= 8) {
        this.results(ch, ch.cursor, now, wordsFor(from, now), true, false);
      } else if (this.interim && now - ch.lastInterim >= 1) {
        ch.lastInterim = now;
        this.results(ch, ch.cursor, now, wordsFor(from, now), false, false);
      }
    }
  }

  private finalizeNow(fromFinalize: boolean): void {
    const now = this.audioSec;
    for (const ch of this.chans) {
      if (now <= ch.cursor) continue;
      const seg = this.segOf(ch);
      const words = seg.inSpeech ? wordsFor(Math.max(seg.currentStart, ch.cursor), now) : [];
      this.results(ch, ch.cursor, now, words, true, false, fromFinalize);
    }
  }

  /** Deepgram's `channel_index`: [this channel, channels in the stream] ([0, 1] without multichannel). */
  private channelIndex(channel: number): [number, number] {
    return [channel, this.multichannel ? this.channels : 1];
  }

  private results(
    ch: Channel,
    start: number,
    end: number,
    words: { word: string; start: number; end: number }[],
    isFinal: boolean,
    speechFinal: boolean,
    fromFinalize = false,
  ): void {
    if (isFinal) ch.cursor = end;
    this.rec.results.push({ start, end, final: isFinal, words: words.length, ...(this.multichannel && { channel: ch.index }) });
    this.send({
      type: 'Results',
      channel_index: this.channelIndex(ch.index),
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
