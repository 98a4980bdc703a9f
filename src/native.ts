/**
 * Typed access to our N-API helper (native/earshot_native.c). Every call acts
 * on the calling thread only. Errors carry `errno`, `code` and a message that
 * names the missing permission.
 */
import { join } from 'node:path';
import { ROOT } from './paths';

export type Policy = 'other' | 'fifo' | 'rr' | 'batch' | 'idle' | 'unknown';

export interface NativeHelper {
  gettid(): number;
  getNice(): number;
  setNice(n: number): number;
  getAffinity(): number[];
  setAffinity(cpus: number[]): number[];
  getScheduler(): { policy: Policy; priority: number };
  /** policy: 0 other, 1 fifo, 2 rr (Linux's numbering). */
  setScheduler(policy: 0 | 1 | 2, priority: number): { policy: Policy; priority: number };
  setPipeSize(fd: number, bytes: number): number;
  getPipeSize(fd: number): number;
  /** poll(2) for input on fd (bit 0) and, if given, an exit on a pidfd (bit 1); 0 on timeout. */
  pollIn(fd: number, timeoutMs: number, exitFd?: number): number;
  /** A pidfd for pid: readable once the process exits. */
  pidfdOpen(pid: number): number;
  /** A child's exit through its pidfd: -1 running, its exit code, 128 + signal, or -2 if already reaped. */
  childExit(pidfd: number): number;
  /** Closes a descriptor the helper opened (a pidfd). */
  closeFd(fd: number): void;
  mkfifo(path: string): void;
  /** Names the calling thread in /proc (comm; at most 15 bytes are kept). */
  setThreadName(name: string): void;
  /**
   * poll(2) as pollIn, with the clock (ns, process.hrtime's) and the run-queue delay (ns runnable
   * but not running, from a /proc/<tid>/schedstat opened as schedstatFd; -1: none or unknown)
   * written to times just before [0, 1] and just after [2, 3].
   */
  sleepIn(fd: number, timeoutMs: number, exitFd: number, schedstatFd: number, times: Float64Array): number;
  /** read(2) into buffer: bytes read, 0 at end of input, -1 when a non-blocking fd had nothing. */
  readIn(fd: number, buffer: Buffer): number;
  /** which: 0 RLIMIT_NICE, 1 RLIMIT_RTPRIO; -1 is unlimited. */
  getRlimit(which: 0 | 1): [number, number];
}

export interface NativeError extends Error {
  errno: number;
  code: string;
}

let cached: NativeHelper | undefined;

export function native(): NativeHelper {
  if (cached) return cached;
  const file = join(ROOT, 'native', 'build', 'Release', 'earshot_native.node');
  try {
    cached = require(file) as NativeHelper;
  } catch (err) {
    throw new Error(
      `the native helper is not built (${(err as Error).message.split('\n')[0]}) - run \`npm install\` (it runs node-gyp in native/)`,
    );
  }
  return cached;
}

export const POLICY_NUMBER: Record<'other' | 'fifo' | 'rr', 0 | 1 | 2> = { other: 0, fifo: 1, rr: 2 };
