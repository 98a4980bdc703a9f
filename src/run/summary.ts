/** summary.json (DESIGN.md's run summary), written at the end of `earshot run`. */
import type { ThreadStat } from '../ops/proc';
import { Stat, type RtStats } from '../realtime/stats';
import type { LogStats, PartnerStatus } from './context';

export interface ThreadSummary {
  role: string;
  tid: number;
  nice: number;
  policy: string;
  rtPriority: number;
  cpus: string;
}

export interface RunSummary {
  durationSec: number;
  frames: number;
  concealedSamples: number;
  concealmentEvents: number;
  deadlineMisses: number;
  dropouts: number;
  egressOverruns: number;
  inputOverruns: number;
  latenessMs: { p50: number; p99: number; p999: number; max: number };
  eventLoopDelayMaxMs: number;
  threads: ThreadSummary[];
  refusedPriority: string[];
  ingestRestarts: number;
  partners: Array<Pick<PartnerStatus, 'name' | 'provider' | 'codec' | 'sessionIds' | 'audioSecSent' | 'bytesSent' | 'reconnects' | 'gapsMs' | 'badMessages' | 'outcome'>>;
  log: LogStats;
  recording?: { dir: string; files: string[]; framesDropped: number };
}

export function threadSummary(role: string, t: ThreadStat): ThreadSummary {
  return { role, tid: t.tid, nice: t.nice, policy: t.policy, rtPriority: t.rtPriority, cpus: t.cpus };
}

export function buildSummary(p: {
  stats: RtStats;
  threads: ThreadSummary[];
  refused: string[];
  ingestRestarts: number;
  eventLoopDelayMaxMs: number;
  partners: PartnerStatus[];
  log: LogStats;
  recording?: RunSummary['recording'];
}): RunSummary {
  const s = p.stats;
  const ms = (us: number) => Math.round(us) / 1000;
  return {
    durationSec: s.get(Stat.TotalSamplesDuration),
    frames: s.get(Stat.Frames),
    concealedSamples: s.get(Stat.ConcealedSamples),
    concealmentEvents: s.get(Stat.ConcealmentEvents),
    deadlineMisses: s.get(Stat.DeadlineMisses),
    dropouts: s.get(Stat.ConcealmentEvents), // every dropout is concealed once
    egressOverruns: s.get(Stat.EgressOverruns),
    inputOverruns: s.get(Stat.InputOverruns),
    latenessMs: {
      p50: ms(s.latenessQuantileUs(0.5)),
      p99: ms(s.latenessQuantileUs(0.99)),
      p999: ms(s.latenessQuantileUs(0.999)),
      max: ms(s.get(Stat.LatenessMaxUs)),
    },
    eventLoopDelayMaxMs: Math.round(p.eventLoopDelayMaxMs * 1000) / 1000,
    threads: p.threads,
    refusedPriority: p.refused,
    ingestRestarts: p.ingestRestarts,
    partners: p.partners.map(({ name, provider, codec, sessionIds, audioSecSent, bytesSent, reconnects, gapsMs, badMessages, outcome }) => ({
      name,
      provider,
      codec,
      sessionIds,
      audioSecSent,
      bytesSent,
      reconnects,
      gapsMs,
      badMessages,
      outcome,
    })),
    log: p.log,
    ...(p.recording && { recording: p.recording }),
  };
}
