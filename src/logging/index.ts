/**
 * One pino logger for the process. (Minimal placeholder until the logging
 * issue lands: an asynchronous sonic-boom destination on stderr.)
 */
import pino, { type Logger } from 'pino';
import type { LogStats } from '../run/context';

export interface Logging {
  logger: Logger;
  stats(): LogStats;
  close(): Promise<void>;
}

export interface LoggingOptions {
  /** --log-sink: file:PATH | socket:PATH | stdout | null | console-sync */
  sink?: string;
  /** --log-level: "info" or "info,partners=trace" */
  level?: string;
}

export function createLogging(opts: LoggingOptions = {}): Logging {
  const dest = pino.destination({ fd: 2, sync: false, minLength: 0 });
  const logger = pino({ level: opts.level ?? 'info', base: undefined }, dest);
  return {
    logger,
    stats: () => ({ sink: 'stderr', written: 0, dropped: 0 }),
    close: () => new Promise((resolve) => dest.flush(() => resolve())),
  };
}
