/**
 * Logging from a thread that must never block (the audio worker): records are
 * posted over a MessagePort to the main thread, which writes them through the
 * process's one pino logger. postMessage never blocks but queues without
 * bound, so the link counts records in flight in shared memory and drops (and
 * counts) beyond `maxPending`. Meant for rare records (start, warnings), not
 * per-frame logging.
 *
 *   main:   const link = createWorkerLogLink(logging, 'realtime');
 *           new Worker(file, { workerData: { log: link.workerData }, transferList: [link.workerData.port] });
 *   worker: const log = workerLogger(workerData.log); log.warn({ tid }, 'refused SCHED_FIFO');
 */
import { MessageChannel, type MessagePort } from 'node:worker_threads';
// Only types from index.ts here: the worker side must not load pino into the audio thread.
import type { Logging, ModuleName } from './index';
import { LEVELS, type LevelName } from './levels';

/** Shared counters: [0] records in flight, [1] records dropped by the worker side. */
const PENDING = 0;
const DROPPED = 1;

export interface WorkerLogData {
  port: MessagePort;
  counters: SharedArrayBuffer;
  level: LevelName;
  maxPending: number;
}

interface WorkerRecord {
  l: LevelName;
  o?: Record<string, unknown>;
  m?: string;
}

export interface WorkerLogLink {
  /** Pass to the worker in workerData, with `port` in the transferList. */
  workerData: WorkerLogData;
  /** Records the worker dropped because the link was full. */
  dropped(): number;
  close(): void;
}

export function createWorkerLogLink(logging: Logging, module: ModuleName, maxPending = 256): WorkerLogLink {
  const { countDropped, moduleLogger } = require('./index') as typeof import('./index');
  const log = moduleLogger(logging, module);
  const { port1, port2 } = new MessageChannel();
  const counters = new SharedArrayBuffer(8);
  const view = new Int32Array(counters);
  let counted = 0;
  port1.on('message', (rec: WorkerRecord) => {
    Atomics.sub(view, PENDING, 1);
    const fn = log[rec.l as Exclude<LevelName, 'silent'>];
    if (typeof fn === 'function') {
      if (rec.o) fn.call(log, rec.o, rec.m);
      else fn.call(log, rec.m);
    }
    // Fold the worker's drops into the process total as they appear.
    const d = Atomics.load(view, DROPPED);
    if (d > counted) {
      countDropped(logging, d - counted);
      counted = d;
    }
  });
  port1.unref();
  return {
    workerData: { port: port2, counters, level: log.level as LevelName, maxPending },
    dropped: () => Atomics.load(view, DROPPED),
    close: () => {
      const d = Atomics.load(view, DROPPED);
      if (d > counted) countDropped(logging, d - counted);
      counted = d;
      port1.close();
    },
  };
}

type LogFn = (objOrMsg: Record<string, unknown> | string, msg?: string) => void;
export type WorkerLogger = Record<Exclude<LevelName, 'silent'>, LogFn> & { isLevelEnabled(level: LevelName): boolean };

/** The worker's side: level-checked, never blocking, bounded. */
export function workerLogger(data: WorkerLogData): WorkerLogger {
  const view = new Int32Array(data.counters);
  const threshold = LEVELS.indexOf(data.level);
  const enabled = (level: LevelName) => LEVELS.indexOf(level) >= threshold && level !== 'silent';
  const make =
    (level: Exclude<LevelName, 'silent'>): LogFn =>
    (objOrMsg, msg) => {
      if (!enabled(level)) return;
      if (Atomics.add(view, PENDING, 1) >= data.maxPending) {
        Atomics.sub(view, PENDING, 1);
        Atomics.add(view, DROPPED, 1);
        return;
      }
      const rec: WorkerRecord = typeof objOrMsg === 'string' ? { l: level, m: objOrMsg } : { l: level, o: objOrMsg, m: msg };
      data.port.postMessage(rec);
    };
  data.port.unref?.();
  return {
    trace: make('trace'),
    debug: make('debug'),
    info: make('info'),
    warn: make('warn'),
    error: make('error'),
    fatal: make('fatal'),
    isLevelEnabled: enabled,
  };
}
