/**
 * One participant's audio on its way from the page receiver (main thread) to the audio worker,
 * in shared memory: a ring of samples indexed by timeline position, and a few Int32 words.
 * The main thread writes what the page sent where the page's clock put it and then publishes
 * how far it has written (Atomics); the worker reads a frame once it is all there, or decides
 * at its deadline that it is missing. Nothing crosses a message port per frame.
 *
 * Positions are timeline samples at 48 kHz in Int32 words: a meeting of up to 12 h.
 * - A hole (the page skipped ahead) is zero-filled and starts a new contiguous run: frames
 *   before the run's start read as missing (a dropout if the participant is live).
 * - Audio for a time the worker has already framed is late: dropped, counted.
 * - Audio further ahead of the worker than the ring holds is dropped, counted (never blocks).
 */
import { FRAME_SAMPLES } from '../realtime/frame';

/** Samples the ring holds: 8 s, far past any jitter bound we accept. */
export const INPUT_SAMPLES = 48_000 * 8;

export const enum In {
  /** Samples written contiguously up to here (exclusive). */
  WrittenUpTo,
  /** Where the current contiguous run starts. */
  RunFrom,
  /** Presence: see Presence codes. */
  Presence,
  /** The worker has framed up to here (exclusive): older audio is late. */
  FramedUpTo,
  /** Where the participant's first audio lies (-1 before any): frames before it are absence, not loss. */
  FirstAt,
  Count,
}

export const enum PresenceCode {
  Absent = 0,
  Live = 1,
  Muted = 2,
  Left = 3,
}

export interface InputShape {
  control: SharedArrayBuffer;
  samples: SharedArrayBuffer;
}

export class ParticipantInput {
  readonly control: Int32Array;
  readonly samples: Int16Array;
  /** Main-thread counters. */
  lateSamples = 0;
  overflowSamples = 0;
  holeSamples = 0;
  private started = false;

  constructor(readonly shape: InputShape) {
    this.control = new Int32Array(shape.control);
    this.samples = new Int16Array(shape.samples);
  }

  static create(): ParticipantInput {
    const input = new ParticipantInput({ control: new SharedArrayBuffer(In.Count * 4), samples: new SharedArrayBuffer(INPUT_SAMPLES * 2) });
    Atomics.store(input.control, In.FirstAt, -1);
    return input;
  }

  // ---- main thread ----

  presence(code: PresenceCode): void {
    Atomics.store(this.control, In.Presence, code);
  }

  /** Audio for timeline samples [position, position + pcm.length). */
  write(position: number, pcm: Int16Array): void {
    const c = this.control;
    const framed = Atomics.load(c, In.FramedUpTo);
    let from = 0;
    if (position < framed) {
      from = Math.min(pcm.length, framed - position); // its time is framed already: late
      this.lateSamples += from;
    }
    let at = position + from;
    let n = pcm.length - from;
    if (n <= 0) return;
    if (at + n - framed > INPUT_SAMPLES) {
      const over = at + n - framed - INPUT_SAMPLES;
      this.overflowSamples += Math.min(n, over);
      n -= over;
      if (n <= 0) return;
    }
    let written = Atomics.load(c, In.WrittenUpTo);
    if (!this.started || at > written) {
      // First audio, or the page skipped ahead: zero the hole and start a new run where this begins.
      if (this.started) {
        this.holeSamples += at - written;
        this.fill(written, Math.min(at, written + INPUT_SAMPLES), 0);
      }
      Atomics.store(c, In.RunFrom, at);
      if (!this.started) Atomics.store(c, In.WrittenUpTo, at);
      if (!this.started) Atomics.store(c, In.FirstAt, at);
      written = at;
      this.started = true;
    }
    this.copy(at, pcm.subarray(from, from + n));
    if (at + n > written) Atomics.store(c, In.WrittenUpTo, at + n);
  }

  private copy(at: number, pcm: Int16Array): void {
    const i = at % INPUT_SAMPLES;
    const first = Math.min(pcm.length, INPUT_SAMPLES - i);
    this.samples.set(pcm.subarray(0, first), i);
    if (first < pcm.length) this.samples.set(pcm.subarray(first), 0);
  }

  private fill(from: number, to: number, v: number): void {
    for (let p = from; p < to; p++) this.samples[p % INPUT_SAMPLES] = v;
  }

  // ---- audio worker ----

  /**
   * Whether frame `seq` is all there: 1 ready, 0 not yet, -1 missing for good (a hole passed
   * it), 2 before the participant's first audio (nothing to wait for).
   */
  frameState(seq: number): number {
    const start = seq * FRAME_SAMPLES;
    const end = start + FRAME_SAMPLES;
    const first = Atomics.load(this.control, In.FirstAt);
    if (first < 0 || end <= first) return 2;
    const written = Atomics.load(this.control, In.WrittenUpTo);
    const runFrom = Atomics.load(this.control, In.RunFrom);
    if (end <= written && (start >= runFrom || runFrom === first)) return 1; // before the first sample: zeros, never written
    // A run that starts inside the frame leaves it missing for good only if it is not the first
    // (before the first sample lie zeros, never written: the rest of the frame is still due).
    if (written > start && runFrom > start && runFrom !== first) return -1;
    return 0;
  }

  /** Copies frame `seq` into `out` (FRAME_SAMPLES); no allocation (INPUT_SAMPLES is a whole number of frames). */
  read(seq: number, out: Int16Array): void {
    const i = (seq * FRAME_SAMPLES) % INPUT_SAMPLES;
    for (let k = 0; k < FRAME_SAMPLES; k++) out[k] = this.samples[i + k]!;
  }

  /** The worker has framed everything before frame `seq`. */
  framed(seq: number): void {
    Atomics.store(this.control, In.FramedUpTo, seq * FRAME_SAMPLES);
  }

  presenceCode(): PresenceCode {
    return Atomics.load(this.control, In.Presence);
  }
}
