/**
 * One reading of a running meeting's health: the real-time counters, the
 * kernel's view of every thread, and the process's resources. The metrics
 * server and the log heartbeat both render this, so they never disagree.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { Stat } from '../realtime/stats';
import { healthOf, type LogStats, type PartnerStatus, type RunContext } from '../run/context';
import { readThreads, type ThreadStat } from './proc';

export interface ThreadReading extends ThreadStat {
  /** Our role for it ('audio', 'main', ...) or, for threads we did not start, a name-derived one. */
  role: string;
}

export interface Snapshot {
  uptimeSec: number;
  frames: number;
  concealedSamples: number;
  concealmentEvents: number;
  totalSamplesDuration: number;
  deadlineMisses: number;
  dropouts: number;
  egressOverruns: number;
  lateAudioDroppedSamples: number;
  latenessMaxUs: number;
  inputBytes: number;
  ringFill: number;
  ringSlots: number;
  threads: ThreadReading[];
  openFds: number;
  rssBytes: number;
  partners: PartnerStatus[];
  log: LogStats;
  eventLoopDelayMs: { p50: number; p99: number; max: number; mean: number };
  events: Record<string, number>;
  healthy: boolean;
  ready: boolean;
  /** Best-effort components that are down (health problems). */
  problems: number;
}

export function takeSnapshot(ctx: RunContext): Snapshot {
  const s = ctx.stats;
  const roles = ctx.threadRoles();
  const eld = ctx.eventLoopDelay;
  return {
    uptimeSec: (Date.now() - ctx.startedAt) / 1000,
    frames: s.get(Stat.Frames),
    concealedSamples: s.get(Stat.ConcealedSamples),
    concealmentEvents: s.get(Stat.ConcealmentEvents),
    totalSamplesDuration: s.get(Stat.TotalSamplesDuration),
    deadlineMisses: s.get(Stat.DeadlineMisses),
    dropouts: s.get(Stat.ConcealmentEvents), // every dropout is concealed once
    egressOverruns: s.get(Stat.EgressOverruns),
    lateAudioDroppedSamples: s.get(Stat.LateAudioDropped),
    latenessMaxUs: s.get(Stat.LatenessMaxUs),
    inputBytes: s.get(Stat.InputBytes),
    ringFill: ctx.ringFill(),
    ringSlots: ctx.ringSlots,
    threads: readThreads().map((t) => ({ ...t, role: roles.get(t.tid) ?? roleFromName(t) })),
    openFds: countOpenFds(),
    rssBytes: residentBytes(),
    partners: ctx.partners(),
    log: ctx.log(),
    eventLoopDelayMs: {
      p50: eld.percentileMs(50),
      p99: eld.percentileMs(99),
      max: eld.maxMs,
      mean: eld.meanMs,
    },
    events: { ...ctx.eventCounts() } as Record<string, number>,
    healthy: ctx.healthy(),
    ready: ctx.ready(),
    problems: healthOf(ctx).problems.length,
  };
}

/** Threads Node and libuv start for us, named so an operator can tell them apart. */
function roleFromName(t: ThreadStat): string {
  if (t.tid === process.pid) return 'main';
  if (t.name.startsWith('libuv-worker')) return 'libuv';
  if (t.name.startsWith('V8 ')) return 'v8';
  // Node 20 names its V8 platform and worker threads "node" too: not ours to guess.
  return 'other';
}

export function countOpenFds(): number {
  // The listing itself holds one descriptor open while it reads.
  return Math.max(0, readdirSync('/proc/self/fd').length - 1);
}

export function residentBytes(): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) * 1024 : process.memoryUsage.rss();
}
