/**
 * Our lateness: how long input may have waited for *our* thread at a wake,
 * measured on the thread itself, so that a source's uneven delivery can never
 * read as a deadline miss. Three things make us late, and each is measured:
 *
 * - run-queue delay: the kernel's count of ns this thread spent runnable but
 *   not running (/proc/thread-self/schedstat, 2nd field), across the sleep:
 *   woken by data, kept off the CPU by other work (CPU hogs, IRQ storms);
 * - a timer that fired late: now minus when poll's timeout was due;
 * - our own busy span: when poll returns at once, input was already waiting
 *   when we went to sleep, and may have waited through everything we did since
 *   the previous wake (a stall inside our thread, a GC pause, preemption).
 *
 * `PollWakeMeter` is for the worker sleeping in poll(2); `TimerWakeMeter` for
 * the legacy event-loop driver, where a late timer is the whole story (the
 * serial-console stall blocks the event loop). Neither allocates. The poll,
 * the clock and both schedstat reads are one native call per wake (sleepIn).
 */
import { closeSync, openSync } from 'node:fs';
import { native } from '../native';

/** Poll returning within this of its call (run-queue time aside) found input already waiting. */
const AT_ONCE_NS = 200e3;

export class PollWakeMeter {
  private readonly fd: number;
  private readonly sleepIn = native().sleepIn;
  /** From sleepIn: clock and run delay before poll(2) [0, 1] and after [2, 3]. */
  private readonly times = new Float64Array(4);
  private lastWake = 0;
  /** Of the last wake: when poll(2) returned (ns, process.hrtime's clock), and our lateness (ns). */
  wokeNs = 0;
  lateNs = 0;

  /** Opens the calling thread's schedstat: construct it on the thread it measures. */
  constructor() {
    let fd = -1;
    try {
      fd = openSync('/proc/thread-self/schedstat', 'r'); // a kernel without schedstats: timer and busy-span lateness still count
    } catch {
      fd = -1;
    }
    this.fd = fd;
  }

  /**
   * Sleeps in poll(2) until `inputFd` (bit 0) or `exitFd` (bit 1, -1 for none) is readable or
   * `timeoutMs` passed (0); then `wokeNs` and `lateNs` tell of this wake.
   */
  wait(inputFd: number, timeoutMs: number, exitFd: number): number {
    const t = this.times;
    const ready = this.sleepIn(inputFd, timeoutMs, exitFd, this.fd, t);
    const sleptAt = t[0]!;
    const nowNs = t[2]!;
    const queued = t[1]! >= 0 && t[3]! >= 0 ? Math.max(0, t[3]! - t[1]!) : 0;
    let late: number;
    if (ready === 0) late = Math.max(queued, nowNs - (sleptAt + timeoutMs * 1e6));
    else if (nowNs - sleptAt - queued < AT_ONCE_NS && this.lastWake) late = queued + (sleptAt - this.lastWake);
    else late = queued;
    this.lastWake = nowNs;
    this.wokeNs = nowNs;
    this.lateNs = Math.max(0, late);
    return ready;
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
  }
}

export class TimerWakeMeter {
  private due = 0;

  /** A timer was set to fire `delayMs` from `nowNs`. */
  armed(nowNs: number, delayMs: number): void {
    this.due = nowNs + delayMs * 1e6;
  }

  /** The timer fired; returns how late (ns). */
  fired(nowNs: number): number {
    return this.due ? Math.max(0, nowNs - this.due) : 0;
  }
}
