/**
 * The real-time path for a meeting of participants, one thread for all of them: each 20 ms
 * frame of the meeting's sample clock is cut once every live participant's audio for it has
 * arrived, or when the jitter bound has passed since it was due - then each participant's frame
 * is real, concealed (a live, unmuted participant whose audio is missing: a dropout for that
 * participant) or absent (not joined yet, muted, left: silence, no event), each present one is
 * encoded to its own Opus stream, and all of them are mixed into the meeting's frame, encoded
 * and published. Our own lateness (the wake that produced a frame) marks deadline misses.
 * Nothing here waits, does I/O, or allocates per frame what it can reuse: packets are encoded
 * straight into the ring's slot (with the @discordjs/opus fallback, that binding's Buffer per
 * packet is the one allocation left, see opus.ts); a participant joining allocates its encoder
 * and buffers.
 */
import { createStreamEncoder, type StreamEncoder } from '../opus';
import { Concealer, type ConcealMode } from '../realtime/conceal';
import { CONCEALED, DEADLINE_MISSED, DEADLINE_NS, FRAME_NS, FRAME_SAMPLES, SAMPLE_RATE } from '../realtime/frame';
import { FrameRing } from '../realtime/ring';
import { Stat, type RtStats } from '../realtime/stats';
import { ParticipantInput, PresenceCode, type InputShape } from './input';

/** Frame flag (participant streams only): the participant was not there (silence, not a loss). */
export const ABSENT = 1 << 3;
/** Slots per participant ring: the main thread may stall this long (5.12 s) before frames are lost. */
export const PARTICIPANT_RING_SLOTS = 256;

export interface ParticipantsLoopOptions {
  bitrate: number;
  conceal: ConcealMode;
  /** Monotonic ns (process.hrtime) at timeline sample 0. */
  originNs: number;
  /** How long past its due time a frame waits for a live participant's audio. */
  maxJitterNs: number;
  /** The meeting ends after this many frames (0: no limit). */
  maxFrames: number;
}

/** What the main thread sends when a participant appears: its input and the ring its frames go to. */
export interface ParticipantJoin {
  slot: number;
  input: InputShape;
  ring: SharedArrayBuffer;
}

class Participant {
  readonly input: ParticipantInput;
  readonly ring: FrameRing;
  readonly encoder: StreamEncoder;
  readonly concealer: Concealer;
  readonly frame = Buffer.alloc(FRAME_SAMPLES * 2);
  readonly pcm = new Int16Array(this.frame.buffer, this.frame.byteOffset, FRAME_SAMPLES);
  constructor(join: ParticipantJoin, o: ParticipantsLoopOptions) {
    this.input = new ParticipantInput(join.input);
    this.ring = new FrameRing(join.ring, { slots: PARTICIPANT_RING_SLOTS, channels: 1 });
    this.encoder = createStreamEncoder(1, o.bitrate);
    this.concealer = new Concealer(o.conceal, 1);
  }
}

export class ParticipantsLoop {
  private readonly participants: Participant[] = [];
  private readonly mixEncoder: StreamEncoder;
  private readonly mix = new Int32Array(FRAME_SAMPLES);
  private readonly mixFrame = Buffer.alloc(FRAME_SAMPLES * 2);
  private readonly mixPcm = new Int16Array(this.mixFrame.buffer, this.mixFrame.byteOffset, FRAME_SAMPLES);
  private seq = 0;
  /** Participant egress overruns (their ring full), all together. */
  participantOverruns = 0;

  constructor(
    private readonly mixRing: FrameRing,
    private readonly stats: RtStats,
    private readonly o: ParticipantsLoopOptions,
  ) {
    this.mixEncoder = createStreamEncoder(1, o.bitrate);
  }

  get frames(): number {
    return this.seq;
  }

  get done(): boolean {
    return this.o.maxFrames > 0 && this.seq >= this.o.maxFrames;
  }

  join(j: ParticipantJoin): void {
    this.participants[j.slot] = new Participant(j, this.o);
  }

  /**
   * Cuts every frame that is ready (all live participants' audio there) or overdue (past the
   * jitter bound). `lateNs`: how late this wake of our thread was. Returns ms until it must run again.
   */
  tick(nowNs: number, lateNs: number): number {
    for (;;) {
      if (this.done) return 20;
      const dueNs = this.o.originNs + (this.seq + 1) * FRAME_NS;
      if (nowNs < dueNs) return Math.max(1, (dueNs - nowNs) / 1e6);
      const waiting = this.waiting();
      const deadline = dueNs + this.o.maxJitterNs;
      if (waiting && nowNs < deadline) return Math.max(1, Math.min(20, (deadline - nowNs) / 1e6));
      this.cut(nowNs, lateNs);
    }
  }

  private waiting(): boolean {
    for (const p of this.participants) {
      if (p && p.input.presenceCode() === PresenceCode.Live && p.input.frameState(this.seq) === 0) return true;
    }
    return false;
  }

  private cut(nowNs: number, lateNs: number): void {
    const seq = this.seq++;
    const mix = this.mix;
    mix.fill(0);
    let concealed = 0;
    let real = false;
    for (const p of this.participants) {
      if (!p) continue;
      const state = p.input.frameState(seq);
      const live = p.input.presenceCode() === PresenceCode.Live;
      let flags = 0;
      if (state === 1) {
        p.input.read(seq, p.pcm);
        p.concealer.real(p.pcm, 0, FRAME_SAMPLES);
        real = true;
      } else if (live && state !== 2) {
        p.concealer.fill(p.pcm, 0, FRAME_SAMPLES);
        flags = CONCEALED;
        concealed += FRAME_SAMPLES;
      } else {
        flags = ABSENT;
        p.pcm.fill(0);
      }
      p.input.framed(seq + 1);
      if (!(flags & ABSENT)) for (let i = 0; i < FRAME_SAMPLES; i++) mix[i]! += p.pcm[i]!;
      this.publish(p.ring, p.encoder, p.frame, p.pcm, seq, nowNs, lateNs, flags, true);
    }
    for (let i = 0; i < FRAME_SAMPLES; i++) {
      const v = mix[i]!;
      this.mixPcm[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
    }
    const s = this.stats.v;
    const flags = lateNs > DEADLINE_NS ? DEADLINE_MISSED : 0;
    s[Stat.ConcealedSamples]! += concealed;
    this.stats.recordLateness(lateNs / 1000);
    if (flags) s[Stat.DeadlineMisses]! += 1;
    if (real) s[Stat.LastInputFrameNs] = nowNs;
    s[Stat.Frames] = this.seq;
    s[Stat.TotalSamplesDuration] = (this.seq * FRAME_SAMPLES) / SAMPLE_RATE;
    this.publish(this.mixRing, this.mixEncoder, this.mixFrame, this.mixPcm, seq, nowNs, lateNs, flags, false);
  }

  private publish(ring: FrameRing, encoder: StreamEncoder, frame: Buffer, pcm: Int16Array, seq: number, nowNs: number, lateNs: number, flags: number, participant: boolean): void {
    const slot = ring.claim();
    if (slot < 0) {
      // Never wait for the other domains: count the lost frame and move on.
      if (participant) this.participantOverruns++;
      else this.stats.v[Stat.EgressOverruns]! += 1;
      return;
    }
    // An absent participant's frame carries no packet: the recorder writes its silence packet.
    const bytes = flags & ABSENT ? 0 : encoder.encodeInto(frame, ring.opusAt(slot));
    ring.pcmAt(slot).set(pcm);
    ring.publish(slot, seq, nowNs, Math.round(lateNs / 1000), flags, bytes);
  }
}
