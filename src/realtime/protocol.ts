/** What the control plane and the audio worker say to each other (rarely: the audio goes through the ring). */
import type { ThreadStat } from '../ops/proc';
import type { AudioLoopOptions } from './audio-loop';
import type { RingShape } from './ring';
import type { SchedRequest } from './sched';

/** Int32 slots of the control SharedArrayBuffer. */
export const enum Control {
  Stop,
  InputEnded,
  /** The running ingest process's pid (0: none), which the worker watches for a clean exit. */
  IngestPid,
  Count,
}

export interface WorkerInit {
  control: SharedArrayBuffer;
  ring: SharedArrayBuffer;
  ringShape: RingShape;
  stats: SharedArrayBuffer;
  loop: AudioLoopOptions;
  sched: SchedRequest;
  strict: boolean;
  /** A FIFO that ingest (ffmpeg) writes into, or '-' for raw input on stdin. */
  inputPath: string;
  /** Stop after this many frames (--duration); 0 for no limit. */
  maxFrames: number;
  /** Test hook (passed in by the control plane, never read from the environment): busy-loop once, `ms` long, at frame `atFrame`. */
  testStall?: { atFrame: number; ms: number };
}

export type WorkerMessage =
  | { type: 'ready'; thread: ThreadStat; refused: string[] }
  | { type: 'done'; frames: number }
  | { type: 'fatal'; message: string };
