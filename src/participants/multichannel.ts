/**
 * Transcripts per speaker over one connection: a provider's multichannel mode (Deepgram
 * `multichannel=true&channels=N`, linear16). Participants take fixed channel slots in the order
 * they join and keep them for the meeting; each mixed frame k leaves as one N-channel frame whose
 * channel c is slot c's participant's frame k - silence while that participant is absent (muted,
 * left, not yet joined) or while the slot is free. Results come back per channel (Deepgram's
 * `channel_index: [c, N]`) and get slot c's participant as their speaker.
 *
 * More participants than slots: a slot is never handed to someone else (a channel's results
 * would name the wrong speaker), so a participant joining when all N are taken is not
 * transcribed - one warning naming the fix (more channels, or a connection per participant);
 * their recording and the mix keep them.
 *
 * The participants meeting writes every participant's frame k before the mixed frame k
 * (meeting.ts drains in that order), so a mixed frame finds its participants' frames here.
 */
import type { Logger } from 'pino';
import { createPartnerSinks, type PartnerContext, type PartnerSink, type PartnerSpec, type TranscriptSegment } from '../partners';
import { FRAME_SAMPLES, type Frame } from '../realtime/frame';
import type { FrameSink } from '../sinks/sink';
import { ABSENT } from './loop';

/** Frames a participant's frame may run ahead of the mixed frame it belongs to (1.28 s). */
const AHEAD = 64;

export interface MultichannelOptions extends Omit<PartnerContext, 'channels' | 'transcriptOf'> {
  specs: PartnerSpec[];
  slots: number;
  log: Logger;
}

export class MultichannelFeed {
  /** The partner connections (one per spec), each taking every slot as a channel. */
  readonly partners: PartnerSink[];
  private readonly names: string[] = [];
  private readonly n: number;
  /** N-channel frames being assembled, AHEAD of them, keyed by seq % AHEAD. */
  private readonly blocks: Int16Array;
  private readonly seqs = new Float64Array(AHEAD).fill(-1);
  private readonly silence: Int16Array;
  private readonly out: Frame;

  constructor(private readonly o: MultichannelOptions) {
    this.n = o.slots;
    this.blocks = new Int16Array(AHEAD * FRAME_SAMPLES * this.n);
    this.silence = new Int16Array(FRAME_SAMPLES * this.n);
    this.out = { seq: 0, captureNs: 0, latenessUs: 0, flags: 0, channels: this.n, pcm: this.silence, opus: new Uint8Array(0) };
    this.partners = createPartnerSinks(
      o.specs.map((s) => ({ ...s, codec: 'linear16' as const /* an opus spec is refused before (run/resolve) */, params: { ...s.params, multichannel: 'true', channels: String(this.n) } })),
      {
        ...o,
        channels: this.n,
        transcriptOf: (t) => this.attributed(t),
      },
    );
  }

  /** Participants by channel slot. */
  get slots(): readonly string[] {
    return this.names;
  }

  /** The sink of a participant's stream: its frames into its channel (none when every slot is taken). */
  participantSink(name: string): FrameSink[] {
    let c = this.names.indexOf(name);
    if (c < 0) {
      if (this.names.length >= this.n) {
        this.o.log.warn(`participant ${name} is not transcribed: all ${this.n} multichannel slots are taken - use --participant-transcripts multichannel:N with more, or each`);
        return [];
      }
      c = this.names.push(name) - 1;
    }
    return [{ name: `multichannel@${name}`, write: (f) => this.put(c, f), close: async () => {} }];
  }

  /** The sink of the mixed meeting: each mixed frame sends the N-channel frame of its seq. */
  readonly mixSink: FrameSink = {
    name: 'multichannel',
    batchMs: 100,
    write: (mix) => this.send(mix),
    close: async () => {
      await Promise.allSettled(this.partners.map((p) => p.close()));
    },
  };

  private put(channel: number, f: Frame): void {
    if (f.flags & ABSENT) return;
    const k = f.seq % AHEAD;
    const size = FRAME_SAMPLES * this.n;
    const block = this.blocks.subarray(k * size, (k + 1) * size);
    if (this.seqs[k] !== f.seq) {
      block.fill(0);
      this.seqs[k] = f.seq;
    }
    const n = this.n;
    for (let i = 0; i < FRAME_SAMPLES; i++) block[i * n + channel] = f.pcm[i]!;
  }

  private send(mix: Frame): void {
    const k = mix.seq % AHEAD;
    const size = FRAME_SAMPLES * this.n;
    const out = this.out;
    out.seq = mix.seq;
    out.captureNs = mix.captureNs;
    out.latenessUs = mix.latenessUs;
    out.flags = mix.flags;
    out.pcm = this.seqs[k] === mix.seq ? this.blocks.subarray(k * size, (k + 1) * size) : this.silence;
    for (const p of this.partners) {
      try {
        p.write(out);
      } catch (err) {
        this.o.log.error({ err, sink: p.name }, 'partner failed on a frame');
      }
    }
    this.seqs[k] = -1;
  }

  /** A segment with its channel's participant as the speaker. */
  private attributed(t: TranscriptSegment): TranscriptSegment {
    const speaker = this.names[t.channel ?? 0];
    return speaker === undefined ? t : { ...t, speaker };
  }
}
