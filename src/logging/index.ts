/**
 * One pino logger for the process (main thread and, through worker.ts, the
 * worker threads), writing into a sink chosen by `--log-sink`. Every sink but
 * the legacy `console-sync` is asynchronous and bounded: a slow sink loses
 * records (counted as log_records_dropped_total, and reported by a warning
 * once it recovers) instead of stalling a thread or growing memory.
 */
import pino, { type Logger } from 'pino';
import { UserError } from '../errors';
import { ConsoleSyncSink } from './console-sync';
import { FdSink } from './fd-sink';
import { levelFor, parseLevelSpec, type LevelSpec, type ModuleName } from './levels';
import { CENSOR, REDACT_PATHS, scrubObject, scrubString, type Secrets } from './redact';
import { NullSink, type LogSink, type LogStats } from './sink';
import { SocketSink } from './socket-sink';

export type { ModuleName } from './levels';
export type { LogSink, LogStats, SinkCounts } from './sink';

export interface Logging {
  logger: Logger;
  stats(): LogStats;
  close(): Promise<void>;
}

export interface LoggingOptions {
  /** --log-sink: file:PATH | socket:PATH | stdout | null | console-sync (default stdout) */
  sink?: string;
  /** --log-level: "info" or "info,partners=trace" (EARSHOT_LOG_LEVEL is read too) */
  level?: string;
  /** Bound on queued log bytes per sink (default 1 MiB). */
  maxBufferBytes?: number;
  /** --log-chatter: records/s of partner-style trace records, to reproduce the story's log volume. */
  chatter?: number;
  /** How often the "records dropped" warning may repeat (default 5 s). */
  dropWarnIntervalMs?: number;
  /** Stamped on every record (`meetingId`). */
  meetingId?: string;
  /** Known secrets (a meeting's input credentials), masked in every record. */
  secrets?: Secrets;
}

/** parseArgs options for the logging flags; spread them into a command's options. */
export const logFlags = {
  'log-sink': { type: 'string' },
  'log-level': { type: 'string' },
  'log-chatter': { type: 'string' },
} as const;

export const LOG_FLAGS_HELP = `  --log-sink SINK      where logs go (default stdout, asynchronous and bounded):
                         file:PATH     append to a file
                         socket:PATH   a unix stream socket (Fluent Bit, Vector); reconnects, drops while away
                         stdout        fd 1, asynchronous, drops (and counts) when it cannot keep up
                         null          discard
                         console-sync  LEGACY: synchronous writes like console.log to a TTY; can stall the
                                       process on a slow console. Only for \`earshot repro\`.
  --log-level SPEC     default level and per-module levels, e.g. info,partners=trace
                       (also EARSHOT_LOG_LEVEL; modules: main realtime ingest partners sinks ops)
  --log-chatter N      TEST ONLY: emit N partner-style trace records per second (repro's log volume)`;

/** Maps parsed flag values (see logFlags) to LoggingOptions. */
export function loggingOptionsFrom(values: { 'log-sink'?: string; 'log-level'?: string; 'log-chatter'?: string }): LoggingOptions {
  const opts: LoggingOptions = { sink: values['log-sink'], level: values['log-level'] };
  if (values['log-chatter'] !== undefined) {
    const n = Number(values['log-chatter']);
    if (!Number.isFinite(n) || n < 0) {
      throw new UserError(`--log-chatter "${values['log-chatter']}" is not a rate - give records per second, e.g. 400`);
    }
    opts.chatter = n;
  }
  return opts;
}

export function openSink(spec: string, maxBufferBytes?: number): LogSink {
  if (spec === 'stdout') return FdSink.stdout(maxBufferBytes);
  if (spec === 'null') return new NullSink();
  if (spec === 'console-sync') return new ConsoleSyncSink();
  if (spec.startsWith('file:') && spec.length > 5) return FdSink.openFile(spec.slice(5), maxBufferBytes);
  if (spec.startsWith('socket:') && spec.length > 7) return new SocketSink(spec.slice(7), maxBufferBytes);
  throw new UserError(`--log-sink "${spec}" is not a sink - use file:PATH, socket:PATH, stdout, null or console-sync`);
}

