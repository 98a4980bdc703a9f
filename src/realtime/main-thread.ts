/**
 * The audio loop on the main thread, driven by event-loop timers: how naive
 * bots do it, kept so `earshot repro` can show what that costs when the main
 * thread stalls (e.g. on a synchronous console write). Same loop, same pump as
 * the worker; only the wake-ups differ (setTimeout instead of poll(2)).
 */
import { native } from '../native';
import { AudioLoop } from './audio-loop';
import type { WorkerInit } from './protocol';
import { InputPump } from './pump';
import { FrameRing } from './ring';
import { RtStats } from './stats';
import { TimerWakeMeter } from './wake';

/** The legacy loop's polling period: short, so the wait it adds to each read (up to this) stays small. */
const POLL_MS = 5;

export interface MainThreadAudio {
  /** Resolves with the frame count when input ends or stop() is called. */
  done: Promise<number>;
  stop(): void;
  inputEnded(): void;
}

export function runOnMainThread(init: WorkerInit): MainThreadAudio {
  const loop = new AudioLoop(new FrameRing(init.ring, init.ringShape), new RtStats(init.stats), { ...init.loop, maxFrames: init.maxFrames });
  const input = new InputPump(init.inputPath);
  const now = () => Number(process.hrtime.bigint());
  let finish!: (frames: number) => void;
  const done = new Promise<number>((resolve) => (finish = resolve));
  let ended = false;
  let inputEnded = false;
  let timer: NodeJS.Timeout | undefined;
  const meter = new TimerWakeMeter();
  const arm = (ms: number) => {
    meter.armed(now(), ms);
    timer = setTimeout(step, ms);
  };

  const end = () => {
    if (ended) return;
    ended = true;
    clearTimeout(timer);
    loop.flush(now());
    input.close();
    finish(loop.frames);
  };
  const step = () => {
    const before = loop.frames;
    loop.wake(meter.fired(now())); // a late timer is the event loop's lateness: input waited that long for us
    if (native().pollIn(input.fd, 0) && !input.pump(loop, now())) return end();
    if (inputEnded && loop.frames === before) return end();
    if (init.maxFrames && loop.frames >= init.maxFrames) return end();
    // Every 5 ms: input waits for the next timer, and that wait (unmeasured) is in every arrival time it sees.
    arm(Math.min(loop.tick(now()), POLL_MS));
  };
  arm(1);
  return { done, stop: end, inputEnded: () => (inputEnded = true) };
}
