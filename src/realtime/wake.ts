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
 * serial-console stall blocks the event loop). Neither allocates.
 */
import { closeSync, openSync } from 'node:fs';
import { native } from '../native';

/** Poll returning within this of its call (run-queue time aside) found input already waiting. */
const AT_ONCE_NS = 200e3;

export class PollWakeMeter {
  private readonly fd: number;
  private readonly runDelayNs = native().runDelayNs;
  private sleptAt = 0;
  private runDelayAtSleep = 0;
  private timeoutDue = 0;
  private lastWake = 0;

  /** Opens the calling thread's schedstat: construct it on the thread it measures. */
  constructor() {
    let fd = -1;
    try {
      // A kernel without schedstats, or a native helper built before runDelayNs: timer and busy-span lateness still count.
      if (typeof this.runDelayNs === 'function') fd = openSync('/proc/thread-self/schedstat', 'r');
    } catch {
      fd = -1;
    }
    this.fd = fd;
  }

  /** Just before poll(2), with its timeout. */
  sleep(nowNs: number, timeoutMs: number): void {
    this.sleptAt = nowNs;
    this.runDelayAtSleep = this.runDelay();
    this.timeoutDue = nowNs + timeoutMs * 1e6;
  }

  /** Just after poll(2) returned (`timedOut`: nothing was ready); returns our lateness in ns. */
  woke(nowNs: number, timedOut: boolean): number {
    const queued = Math.max(0, this.runDelay() - this.runDelayAtSleep);
    let late: number;
    if (timedOut) late = Math.max(queued, nowNs - this.timeoutDue);
    else if (nowNs - this.sleptAt - queued < AT_ONCE_NS && this.lastWake) late = queued + (this.sleptAt - this.lastWake);
    else late = queued;
    this.lastWake = nowNs;
    return Math.max(0, late);
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
  }

  private runDelay(): number {
    return this.fd >= 0 ? Math.max(0, this.runDelayNs(this.fd)) : 0;
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
