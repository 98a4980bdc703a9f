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
  /** Late audio dropped because concealment had already filled its time (samples). */
  lateAudioDroppedSamples: number;
  /** Our lateness: how late our own audio thread handled each frame (deadline misses are frames beyond 20 ms). */
  latenessMs: { p50: number; p99: number; p999: number; max: number };
  /** The source's delivery jitter per frame, against its own clock (absorbed by the jitter buffer, never an event). */
  sourceJitterMs: { p50: number; p99: number; p999: number; max: number };
  /** Latency the jitter buffer added: how long frames of real audio were held. */
  addedLatencyMs: { p50: number; p99: number; p999: number; max: number };
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
  return {
    durationSec: s.get(Stat.TotalSamplesDuration),
    frames: s.get(Stat.Frames),
    concealedSamples: s.get(Stat.ConcealedSamples),
    concealmentEvents: s.get(Stat.ConcealmentEvents),
    deadlineMisses: s.get(Stat.DeadlineMisses),
    dropouts: s.get(Stat.ConcealmentEvents), // every dropout is concealed once
    egressOverruns: s.get(Stat.EgressOverruns),
    lateAudioDroppedSamples: s.get(Stat.LateAudioDropped),
    latenessMs: s.lateness.summaryMs(),
    sourceJitterMs: s.sourceJitter.summaryMs(),
    addedLatencyMs: s.held.summaryMs(),
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
