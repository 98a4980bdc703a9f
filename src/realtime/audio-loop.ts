/**
 * The real-time path, independent of the thread that drives it: bytes in,
 * 20 ms frames out on the sample clock, each checked against its deadline,
 * concealed where input is missing, encoded to Opus and published into the
 * ring. Nothing here waits, does I/O or allocates per frame what it can reuse
 * (the Opus binding returns a fresh Buffer per packet: that one is not ours).
 *
 * Drivers: `worker.ts` (a prioritised worker thread sleeping in poll(2)) and
 * `main-thread.ts` (the naive event-loop design, kept for `earshot repro`).
 */
import { OpusEncoder } from '@discordjs/opus';
import { DeadlineClock } from './clock';
import { Concealer, type ConcealMode } from './conceal';
import { CONCEALED, DEADLINE_MISSED, DISCONTINUITY_BEFORE, FRAME_NS, FRAME_SAMPLES, SAMPLE_RATE } from './frame';
import type { FrameRing } from './ring';
import { Stat, type RtStats } from './stats';

/** A frame later than this (one frame period) misses its deadline. */
const DEADLINE_NS = FRAME_NS;
/** libopus request code for OPUS_SET_COMPLEXITY (opus_defines.h), and the complexity we encode at. */
export const OPUS_SET_COMPLEXITY = 4010;
export const OPUS_COMPLEXITY = 10;

/**
 * Input overdue by more than this is missing, not late: beyond the scheduling
 * jitter of a loaded host, and short enough that a real gap is concealed at once.
 */
const CONCEAL_AFTER_NS = 100e6;
/**
 * Input earlier than its due time by more than this is ahead of the clock.
 * After a concealment that is the late audio whose time was already filled: it
 * is dropped (up to the frames concealed), so the recording stays on the wall
 * clock instead of drifting one frame later per gap. Otherwise the source just
 * released a buffered burst, and the clock re-anchors on it.
 */
const MAX_AHEAD_NS = 30e6;
/** Late audio arrives right after its gap; a second later, early input is a burst, not a debt. */
const DEBT_WINDOW_FRAMES = 50;

export interface AudioLoopOptions {
  channels: number;
  bitrate: number;
  conceal: ConcealMode;
  /** Paced input runs on the wall clock (deadlines, dropouts); unpaced input runs as fast as it comes. */
  paced: boolean;
}

export class AudioLoop {
  private readonly clock = new DeadlineClock();
  private readonly concealer: Concealer;
  private readonly encoder: OpusEncoder;
  private readonly frameBytes: number;
  /** The frame being assembled: a Buffer for the encoder and an Int16Array view of the same memory. */
  private readonly frame: Buffer;
  private readonly pcm: Int16Array;
  private fill = 0;
  private seq = 0;
  private discontinuity = false;
  /** Frames concealed whose real audio may still arrive late (and must then be dropped). */
  private concealDebt = 0;
  private lastConcealedSeq = -Infinity;
  private lastFlags = 0;

  constructor(
    private readonly ring: FrameRing,
    private readonly stats: RtStats,
    readonly opts: AudioLoopOptions,
  ) {
    this.concealer = new Concealer(opts.conceal, opts.channels);
    this.encoder = new OpusEncoder(SAMPLE_RATE, opts.channels);
    this.encoder.setBitrate(opts.bitrate);
    this.encoder.applyEncoderCTL(OPUS_SET_COMPLEXITY, OPUS_COMPLEXITY); // explicit: bench:encode measures the same
    this.frameBytes = FRAME_SAMPLES * opts.channels * 2;
    this.frame = Buffer.alloc(this.frameBytes);
    this.pcm = new Int16Array(this.frame.buffer, this.frame.byteOffset, FRAME_SAMPLES * opts.channels);
  }

  /** Frames produced so far: the position on the meeting timeline. */
  get frames(): number {
    return this.seq;
  }

  /** Input bytes arrived at `nowNs` (chunk is only read during the call). */
  input(chunk: Buffer, length: number, nowNs: number): void {
    this.stats.v[Stat.InputBytes]! += length;
    let off = 0;
    while (off < length) {
      if (this.fill === 0 && this.lastFlags & CONCEALED) this.realign(nowNs);
      const n = Math.min(length - off, this.frameBytes - this.fill);
      chunk.copy(this.frame, this.fill, off, off + n);
      this.fill += n;
      off += n;
      if (this.fill === this.frameBytes) this.complete(nowNs);
    }
  }

