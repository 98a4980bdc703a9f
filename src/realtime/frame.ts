/**
 * The frame every domain shares (DESIGN.md): 20 ms of 48 kHz s16le audio on
 * the sample clock. Frame `seq` covers samples [seq*960, (seq+1)*960).
 */
export const SAMPLE_RATE = 48_000;
export const FRAME_MS = 20;
export const FRAME_SAMPLES = (SAMPLE_RATE * FRAME_MS) / 1000; // 960 per channel
export const FRAME_NS = FRAME_MS * 1_000_000;
/** Largest Opus packet for one frame (RFC 6716 §3.4: 1275 bytes), padded. */
export const MAX_OPUS_BYTES = 1280;

/** Header `flags` bits. */
export const CONCEALED = 1 << 0;
export const DEADLINE_MISSED = 1 << 1;
export const DISCONTINUITY_BEFORE = 1 << 2;
/** Our lateness beyond which a frame missed its deadline: one frame period. */
export const DEADLINE_NS = FRAME_NS;

/**
 * One frame as a sink sees it. `pcm` and `opus` are views into shared ring
 * memory, valid only during the sink's `write()` call: copy what you keep.
 */
export interface Frame {
  seq: number;
  /** Monotonic time (ns, process.hrtime.bigint scale) at which its last sample arrived. */
  captureNs: number;
  /** How late our own thread handled it (µs): scheduling delay, run-queue delay, a stall of ours; never the source's jitter. */
  latenessUs: number;
  flags: number;
  /** Samples of late audio dropped just before this frame (their time had already been concealed). */
  droppedBefore?: number;
  channels: number;
  /** Interleaved s16le, FRAME_SAMPLES * channels samples. */
  pcm: Int16Array;
  opus: Uint8Array;
}

/** Seconds on the meeting timeline at which frame `seq` starts. */
export const frameTime = (seq: number): number => (seq * FRAME_MS) / 1000;
