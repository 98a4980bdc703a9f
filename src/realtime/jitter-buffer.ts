/**
 * The jitter buffer, between the ingest pipe and the framer: it tells a
 * source's uneven delivery from audio that is really missing, and never
 * throws away audio that arrives (except late audio whose time was already
 * concealed, counted).
 *
 * It models the source's clock: timeline sample p is due at base + p / 48 kHz,
 * where `base` is the source's best (earliest) phase, followed down at once and
 * up once per window (drift, a start-up backlog that made the first phase too
 * early). A wake's "shift" is how far behind that clock its last sample arrived.
 *
 * - Caught up (shift within the allowance): release at once. Bursts of any size
 *   end caught up, so they cost no latency at all. The allowance learns the
 *   source's usual spread (a window's largest shift, bursts that caught up
 *   included), from 30 ms up to half of `maxJitter`, so a source that is
 *   always that uneven (Pulse without small fragments, a browser) is not held.
 *   The shift is taken at the moment the input was ready: our own lateness at
 *   the wake is not the source's.
 * - Behind after an arrival hole at least as long as the shift: maybe audio is
 *   missing, maybe a burst is coming. Hold what came after the hole (preallocated
 *   storage) until the source catches up (a burst: release, nothing concealed)
 *   or the hold reaches `maxJitter` past the hole's due time with the source
 *   still behind (a real gap: conceal the remaining shift where the hole was,
 *   then release). If our own thread was late for most of the hole, the pipe
 *   held the audio from before it: that goes out first, the hole after it.
 * - Behind without a hole (drift, a bad early baseline): release; the window
 *   moves the clock. Without an arrival hole there is never concealment.
 * - Nothing at all for `maxJitter`: conceal what is overdue beyond the bound.
 *   If that audio arrives after all, the source runs ahead of the clock: drop
 *   what overlaps the concealed time (never more), counted as late audio.
 *
 * Unpaced input is released as it comes. Nothing here allocates per call.
 */
import { FRAME_SAMPLES, SAMPLE_RATE } from './frame';
import type { Histogram } from './stats';

export interface JitterSink {
  /** Real audio (whole samples), read at `captureNs` by a wake `lateNs` late, released at `nowNs`. */
  real(buf: Buffer, off: number, bytes: number, captureNs: number, lateNs: number, nowNs: number): void;
  /** `samples` samples of concealment where input is missing. */
  conceal(samples: number, nowNs: number): void;
  /** `samples` samples of late audio were dropped just before what comes next. */
  dropped(samples: number): void;
}

const NS_PER_SAMPLE = 1e9 / SAMPLE_RATE;
/**
 * The least allowance: a source this close to its best phase is caught up.
 * Pulse's 20 ms fragments arrive up to 28 ms after their best phase on an idle
 * machine (`-fragment_size 1920`), so a smaller floor would hold them for nothing.
 */
export const CAUGHT_UP_NS = 30e6;
/** How fast the clock follows a source that became earlier (of the time between reads). */
const FOLLOW_EARLIER = 0.05;
/** A hold lasts at least this long, so the missing audio is measured over several reads. */
const MEASURE_NS = 100e6;
/** The allowance is this much above the spread the source showed. */
const SPREAD_MARGIN = 1.25;
/** The clock follows a later source phase (drift, bad first phase) once per window, to the window's best. */
const WINDOW_NS = 2e9;
/** Late audio may still arrive this long after the last concealment. */
const DEBT_NS = 2e9;
/** Per-wake marks kept for held audio; when full, the newest absorb later wakes. */
const MAX_MARKS = 512;

export interface JitterOptions {
  bytesPerSample: number;
  maxJitterNs: number;
  paced: boolean;
  /** Source jitter per frame (µs): how late its last sample arrived against the source's clock. */
  jitter: Histogram;
}

export class JitterBuffer {
  private readonly bps: number;
  private readonly store: Buffer;
  /** Absolute byte counters: pushed in, and released or dropped out; held = pushed - out. */
  private pushed = 0;
  private out = 0;
  /** Per wake that pushed held bytes: where its bytes end, when they were read, how late that wake was. */
  private readonly markEnd = new Float64Array(MAX_MARKS);
  private readonly markCapture = new Float64Array(MAX_MARKS);
  private readonly markLate = new Float64Array(MAX_MARKS);
  private markHead = 0;
  private markCount = 0;
  /** Timeline samples released to the sink (real and concealed). */
  private released = 0;
  /** The source clock: timeline sample p is due at base + p * NS_PER_SAMPLE. NaN until the first input. */
  private base = NaN;
  private windowStart = 0;
  private windowMin = Infinity;
  /** The largest shift of the window so far, and the allowance learnt from the last windows. */
  private windowMax = 0;
  private allowance = CAUGHT_UP_NS;
  private holding = false;
  /** While holding: the least shift seen since the hole (what is missing), and the shift that started it. */
  private holdShift = 0;
  private holdStartShift = 0;
  private holdDeadline = 0;
  private lastArrival = 0;
  private wakeBytes = 0;
  private wakeLate = 0;
  private debt = 0;
  private debtUntil = 0;

