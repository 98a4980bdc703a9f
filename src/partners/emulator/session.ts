/**
 * What every emulated session shares: a record of what the client did
 * (audio, messages, violations, the close), the audio decoded (PCM, Ogg
 * Opus pages, or raw Opus packets) and run through the energy segmenter, and
 * the plumbing to answer. A provider's session (partners/<provider>/session.ts)
 * validates the client's messages as the service does and answers with its
 * protocol's messages over the speech found, timed on the audio received.
 */
import { createOpusEncoder, type OpusEncoder } from '../../opus';
import type WebSocket from 'ws';
import { OggOpusDecoder } from './ogg-opus';
import { EnergySegmenter, type Segment } from './segmenter';

export interface SessionRecord {
  protocol: string;
  id: string;
  params: Record<string, string>;
  audioSec: number;
  /** Audio payload bytes received (binary frames, or decoded base64). */
  audioBytes: number;
  binaryMessages: number;
  emptyFrames: number;
  keepAlives: number;
  textMessages: string[];
  violations: string[];
  /** Results sent, in connection seconds (for tests). */
  results: { start: number; end: number; final: boolean; words: number; channel?: number }[];
  closeCode?: number;
  closedBy?: 'client' | 'server';
  openedAt: number;
  /** Chunk durations (ms) as received. */
  chunkMs: number[];
  /** How the audio arrived: pcm, ogg-opus or opus-packets. */
  format: AudioFormat;
}

export type AudioFormat = 'pcm' | 'ogg-opus' | 'opus-packets';

export interface SessionContext {
  id: string;
  /** Deepgram's NET-0001 window (ms). */
  inactivityMs?: number;
}

export abstract class Session {
  readonly rec: SessionRecord;
  protected seg: EnergySegmenter;
  /** One segmenter per channel when the session transcribes channels apart (Deepgram `multichannel`); `seg` is the first. */
  protected split?: EnergySegmenter[];
  protected rate: number;
  protected channels: number;
  private carry: number | undefined;
  private mono = new Int16Array(0);
  private ogg?: OggOpusDecoder;
  private opus?: OpusEncoder;
  protected ended = false;

  constructor(
    protected readonly ws: WebSocket,
    readonly protocol: string,
    params: Record<string, string>,
    protected readonly hangoverMs: number,
    ctx: SessionContext,
    format: AudioFormat = 'pcm',
  ) {
    this.rate = format === 'pcm' ? Number(params.sample_rate ?? 16_000) : 48_000;
    this.channels = Number(params.channels ?? 1);
    this.seg = new EnergySegmenter(this.rate, { hangoverMs });
    this.rec = {
      protocol,
      id: ctx.id,
      params,
      audioSec: 0,
      audioBytes: 0,
      binaryMessages: 0,
      emptyFrames: 0,
      keepAlives: 0,
      textMessages: [],
      violations: [],
      results: [],
      openedAt: performance.now(),
      chunkMs: [],
      format,
    };
    if (format === 'ogg-opus') this.ogg = new OggOpusDecoder();
    if (format === 'opus-packets') this.opus = createOpusEncoder(48_000, this.channels);
  }

  get audioSec(): number {
    return this.seg.time;
  }

  /** Sets the PCM format once the session knows it (Speechmatics and OpenAI say it in a message). */
  protected setPcm(rate: number, channels = 1, hangoverMs = this.hangoverMs): void {
    this.rate = rate;
    this.channels = channels;
    this.seg = new EnergySegmenter(rate, { hangoverMs });
  }

  /** From now on each channel is segmented on its own, and the callbacks say which channel. */
  protected splitChannels(): void {
    this.split = Array.from({ length: this.channels }, () => new EnergySegmenter(this.rate, { hangoverMs: this.hangoverMs }));
    this.seg = this.split[0]!;
  }

