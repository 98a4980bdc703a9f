/**
 * The participants' audio worker: one prioritised thread running every participant's loop
 * (loop.ts). It sleeps on a shared word that the page receiver bumps whenever it writes audio,
 * with a timeout at the next frame's due time or jitter deadline, so it runs when audio arrives
 * or when a frame must be cut. Our lateness is measured here: a wake after its timeout was due
 * is late by the difference. Participants joining reach it through a MessagePort it reads
 * without an event loop (receiveMessageOnPort); it never waits on the main thread.
 */
import { parentPort, receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import { native } from '../native';
import type { ThreadStat } from '../ops/proc';
import type { ConcealMode } from '../realtime/conceal';
import { FrameRing, type RingShape } from '../realtime/ring';
import { applySchedule, type SchedRequest } from '../realtime/sched';
import { RtStats } from '../realtime/stats';
import { ParticipantsLoop, type ParticipantJoin } from './loop';

/** Int32 words of the control buffer. */
export const enum PControl {
  Stop,
  /** Bumped (and notified) by the main thread after each write of participant audio. */
  Data,
  Count,
}

export interface ParticipantsWorkerInit {
  control: SharedArrayBuffer;
  mixRing: SharedArrayBuffer;
  mixShape: RingShape;
  stats: SharedArrayBuffer;
  joins: MessagePort;
  originNs: number;
  maxJitterMs: number;
  bitrate: number;
  conceal: ConcealMode;
  maxFrames: number;
  sched: SchedRequest;
  strict: boolean;
}

export type ParticipantsWorkerMessage =
  | { type: 'ready'; thread: ThreadStat; refused: string[] }
  | { type: 'done'; frames: number; participantOverruns: number }
  | { type: 'fatal'; message: string };

const init = workerData as ParticipantsWorkerInit;
const post = (m: ParticipantsWorkerMessage) => parentPort!.postMessage(m);
const now = () => Number(process.hrtime.bigint());

function main(): void {
  native().setThreadName('earshot-audio');
  const sched = applySchedule(init.sched);
  if (sched.refused.length && init.strict) return post({ type: 'fatal', message: `priority refused (--rt-strict): ${sched.refused.join('; ')}` });
  const control = new Int32Array(init.control);
  const loop = new ParticipantsLoop(new FrameRing(init.mixRing, init.mixShape), new RtStats(init.stats), {
    bitrate: init.bitrate,
    conceal: init.conceal,
    originNs: init.originNs,
    maxJitterNs: init.maxJitterMs * 1e6,
    maxFrames: init.maxFrames,
  });
  post({ type: 'ready', thread: sched.thread, refused: sched.refused });
  let dueNs = 0;
  while (!Atomics.load(control, PControl.Stop) && !loop.done) {
    for (let m = receiveMessageOnPort(init.joins); m; m = receiveMessageOnPort(init.joins)) loop.join(m.message as ParticipantJoin);
    const t = now();
    const lateNs = dueNs ? Math.max(0, t - dueNs) : 0;
    const waitMs = loop.tick(t, lateNs);
    const seen = Atomics.load(control, PControl.Data);
    dueNs = now() + waitMs * 1e6;
    // Woken early by data: not late at all (dueNs moves with the next wait).
    if (Atomics.wait(control, PControl.Data, seen, waitMs) !== 'timed-out') dueNs = 0;
  }
  post({ type: 'done', frames: loop.frames, participantOverruns: loop.participantOverruns });
}

try {
  main();
} catch (err) {
  post({ type: 'fatal', message: (err as Error).message });
}
