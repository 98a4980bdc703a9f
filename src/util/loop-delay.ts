/**
 * The main thread's event-loop delay, as perf_hooks measures it: a timer of `resolutionMs`, each
 * tick recorded as the time since the previous one. Every recorded value therefore includes the
 * timer's own period; the delay is what lies beyond it, and that is what this reports (an idle
 * loop reads ~0, not ~resolutionMs). A coarse timer costs less (each tick wakes the loop) and
 * still shows a stall of D ms as D - resolutionMs at least.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

export class LoopDelay {
  private readonly h: IntervalHistogram;

  constructor(readonly resolutionMs: number) {
    this.h = monitorEventLoopDelay({ resolution: resolutionMs });
  }

  enable(): void {
    this.h.enable();
  }

  disable(): void {
    this.h.disable();
  }

  /** Ticks recorded so far. */
  get count(): number {
    return this.h.count;
  }

  /** The delay at percentile `p` (0-100), ms. */
  percentileMs(p: number): number {
    return this.ms(this.h.percentile(p));
  }

  get maxMs(): number {
    return this.ms(this.h.max);
  }

  get meanMs(): number {
    return this.ms(this.h.mean);
  }

  private ms(ns: number): number {
    return this.h.count > 0 && Number.isFinite(ns) ? Math.max(0, ns / 1e6 - this.resolutionMs) : 0;
  }
}