  /** Records a client text message; its JSON object, or undefined (and a violation) when it is not one. */
  protected message(text: string): ({ [k: string]: unknown; type?: string; message?: string }) | undefined {
    this.rec.textMessages.push(text.length > 2000 ? `${text.slice(0, 2000)}...` : text);
    try {
      const m = JSON.parse(text) as unknown;
      if (typeof m === 'object' && m !== null && !Array.isArray(m)) return m as Record<string, unknown>;
    } catch {
      /* below */
    }
    this.rec.violations.push('text message is not a JSON object');
    return undefined;
  }

  send(obj: unknown): void {
    if (!this.ended && this.ws.readyState === 1) this.ws.send(JSON.stringify(obj));
  }

  /** Sends any text, well-formed or not (fault injection). */
  sendRaw(text: string): void {
    if (!this.ended && this.ws.readyState === 1) this.ws.send(text);
  }

  end(code: number, reason = ''): void {
    if (this.ended) return;
    this.ended = true;
    this.rec.closeCode = code;
    this.rec.closedBy = 'server';
    this.ws.close(code, reason);
  }

  /** Decodes audio as it arrives and runs the segmenter over it. */
  protected feed(buf: Buffer): void {
    this.rec.audioBytes += buf.length;
    if (this.ogg) {
      for (const pcm of this.ogg.push(buf)) this.segment(pcm, this.ogg.channels);
      for (const e of this.ogg.errors.splice(0)) this.rec.violations.push(e);
    } else if (this.opus) {
      const raw = this.opus.decode(buf);
      this.segment(new Int16Array(raw.buffer, raw.byteOffset, raw.length >> 1), this.channels);
    } else this.segment(this.pcm16(buf), this.channels);
    this.rec.audioSec = this.seg.time;
    this.afterAudio();
  }

  /** s16le bytes as samples, carrying an odd byte across messages. */
  private pcm16(buf: Buffer): Int16Array {
    let bytes = buf;
    if (this.carry !== undefined) {
      bytes = Buffer.concat([Buffer.from([this.carry]), buf]);
      this.carry = undefined;
    }
    if (bytes.length % 2) {
      this.carry = bytes[bytes.length - 1];
      bytes = bytes.subarray(0, bytes.length - 1);
    }
    const out = new Int16Array(bytes.length >> 1);
    for (let i = 0; i < out.length; i++) out[i] = bytes.readInt16LE(i * 2);
    return out;
  }

  private segment(samples: Int16Array, channels: number): void {
    const frames = Math.floor(samples.length / channels);
    if (this.mono.length < frames) this.mono = new Int16Array(frames * 2);
    if (this.split) {
      this.split.forEach((seg, c) => {
        for (let i = 0; i < frames; i++) this.mono[i] = samples[i * channels + c]!;
        seg.push(
          this.mono.subarray(0, frames),
          (t) => this.onSpeechStart(t, c),
          (s) => this.onSegment(s, c),
        );
      });
      return;
    }
    for (let i = 0; i < frames; i++) {
      let s = 0;
      for (let c = 0; c < channels; c++) s += samples[i * channels + c]!;
      this.mono[i] = s / channels;
    }
    this.seg.push(
      this.mono.subarray(0, frames),
      (t) => this.onSpeechStart(t, 0),
      (s) => this.onSegment(s, 0),
    );
  }

  /** Ends the open speech segment, if any (end of stream, force-endpoint). */
  protected flushSpeech(): void {
    if (this.split) return this.split.forEach((seg, c) => seg.flush((s) => this.onSegment(s, c)));
    this.seg.flush((s) => this.onSegment(s, 0));
  }

  abstract onBinary(data: Buffer): void;
  abstract onText(text: string): void;
  /** `channel`: which channel, when split (else 0). */
  protected abstract onSpeechStart(t: number, channel: number): void;
  protected abstract onSegment(s: Segment, channel: number): void;
  protected afterAudio(): void {}
  /** A malformed message of this protocol (fault injection: the client must survive it). */
  abstract malformed(): string;
  onClientClose(code: number): void {
    if (this.rec.closeCode === undefined) {
      this.rec.closeCode = code;
      this.rec.closedBy = 'client';
    }
    this.ended = true;
  }
  dispose(): void {}
}

export const r3 = (x: number) => Math.round(x * 1000) / 1000;