  constructor(
    private readonly sink: JitterSink,
    private readonly o: JitterOptions,
  ) {
    this.bps = o.bytesPerSample;
    // The bound, twice over, plus two full reads: a hold never runs out of room in practice.
    const bytes = Math.ceil(((2 * o.maxJitterNs + 1e9) / NS_PER_SAMPLE) * this.bps) + 2 * 65536;
    this.store = Buffer.alloc(bytes - (bytes % this.bps));
  }

  /** Input read at `nowNs` by a wake that was `lateNs` late (our lateness). */
  push(chunk: Buffer, length: number, nowNs: number, lateNs: number): void {
    if (this.pushed - this.out + length > this.store.length) {
      // Out of room (a long hold, or one wake bringing more than the store holds): decide now.
      if (this.holding) this.endHold(nowNs, this.holdShift > this.allowance);
      else this.release(nowNs);
    }
    let off = 0;
    while (off < length) {
      const at = this.pushed % this.store.length;
      const n = Math.min(length - off, this.store.length - at);
      chunk.copy(this.store, at, off, off + n);
      off += n;
      this.pushed += n;
    }
    this.mark(nowNs, lateNs);
    this.wakeBytes += length;
    this.wakeLate = lateNs;
  }

  /** After each wake: decides what to release or conceal; returns ms until it must run again. */
  settle(nowNs: number): number {
    if (!this.o.paced) {
      this.wakeBytes = 0;
      this.release(nowNs);
      return 20;
    }
    if (this.wakeBytes > 0) this.arrival(nowNs);
    this.decide(nowNs);
    if (Number.isNaN(this.base)) return 20;
    const next = this.holding
      ? this.holdDeadline
      : Math.max(this.lastArrival + this.o.maxJitterNs, this.due(this.nextFrameEnd()) + this.o.maxJitterNs);
    return Math.max(1, Math.min(20, (next - nowNs) / 1e6));
  }

  /** End of input: everything held goes out as it is. */
  flush(nowNs: number): void {
    this.release(nowNs);
  }

  private arrival(now: number): void {
    this.wakeBytes = 0;
    const end = this.released + this.heldSamples(); // timeline position of the wake's last sample, if nothing is missing
    if (Number.isNaN(this.base)) {
      this.base = now - end * NS_PER_SAMPLE;
      this.windowStart = now;
      this.lastArrival = now;
    }
    const gap = now - this.lastArrival;
    this.lastArrival = now;
    // Our own stall made the hole (we were late for most of it): the pipe held what came before it, and what
    // the source still lacks after it is its own. Otherwise the input was ready when our lateness began.
    const ours = this.wakeLate >= gap / 2;
    let shift = now - (ours ? 0 : this.wakeLate) - this.due(end);
    if (shift < -this.allowance && this.debt > 0 && now < this.debtUntil) {
      // Ahead of the clock right after a concealment: late audio whose time is already filled.
      const n = Math.min(this.debt, Math.floor(-shift / NS_PER_SAMPLE), this.heldSamples());
      this.drop(n);
      this.debt -= n;
      shift += n * NS_PER_SAMPLE;
    }
    if (shift < 0) {
      // Earlier than its best so far: the clock follows, at most 50 ms per second of input, so that one
      // early read (a backlog let out at once) does not make the reads after it look late.
      const step = Math.max(shift, -(gap * FOLLOW_EARLIER + 1e6));
      this.base += step;
      shift -= step;
    }
    if (this.holding) {
      this.holdShift = Math.min(this.holdShift, shift);
      if (shift <= this.allowance) {
        this.windowMax = Math.max(this.windowMax, this.holdStartShift); // it was a burst: part of the source's spread
        this.endHold(now, false);
      }
    } else if (shift > this.allowance && gap >= shift) {
      // An arrival hole as long as the shift: audio may be missing. Wait for the source to catch up.
      this.holding = true;
      this.holdShift = shift;
      this.holdStartShift = shift;
      if (ours) this.release(now); // our own stall: the pipe held the audio from before the hole
      // Even after a hole longer than the bound, a few reads measure the shift better than one.
      this.holdDeadline = Math.max(this.due(this.released) + this.o.maxJitterNs, now + MEASURE_NS);
    } else this.release(now);
    if (!this.holding) this.followLater(shift, now); // held input's phase must not move the clock
  }

