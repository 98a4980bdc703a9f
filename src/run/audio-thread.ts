/**
 * Starts the audio side of a meeting: the prioritised worker thread (the
 * default), or the legacy loop on the main thread (`--realtime-thread main`,
 * kept for `earshot repro`). Either way the control plane gets the same
 * handle: when it is done, how to stop it, what the kernel granted it.
 */
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { ThreadStat } from '../ops/proc';
import { runOnMainThread } from '../realtime/main-thread';
import { Control, type WorkerInit, type WorkerMessage } from '../realtime/protocol';
import { EarshotError, UserError } from '../errors';

export interface AudioThread {
  /** The worker as the kernel reports it after scheduling; undefined on the main thread. */
  thread?: ThreadStat;
  /** Priority requests the kernel refused (one line each, naming the missing permission). */
  refused: string[];
  /** Resolves when the audio side has published its last frame. */
  done: Promise<void>;
  stop(): void;
  /** Ingest reached the end of its source: finish once the pipe is drained. */
  inputEnded(): void;
  /** A new ingest process writes the pipe: the worker watches it for a clean exit itself. */
  ingestStarted(pid: number): void;
  /** Why it stopped, if it failed. */
  failure(): EarshotError | undefined;
}

/**
 * The audio worker's young generation held at V8's smallest (two 1 MB semi-spaces): left alone it
 * doubles to 4 MB while the worker loads its modules and keeps it (~0.8 MB more RSS per meeting),
 * though the running loop allocates about 1 MB in 10 s: the smaller nursery costs one scavenge more in 20 s.
 */
const AUDIO_HEAP = { maxYoungGenerationSizeMb: 3 };

export async function startAudioThread(init: WorkerInit, where: 'worker' | 'main'): Promise<AudioThread> {
  if (where === 'main') {
    const main = runOnMainThread(init);
    const ingestStarted = () => {}; // the legacy loop learns of the end from the event loop only
    return { refused: [], done: main.done.then(() => {}), stop: main.stop, inputEnded: main.inputEnded, ingestStarted, failure: () => undefined };
  }
  const control = new Int32Array(init.control);
  const worker = new Worker(join(__dirname, '..', 'realtime', 'worker.js'), { workerData: init, name: 'earshot-audio', resourceLimits: AUDIO_HEAP });
  let failure: EarshotError | undefined;
  const done = new Promise<void>((resolve) => {
    worker.on('message', (m: WorkerMessage) => m.type === 'done' && resolve());
    worker.on('exit', () => resolve());
  });
  const ready = await new Promise<Extract<WorkerMessage, { type: 'ready' }>>((resolve, reject) => {
    const fail = (err: EarshotError) => {
      failure = err;
      reject(failure);
    };
    // The worker's one expected refusal is --rt-strict's: the user's to fix. Anything else is ours.
    const fatal = (message: string) =>
      message.startsWith('priority refused') ? new UserError(message, 2, 'ERR_PRIORITY') : new EarshotError(`audio worker failed: ${message}`, { code: 'ERR_AUDIO' });
    worker.on('message', (m: WorkerMessage) => (m.type === 'ready' ? resolve(m) : m.type === 'fatal' && fail(fatal(m.message))));
    worker.on('error', (err) => fail(new EarshotError(`audio worker failed: ${err.message}`, { code: 'ERR_AUDIO' })));
  }).catch(async (err: unknown) => {
    await worker.terminate();
    throw err;
  });
  return {
    thread: ready.thread,
    refused: ready.refused,
    done,
    stop: () => Atomics.store(control, Control.Stop, 1),
    inputEnded: () => Atomics.store(control, Control.InputEnded, 1),
    ingestStarted: (pid) => Atomics.store(control, Control.IngestPid, pid),
    failure: () => failure,
  };
}
