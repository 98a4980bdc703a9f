/**
 * Lock-free single-producer/single-consumer ring of frames in a
 * SharedArrayBuffer. The audio worker is the only producer, the main thread
 * the only consumer. The producer never waits: when the ring is full,
 * `claim()` returns -1 and the caller counts an egress overrun.
 *
 * Indices are free-running 32-bit counters; `write - read` (mod 2^32) is the
 * fill. Slot memory is published with Atomics.store on the write counter,
 * which orders the plain stores before it (sequentially consistent).
 *
 * The producer wakes the consumer only at the write count the consumer asked
 * for (`wakeAt`): a consumer that takes frames in batches (the main thread
 * wakes once per partner chunk, not once per frame) costs the audio thread one
 * notify per batch, and each wake is a syscall and a context switch on both
 * sides. A notify with no waiter is a no-op.
 */
import { FRAME_SAMPLES, MAX_OPUS_BYTES, type Frame } from './frame';

const WRITE = 0;
const READ = 1;
/** The write count at which the producer notifies (set by the consumer before it waits). */
const WAKE_AT = 2;
const CONTROL_INTS = 4;
const HEADER_BYTES = 32; // captureNs f64, seq u32, flags u32, latenessUs i32, opusLength u32, droppedBefore u32, pad

export interface RingShape {
  slots: number;
  channels: number;
}

export class FrameRing {
  readonly slots: number;
  readonly channels: number;
  private readonly control: Int32Array;
  private readonly slotBytes: number;
  private readonly f64: Float64Array;
  private readonly u32: Uint32Array;
  private readonly i32: Int32Array;
  private readonly pcm: Int16Array[];
  private readonly opus: Uint8Array[];

  static create(shape: RingShape): FrameRing {
    return new FrameRing(new SharedArrayBuffer(FrameRing.bytes(shape)), shape);
  }

  static bytes({ slots, channels }: RingShape): number {
    return CONTROL_INTS * 4 + slots * slotSize(channels);
  }

  constructor(readonly buffer: SharedArrayBuffer, { slots, channels }: RingShape) {
    this.slots = slots;
    this.channels = channels;
    this.slotBytes = slotSize(channels);
    this.control = new Int32Array(buffer, 0, CONTROL_INTS);
    const base = CONTROL_INTS * 4;
    this.f64 = new Float64Array(buffer, base);
    this.u32 = new Uint32Array(buffer, base);
    this.i32 = new Int32Array(buffer, base);
    // One view per slot, made once: the hot path allocates nothing.
    this.pcm = [];
    this.opus = [];
    for (let s = 0; s < slots; s++) {
      const off = base + s * this.slotBytes + HEADER_BYTES;
      this.pcm.push(new Int16Array(buffer, off, FRAME_SAMPLES * channels));
      this.opus.push(new Uint8Array(buffer, off + FRAME_SAMPLES * channels * 2, MAX_OPUS_BYTES));
    }
  }

  /** Frames published and not yet consumed. */
  fill(): number {
    return (Atomics.load(this.control, WRITE) - Atomics.load(this.control, READ)) >>> 0;
  }

  // ---- producer (audio worker) ----

  /** The next free slot, or -1 when the ring is full (never waits). */
  claim(): number {
    const w = Atomics.load(this.control, WRITE);
    if (((w - Atomics.load(this.control, READ)) >>> 0) >= this.slots) return -1;
    return (w >>> 0) % this.slots;
  }

  pcmAt(slot: number): Int16Array {
    return this.pcm[slot]!;
  }

  opusAt(slot: number): Uint8Array {
    return this.opus[slot]!;
  }

  /** Writes the header of a claimed slot and makes the frame visible to the consumer. */
  publish(slot: number, seq: number, captureNs: number, latenessUs: number, flags: number, opusLength: number, droppedBefore = 0): void {
    const h = (slot * this.slotBytes) >> 2; // index in 32-bit words
    this.f64[h >> 1] = captureNs;
    this.u32[h + 2] = seq;
    this.u32[h + 3] = flags;
    this.i32[h + 4] = latenessUs;
    this.u32[h + 5] = opusLength;
    this.u32[h + 6] = droppedBefore;
    const w = (Atomics.add(this.control, WRITE, 1) + 1) | 0;
    if (w === Atomics.load(this.control, WAKE_AT)) Atomics.notify(this.control, WRITE);
  }

  // ---- consumer (main thread) ----

  /** Fills `out` with the oldest frame and returns true, or returns false when empty. */
  peek(out: Frame): boolean {
    const r = Atomics.load(this.control, READ);
    if (Atomics.load(this.control, WRITE) === r) return false;
    const slot = (r >>> 0) % this.slots;
    const h = (slot * this.slotBytes) >> 2;
    out.captureNs = this.f64[h >> 1]!;
    out.seq = this.u32[h + 2]!;
    out.flags = this.u32[h + 3]!;
    out.latenessUs = this.i32[h + 4]!;
    out.droppedBefore = this.u32[h + 6]!;
    out.channels = this.channels;
    out.pcm = this.pcm[slot]!;
    out.opus = this.opus[slot]!.subarray(0, this.u32[h + 5]!);
    return true;
  }

  /** Frees the slot returned by the last peek(). */
  release(): void {
    Atomics.add(this.control, READ, 1);
  }

  /** Resolves when the producer publishes (or after `timeoutMs`), without blocking the loop. */
  async waitForData(timeoutMs: number): Promise<void> {
    const w = Atomics.load(this.control, WRITE);
    if (w !== Atomics.load(this.control, READ)) return;
    Atomics.store(this.control, WAKE_AT, (w + 1) | 0);
    const res = Atomics.waitAsync(this.control, WRITE, w, timeoutMs);
    if (!res.async) return;
    // A pending waitAsync does not keep Node's event loop alive; a timer does.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([res.value, new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
    clearTimeout(timer);
  }

  /**
   * Resolves once the write count reaches the next multiple of `frames` past what was read (at
   * once if it has), or when `wake()` is called; a publish in between may end it early. It sets
   * no timer and does not keep the event loop alive: the caller holds a timer of its own.
   * Multiples of `frames` keep the wakes aligned with chunks of that many frames.
   */
  async waitForFrames(frames: number): Promise<void> {
    const r = Atomics.load(this.control, READ) >>> 0;
    const target = (r - (r % frames) + frames) | 0;
    Atomics.store(this.control, WAKE_AT, target);
    const w = Atomics.load(this.control, WRITE);
    if (((w - target) | 0) >= 0) return;
    const res = Atomics.waitAsync(this.control, WRITE, w);
    if (res.async) await res.value;
  }

  /** Ends a pending waitForFrames() (from the consumer's thread: the audio side is done). */
  wake(): void {
    Atomics.notify(this.control, WRITE);
  }
}

function slotSize(channels: number): number {
  const raw = HEADER_BYTES + FRAME_SAMPLES * channels * 2 + MAX_OPUS_BYTES;
  return Math.ceil(raw / 8) * 8;
}