  /** The hold's end, and concealment of overdue input when nothing arrives. */
  private decide(now: number): void {
    if (this.holding && now >= this.holdDeadline) this.endHold(now, this.holdShift > this.allowance);
    if (this.holding || Number.isNaN(this.base)) return;
    if (this.pushed - this.out >= this.bps || now - this.lastArrival < this.o.maxJitterNs) return;
    // Nothing for longer than the bound: conceal what is overdue beyond it, up to a frame boundary.
    const overdue = Math.floor((now - this.o.maxJitterNs - this.base) / NS_PER_SAMPLE);
    const target = overdue - (overdue % FRAME_SAMPLES);
    if (target > this.released) this.conceal(target - this.released, now);
  }

  private endHold(now: number, missing: boolean): void {
    this.holding = false;
    if (missing) this.conceal(Math.round(this.holdShift / NS_PER_SAMPLE), now); // where the hole was
    this.release(now);
  }

  /**
   * Once per window (never while holding): moves the clock to the window's best phase if the source
   * became later, and sets the allowance from the window's spread (never below the last one's 3/4).
   */
  private followLater(shift: number, now: number): void {
    if (shift < this.windowMin) this.windowMin = shift;
    if (shift > this.windowMax) this.windowMax = shift;
    if (now - this.windowStart < WINDOW_NS) return;
    const up = this.windowMin > 0 && this.windowMin !== Infinity ? this.windowMin : 0;
    this.base += up;
    const spread = (this.windowMax - up) * SPREAD_MARGIN;
    this.allowance = Math.min(this.o.maxJitterNs / 2, Math.max(CAUGHT_UP_NS, spread, this.allowance * 0.75));
    this.windowStart = now;
    this.windowMin = Infinity;
    this.windowMax = 0;
  }

  private conceal(samples: number, now: number): void {
    if (samples <= 0) return;
    this.sink.conceal(samples, now);
    this.released += samples;
    this.debt += samples;
    this.debtUntil = now + DEBT_NS;
  }

  /** Releases every whole sample held, one span per wake mark (so each keeps its capture time and lateness). */
  private release(now: number): void {
    const end = this.pushed - ((this.pushed - this.out) % this.bps);
    while (this.out < end) {
      const markEnd = this.markCount ? this.markEnd[this.markHead]! : end;
      const stop = Math.min(markEnd, end);
      const capture = this.markCapture[this.markHead]!;
      const late = this.markLate[this.markHead]!;
      const samplesBefore = this.out;
      while (this.out < stop) {
        const at = this.out % this.store.length;
        const n = Math.min(stop - this.out, this.store.length - at);
        this.sink.real(this.store, at, n, capture, late, now);
        this.out += n;
      }
      const from = this.released;
      this.released += (stop - samplesBefore) / this.bps;
      if (this.o.paced) this.recordJitter(from, this.released, capture - late);
      if (stop === markEnd && this.markCount) this.popMark();
    }
  }

  private drop(samples: number): void {
    if (samples <= 0) return;
    this.out += samples * this.bps;
    while (this.markCount && this.markEnd[this.markHead]! <= this.out) this.popMark();
    this.sink.dropped(samples);
  }

  private mark(now: number, late: number): void {
    const last = (this.markHead + this.markCount - 1) % MAX_MARKS;
    if (this.markCount && (this.markCapture[last] === now || this.markCount === MAX_MARKS)) {
      this.markEnd[last] = this.pushed; // same wake (or no room): extend the newest mark
      this.markLate[last] = Math.max(this.markLate[last]!, late);
      return;
    }
    const i = (this.markHead + this.markCount) % MAX_MARKS;
    this.markEnd[i] = this.pushed;
    this.markCapture[i] = now;
    this.markLate[i] = late;
    this.markCount++;
  }

  private popMark(): void {
    this.markHead = (this.markHead + 1) % MAX_MARKS;
    this.markCount--;
  }

  /** Source jitter of every frame that ends in a released span, on the timeline as decided: when its input was ready against its due time. */
  private recordJitter(from: number, to: number, arrival: number): void {
    for (let b = from - (from % FRAME_SAMPLES) + FRAME_SAMPLES; b <= to; b += FRAME_SAMPLES) {
      this.o.jitter.record((arrival - this.due(b)) / 1000);
    }
  }

  private heldSamples(): number {
    return Math.floor((this.pushed - this.out) / this.bps);
  }

  private nextFrameEnd(): number {
    return this.released - (this.released % FRAME_SAMPLES) + FRAME_SAMPLES;
  }

  private due(sample: number): number {
    return this.base + sample * NS_PER_SAMPLE;
  }
}
