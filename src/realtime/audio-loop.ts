/**
 * The real-time path, independent of the thread that drives it: bytes in,
 * through the jitter buffer, 20 ms frames out on the sample clock, concealed
 * where input is really missing, each marked late when *our* thread handled it
 * more than a frame period late, encoded to Opus and published into the ring.
 * Nothing here waits, does I/O or allocates per frame: the packet is encoded
 * straight into the ring's slot (with the @discordjs/opus fallback, that
 * binding's Buffer per packet is the one allocation left, see opus.ts).
 *
 * Drivers: `worker.ts` (a prioritised worker thread sleeping in poll(2)) and
 * `main-thread.ts` (the naive event-loop design, kept for `earshot repro`).
 * Each wake, a driver says how late it was (`wake`), feeds what it read
 * (`input`), then lets the jitter buffer decide (`tick`).
 */
import { createStreamEncoder, type StreamEncoder } from '../opus';
import { Concealer, type ConcealMode } from './conceal';
import { CONCEALED, DEADLINE_MISSED, DEADLINE_NS, DISCONTINUITY_BEFORE, FRAME_SAMPLES, SAMPLE_RATE } from './frame';
import { JitterBuffer, type JitterSink } from './jitter-buffer';
import type { FrameRing } from './ring';
import { Stat, type RtStats } from './stats';

/** `--max-jitter`: the default, and the bounds we accept. */
export const MAX_JITTER_DEFAULT_MS = 500;
export const MAX_JITTER_RANGE_MS = [20, 5000] as const;

export interface AudioLoopOptions {
  channels: number;
  bitrate: number;
  conceal: ConcealMode;
  /** Paced input runs on the wall clock (deadlines, dropouts); unpaced input runs as fast as it comes. */
  paced: boolean;
  /** How late a source may deliver (bursts) before missing audio is concealed (`--max-jitter`). */
  maxJitterMs?: number;
  /** The meeting ends after this many frames (`--duration`); none are published past it. */
  maxFrames?: number;
}

export class AudioLoop implements JitterSink {
  private readonly jitter: JitterBuffer;
  private readonly concealer: Concealer;
  private readonly encoder: StreamEncoder;
  private readonly bps: number;
  private readonly frameBytes: number;
  /** The frame being assembled: a Buffer for the encoder and an Int16Array view of the same memory. */
  private readonly frame: Buffer;
  private readonly pcm: Int16Array;
  private fill = 0;
  /** Of the frame being assembled: concealed samples, and capture time and our lateness of its last real input. */
  private frameConcealed = 0;
  private frameCaptureNs = 0;
  private frameLateNs = 0;
  private seq = 0;
  private inGap = false;
  private droppedBefore = 0;
  private wakeLateNs = 0;

  constructor(
    private readonly ring: FrameRing,
    private readonly stats: RtStats,
    readonly opts: AudioLoopOptions,
  ) {
    this.concealer = new Concealer(opts.conceal, opts.channels);
    this.encoder = createStreamEncoder(opts.channels, opts.bitrate);
    this.bps = 2 * opts.channels;
    this.frameBytes = FRAME_SAMPLES * this.bps;
    this.frame = Buffer.alloc(this.frameBytes);
    this.pcm = new Int16Array(this.frame.buffer, this.frame.byteOffset, FRAME_SAMPLES * opts.channels);
    this.jitter = new JitterBuffer(this, {
      bytesPerSample: this.bps,
      maxJitterNs: (opts.maxJitterMs ?? MAX_JITTER_DEFAULT_MS) * 1e6,
      paced: opts.paced,
      jitter: stats.sourceJitter,
    });
  }

  /** Frames produced so far: the position on the meeting timeline. */
  get frames(): number {
    return this.seq;
  }

  /** A wake of the driver's thread begins; `lateNs` is how late the thread itself was (see wake.ts). */
  wake(lateNs: number): void {
    this.wakeLateNs = this.opts.paced ? lateNs : 0;
  }

  /** Input bytes read at `nowNs` (chunk is only read during the call). */
  input(chunk: Buffer, length: number, nowNs: number): void {
    this.stats.v[Stat.InputBytes]! += length;
    this.jitter.push(chunk, length, nowNs, this.wakeLateNs);
  }

