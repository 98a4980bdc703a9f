/**
 * `--heartbeat DUR`: the metrics' view, written to the log every DUR, so a
 * fleet without a Prometheus still has each meeting's thread states, nice,
 * context switches, fds and RSS on record - and the deltas that show what
 * changed since the last beat (a thread stuck in D, misses piling up).
 */
import type { Logger } from 'pino';
import type { RunContext } from '../run/context';
import { takeSnapshot, type Snapshot } from './snapshot';

export interface Heartbeat {
  stop(): void;
}

export function startHeartbeat(everyMs: number, ctx: RunContext, logger: Logger): Heartbeat {
  if (!(everyMs > 0)) throw new RangeError(`heartbeat interval must be positive, got ${everyMs}`);
  let last: Snapshot | undefined;
  let warned = false;
  // A beat that fails (the process state unreadable) is logged once and skipped; it never throws.
  const beat = () => {
    try {
      const snap = takeSnapshot(ctx);
      logger.info(heartbeatRecord(snap, last), 'heartbeat');
      last = snap;
    } catch (err) {
      if (!warned) logger.warn({ err }, 'heartbeat: could not read the process state; skipping beats until it can');
      warned = true;
    }
  };
  const timer = setInterval(beat, everyMs);
  // A heartbeat must never keep a finished run alive.
  timer.unref();
  return { stop: () => clearInterval(timer) };
}

/** The log record of one beat; `prev` turns running totals into per-beat deltas. */
export function heartbeatRecord(s: Snapshot, prev?: Snapshot) {
  const prevThread = new Map(prev?.threads.map((t) => [t.tid, t]));
  const delta = (now: number, before: number | undefined) => now - (before ?? 0);
  return {
    hb: {
      uptimeSec: round(s.uptimeSec, 1),
      healthy: s.healthy,
      ready: s.ready,
      frames: s.frames,
      deadlineMisses: s.deadlineMisses,
      deadlineMissesDelta: delta(s.deadlineMisses, prev?.deadlineMisses),
      concealedSamples: s.concealedSamples,
      concealmentEvents: s.concealmentEvents,
      dropouts: s.dropouts,
      egressOverruns: s.egressOverruns,
      latenessMaxMs: round(s.latenessMaxUs / 1000, 3),
      ring: `${s.ringFill}/${s.ringSlots}`,
      eventLoopDelayMs: { p99: round(s.eventLoopDelayMs.p99, 2), max: round(s.eventLoopDelayMs.max, 2) },
      partners: s.partners.map((p) => ({
        name: p.name,
        connected: p.connected,
        backlogSec: round(p.backlogSec, 2),
        reconnects: p.reconnects,
      })),
      log: { sink: s.log.sink, written: s.log.written, dropped: s.log.dropped, droppedDelta: delta(s.log.dropped, prev?.log.dropped) },
      openFds: s.openFds,
      rssMiB: round(s.rssBytes / 2 ** 20, 1),
      threads: s.threads.map((t) => {
        const p = prevThread.get(t.tid);
        return {
          tid: t.tid,
          role: t.role,
          name: t.name,
          state: t.state,
          nice: t.nice,
          policy: t.rtPriority ? `${t.policy}:${t.rtPriority}` : t.policy,
          cpu: t.processor,
          vcs: delta(t.voluntaryCtxt, p?.voluntaryCtxt),
          ivcs: delta(t.involuntaryCtxt, p?.involuntaryCtxt),
        };
      }),
      diskSleepThreads: s.threads.filter((t) => t.state === 'D').length,
    },
  };
}

const round = (v: number, digits: number) => Math.round(v * 10 ** digits) / 10 ** digits;
