/**
 * The audio worker thread. It prioritises itself, then sleeps in poll(2) on
 * the ingest pipe and runs the audio loop on every wake-up. It never waits on
 * the main thread: its only outputs are the ring, the shared counters and a
 * handful of messages at start and end.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { native } from '../native';
import { AudioLoop } from './audio-loop';
import { Control, type WorkerInit, type WorkerMessage } from './protocol';
import { IngestExit } from './ingest-exit';
import { InputPump } from './pump';
import { FrameRing } from './ring';
import { applySchedule } from './sched';
import { RtStats } from './stats';
import { PollWakeMeter } from './wake';

const init = workerData as WorkerInit;
const post = (m: WorkerMessage) => parentPort!.postMessage(m);
const now = () => Number(process.hrtime.bigint());

function main(): void {
  native().setThreadName('earshot-audio'); // what top -H and /proc show
  const sched = applySchedule(init.sched);
  if (sched.refused.length && init.strict) {
    post({ type: 'fatal', message: `priority refused (--rt-strict): ${sched.refused.join('; ')}` });
    return;
  }
  const control = new Int32Array(init.control);
  const ring = new FrameRing(init.ring, init.ringShape);
  const loop = new AudioLoop(ring, new RtStats(init.stats), { ...init.loop, maxFrames: init.maxFrames });
  // Unpaced input has no wall clock to keep: let a full ring push back on ffmpeg (through the pipe)
  // instead of dropping frames. One read can bring 34 frames, so keep that much room.
  const roomFrames = init.loop.paced ? 0 : 40;
  const input = new InputPump(init.inputPath);
  post({ type: 'ready', thread: sched.thread, refused: sched.refused });
  const { pollIn } = native();
  const ingest = new IngestExit(control);
  const stall = init.testStall && { ...init.testStall, done: false };
  const meter = new PollWakeMeter(); // on this thread: it reads this thread's run-queue delay
  let wait = 20;

  while (!Atomics.load(control, Control.Stop)) {
    if (stall && !stall.done && loop.frames >= stall.atFrame) {
      stall.done = true;
      busyWait(stall.ms);
    }
    if (roomFrames && ring.slots - ring.fill() < roomFrames) {
      Atomics.wait(control, Control.Stop, 0, 2);
      continue;
    }
    ingest.follow();
    const ready = meter.wait(input.fd, Math.ceil(wait), ingest.fd);
    loop.wake(meter.lateNs);
    if (ready & 1 && !input.pump(loop, meter.wokeNs)) break; // stdin closed: end of the meeting
    if (ready & 2 && ingest.cleanEnd()) {
      // ffmpeg exited cleanly: all it wrote is in the pipe. Drain it, and the meeting is over.
      if (pollIn(input.fd, 0)) input.pump(loop, now());
      break;
    }
    if (!(ready & 1) && Atomics.load(control, Control.InputEnded)) break; // ingest finished, pipe drained
    if (init.maxFrames && loop.frames >= init.maxFrames) break;
    wait = Math.min(loop.tick(now()), 20);
  }
  loop.flush(now());
  meter.close();
  ingest.close();
  input.close();
  post({ type: 'done', frames: loop.frames });
}

function busyWait(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end);
}

try {
  main();
} catch (err) {
  post({ type: 'fatal', message: (err as Error).message });
}