interface LoggingInternals {
  spec: LevelSpec;
  children: Map<string, Logger>;
  extraDropped: number;
}
const internals = new WeakMap<Logging, LoggingInternals>();

export function createLogging(opts: LoggingOptions = {}): Logging {
  const spec = parseLevelSpec(opts.level);
  const sink = openSink(opts.sink ?? 'stdout', opts.maxBufferBytes);
  const logger = pino(
    {
      level: spec.base,
      base: { pid: process.pid, ...(opts.meetingId && { meetingId: opts.meetingId }) },
      redact: { paths: REDACT_PATHS, censor: CENSOR },
      formatters: { log: (obj) => scrubObject(obj, 2, opts.secrets) },
      hooks: {
        logMethod(args, method) {
          for (let i = 0; i < args.length; i++) {
            if (typeof args[i] === 'string') (args as unknown[])[i] = scrubString(args[i] as string, opts.secrets);
          }
          return method.apply(this, args as Parameters<typeof method>);
        },
      },
    },
    { write: (line: string) => sink.write(line) },
  );
  const state: LoggingInternals = { spec, children: new Map(), extraDropped: 0 };

  // Report drops through the same logger once the sink has room again, at most every interval.
  const warnEvery = opts.dropWarnIntervalMs ?? 5000;
  let reported = 0;
  let lastWarn = 0;
  const warnTimer = setInterval(() => {
    const c = sink.counts();
    const dropped = c.dropped + state.extraDropped;
    const recovered = c.bufferedBytes < sink.maxBufferBytes / 2;
    if (dropped > reported && recovered && Date.now() - lastWarn >= warnEvery) {
      logger.warn(
        { module: 'logging', dropped: dropped - reported, droppedTotal: dropped, sink: sink.name },
        'log sink could not keep up: records dropped',
      );
      reported = dropped;
      lastWarn = Date.now();
    }
  }, Math.min(1000, warnEvery));
  warnTimer.unref();

  const chatter = opts.chatter ? startChatter(logger.child({ module: 'partners' }, { level: levelFor(spec, 'partners') }), opts.chatter) : undefined;

  const logging: Logging = {
    logger,
    stats: () => {
      const c = sink.counts();
      return { sink: sink.name, written: c.written, dropped: c.dropped + state.extraDropped };
    },
    close: async () => {
      clearInterval(warnTimer);
      if (chatter) clearInterval(chatter);
      await sink.close();
    },
  };
  internals.set(logging, state);
  sinks.set(logging, sink);
  return logging;
}

const sinks = new WeakMap<Logging, LogSink>();

/** The sink behind a Logging, for tests and benchmarks (buffered bytes, peak). */
export function sinkOf(logging: Logging): LogSink | undefined {
  return sinks.get(logging);
}

/**
 * A child logger for one module, at that module's level from --log-level /
 * EARSHOT_LOG_LEVEL (`partners=trace`). Cached: one child per module.
 */
export function moduleLogger(logging: Logging, module: ModuleName): Logger {
  const state = internals.get(logging);
  if (!state) return logging.logger.child({ module });
  let child = state.children.get(module);
  if (!child) {
    child = logging.logger.child({ module }, { level: levelFor(state.spec, module) });
    state.children.set(module, child);
  }
  return child;
}

/** Drops that happened before a record reached the sink (e.g. a worker's full link). */
export function countDropped(logging: Logging, n: number): void {
  const state = internals.get(logging);
  if (state) state.extraDropped += n;
}

/**
 * The story's chatty transcription module: a trace record per audio chunk and
 * then some, every 20 ms on the main thread. Only for reproducing the stall.
 */
function startChatter(log: Logger, perSecond: number): NodeJS.Timeout {
  let seq = 0;
  let owed = 0;
  const timer = setInterval(() => {
    owed += perSecond / 50;
    for (; owed >= 1; owed--) {
      seq++;
      log.trace(
        { partner: 'raw', seq, bytes: 1920, audioSec: +(seq * 0.02).toFixed(2), queue: seq % 7, state: 'streaming' },
        'sent audio chunk to transcription partner',
      );
    }
  }, 20);
  timer.unref();
  return timer;
}