  /**
   * The clock ticked with no (or not enough) input: conceal every frame whose
   * input is overdue. Returns ms until the next frame could become overdue.
   */
  tick(nowNs: number): number {
    if (!this.opts.paced || !this.clock.started) return FRAME_NS / 1e6;
    while (nowNs > this.clock.dueNs(this.seq) + CONCEAL_AFTER_NS) this.conceal(nowNs);
    return Math.max(1, (this.clock.dueNs(this.seq) + CONCEAL_AFTER_NS - nowNs) / 1e6);
  }

  /**
   * Input resumes after a gap. Concealment stopped CONCEAL_AFTER_NS short of
   * the present, so what arrives now belongs later on the timeline: conceal up
   * to its place. (If it was old audio after all, the rest of its burst runs
   * ahead of the clock and is dropped against the debt, and the timeline still
   * matches the wall clock.)
   */
  private realign(nowNs: number): void {
    if (!this.opts.paced) return;
    while (nowNs - this.clock.dueNs(this.seq) > FRAME_NS / 2) this.conceal(nowNs); // to the nearest frame slot
  }

  /** End of input: pad and publish the partial frame (no audio is lost; it has no deadline). */
  flush(): void {
    if (this.fill === 0) return;
    this.frame.fill(0, this.fill);
    this.fill = 0;
    this.concealer.real(this.pcm);
    this.publish(this.clock.started ? this.clock.dueNs(this.seq) : 0, 0, 0);
  }

  private complete(nowNs: number): void {
    this.fill = 0;
    if (this.seq - this.lastConcealedSeq > DEBT_WINDOW_FRAMES) this.concealDebt = 0;
    if (this.opts.paced && this.clock.started && this.clock.dueNs(this.seq) - nowNs > MAX_AHEAD_NS) {
      if (this.concealDebt > 0) {
        // Late audio whose time we already filled with concealment: drop it so the timeline stays on the wall clock.
        this.concealDebt--;
        this.stats.v[Stat.InputOverruns]! += 1;
        this.discontinuity = true;
        return;
      }
      // Nothing was concealed: the source is simply ahead of our clock (a buffered burst). Follow it, lose nothing.
      this.clock.reanchor(this.seq, nowNs);
    }
    const lateNs = this.opts.paced ? this.clock.observe(this.seq, nowNs) : 0;
    this.concealer.real(this.pcm);
    this.publish(nowNs, lateNs, lateNs > DEADLINE_NS ? DEADLINE_MISSED : 0);
  }

  private conceal(nowNs: number): void {
    const have = this.fill / (2 * this.opts.channels);
    this.concealer.fill(this.pcm, have);
    this.fill = 0;
    const missing = FRAME_SAMPLES - have;
    const s = this.stats.v;
    s[Stat.ConcealedSamples]! += missing;
    if (!(this.lastFlags & CONCEALED)) s[Stat.ConcealmentEvents]! += 1; // one per gap: a dropout
    this.concealDebt++;
    this.lastConcealedSeq = this.seq;
    this.publish(nowNs, 0, CONCEALED);
  }

  private publish(nowNs: number, lateNs: number, flags: number): void {
    const s = this.stats.v;
    if (this.discontinuity) flags |= DISCONTINUITY_BEFORE;
    const seq = this.seq++;
    s[Stat.Frames] = this.seq;
    s[Stat.TotalSamplesDuration] = (this.seq * FRAME_SAMPLES) / SAMPLE_RATE;
    this.lastFlags = flags;
    if (!(flags & CONCEALED)) {
      s[Stat.LastInputFrameNs] = nowNs; // audio is flowing (concealment is not)
      this.stats.recordLateness(lateNs / 1000);
      if (flags & DEADLINE_MISSED) s[Stat.DeadlineMisses]! += 1;
    }
    const slot = this.ring.claim();
    if (slot < 0) {
      // Never wait for the other domains: count the lost frame and move on.
      s[Stat.EgressOverruns]! += 1;
      this.discontinuity = true;
      return;
    }
    this.discontinuity = false;
    const packet = this.encoder.encode(this.frame);
    this.ring.pcmAt(slot).set(this.pcm);
    this.ring.opusAt(slot).set(packet);
    this.ring.publish(slot, seq, nowNs, Math.round(lateNs / 1000), flags, packet.length);
  }
}
