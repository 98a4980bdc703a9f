/**
 * The errors earshot throws or reports, in one place (public: `import { UserError } from 'earshot'`).
 * Every one carries a stable `code`, whether trying again may help (`retryable`, as in undici or
 * LiveKit's APIError) and the exit status the CLI gives it. Messages are one line naming the cause
 * and the fix, and never carry a secret. This module imports nothing of ours.
 */

export type ErrorCode =
  /** A bad option or flag value. */
  | 'ERR_OPTION'
  /** The input cannot be read (missing file, FIFO, unknown source). */
  | 'ERR_INPUT'
  /** The recording folder cannot be used (unwritable, holds a meeting already). */
  | 'ERR_RECORD'
  /** A side service could not start (metrics address, log sink). */
  | 'ERR_SERVICE'
  /** The priority asked for was refused and --rt-strict was given. */
  | 'ERR_PRIORITY'
  /** The source failed for good mid-meeting, or never delivered audio. */
  | 'ERR_INGEST'
  /** The audio worker failed. */
  | 'ERR_AUDIO';

export interface EarshotErrorOptions {
  code: ErrorCode;
  /** True when the same call may succeed later (a source that is down now). Default false. */
  retryable?: boolean;
  /** Exit status of the CLI for this error. Default 1. */
  exitCode?: number;
  cause?: unknown;
}

export class EarshotError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly exitCode: number;

  constructor(message: string, opts: EarshotErrorOptions) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'EarshotError';
    this.code = opts.code;
    this.retryable = opts.retryable ?? false;
    this.exitCode = opts.exitCode ?? 1;
  }
}

/** An error the user caused (bad flag, option or input): one line with its fix, exit status 2, no stack. */
export class UserError extends EarshotError {
  constructor(message: string, exitCode = 2, code: ErrorCode = 'ERR_OPTION') {
    super(message, { code, exitCode });
    this.name = 'UserError';
  }
}

/** True for anything earshot threw on purpose (as opposed to a bug). */
export function isEarshotError(err: unknown): err is EarshotError {
  return err instanceof EarshotError;
}