  /** After the wake's input: release, hold or conceal. Returns ms until the loop must tick again. */
  tick(nowNs: number): number {
    return this.jitter.settle(nowNs);
  }

  /** End of input: release what is held, pad and publish the partial frame (no audio is lost; it has no deadline). */
  flush(nowNs = this.frameCaptureNs): void {
    this.jitter.flush(nowNs);
    if (this.fill === 0) return;
    this.frame.fill(0, this.fill);
    this.fill = this.frameBytes;
    this.complete(nowNs);
  }

  // ---- JitterSink: the framer ----

  real(buf: Buffer, off: number, bytes: number, captureNs: number, lateNs: number, nowNs: number): void {
    const end = off + bytes;
    while (off < end) {
      const n = Math.min(end - off, this.frameBytes - this.fill);
      buf.copy(this.frame, this.fill, off, off + n);
      this.concealer.real(this.pcm, Math.floor(this.fill / this.bps), Math.floor((this.fill + n) / this.bps));
      this.fill += n;
      off += n;
      this.frameCaptureNs = captureNs;
      this.frameLateNs = lateNs;
      this.inGap = false;
      if (this.fill === this.frameBytes) this.complete(nowNs);
    }
  }

  conceal(samples: number, nowNs: number): void {
    if (!this.inGap) this.stats.v[Stat.ConcealmentEvents]! += 1; // one per gap: a dropout
    this.inGap = true;
    while (samples > 0) {
      const at = this.fill / this.bps;
      const n = Math.min(samples, FRAME_SAMPLES - at);
      this.concealer.fill(this.pcm, at, at + n);
      this.fill += n * this.bps;
      this.frameConcealed += n;
      samples -= n;
      if (this.fill === this.frameBytes) this.complete(nowNs);
    }
  }

  dropped(samples: number): void {
    this.droppedBefore += samples;
    this.stats.v[Stat.LateAudioDropped]! += samples;
  }

  private complete(nowNs: number): void {
    const past = this.opts.maxFrames !== undefined && this.opts.maxFrames > 0 && this.seq >= this.opts.maxFrames;
    if (!past) this.completeFrame(nowNs);
    this.fill = 0;
    this.frameConcealed = 0;
  }

  private completeFrame(nowNs: number): void {
    const s = this.stats.v;
    const concealed = this.frameConcealed;
    const hasReal = concealed < FRAME_SAMPLES;
    let flags = concealed ? CONCEALED : 0;
    const lateNs = hasReal ? this.frameLateNs : 0;
    if (lateNs > DEADLINE_NS) flags |= DEADLINE_MISSED;
    if (this.droppedBefore) flags |= DISCONTINUITY_BEFORE;
    s[Stat.ConcealedSamples]! += concealed;
    if (hasReal) {
      s[Stat.LastInputFrameNs] = nowNs; // audio is flowing (concealment is not)
      this.stats.recordLateness(lateNs / 1000);
      if (this.opts.paced) this.stats.held.record((nowNs - this.frameCaptureNs) / 1000);
      if (flags & DEADLINE_MISSED) s[Stat.DeadlineMisses]! += 1;
    }
    this.publish(hasReal ? this.frameCaptureNs : nowNs, lateNs, flags);
  }

  private publish(captureNs: number, lateNs: number, flags: number): void {
    const s = this.stats.v;
    const seq = this.seq++;
    s[Stat.Frames] = this.seq;
    s[Stat.TotalSamplesDuration] = (this.seq * FRAME_SAMPLES) / SAMPLE_RATE;
    const slot = this.ring.claim();
    if (slot < 0) {
      // Never wait for the other domains: count the lost frame and move on (the next frame says so).
      s[Stat.EgressOverruns]! += 1;
      return;
    }
    const bytes = this.encoder.encodeInto(this.frame, this.ring.opusAt(slot));
    this.ring.pcmAt(slot).set(this.pcm);
    this.ring.publish(slot, seq, captureNs, Math.round(lateNs / 1000), flags, bytes, this.droppedBefore);
    this.droppedBefore = 0;
  }
}
