/**
 * The run summary (DESIGN.md): summary.json in the recording folder, what the library's `stop()`
 * and `finished` resolve with, and the last log record of a meeting. Built from read-only views;
 * `ok` applies the documented policy (the meeting did not fail, the recording is whole, and the
 * partners that `partnersRequired` names delivered).
 */
import { hostname } from 'node:os';
import type { ParticipantSummary } from '../ingest/page/types';
import type { ThreadStat } from '../ops/proc';
import { Stat, type RtStats } from '../realtime/stats';
import type { LogStats } from '../logging/sink';
import type { PartnerStatus } from '../partners/status';
import type { PartnersRequired } from './options';
import type { StartupTimes } from './startup';
import { VERSION } from './version';

/** How the audio side of a meeting ended. */
export type AudioEnd = 'input_ended' | 'duration' | 'stopped' | 'failed';

export interface ThreadSummary {
  role: string;
  tid: number;
  nice: number;
  policy: string;
  rtPriority: number;
  cpus: string;
}

/** What one partner did in the meeting: its counters, its state, and its outcome (did it ever deliver, and if not why). */
export type PartnerSummary = Pick<
  PartnerStatus,
  'name' | 'provider' | 'codec' | 'state' | 'sessionIds' | 'audioSecSent' | 'bytesSent' | 'reconnects' | 'gapsMs' | 'badMessages' | 'sendLatencyMs' | 'outcome'
> & {
  /** A page input's connection for one participant (`participantTranscripts: 'each'`). */
  participant?: string;
  /** A page input's multichannel connection: the participant of each channel, in channel order. */
  participants?: string[];
};

export interface RunSummary {
  meetingId: string;
  /** With a page input: every participant (presence at the end, recording, dropouts, upstream concealment). */
  participants?: ParticipantSummary[];
  /** 2, 3... when the meeting was recorded into a segment folder of a folder that held a meeting already. */
  segment?: number;
  /** How the audio side ended: the input ended, --duration was reached, stop() (or a signal), or a failure. */
  outcome: AudioEnd;
  /** The failure, when outcome is 'failed'. */
  error?: { code: string; message: string };
  /** The meeting's verdict under the policy in the file head (the CLI exits non-zero when false). */
  ok: boolean;
  /** False in a summary written before the partners finished (replaced once they have). */
  complete: boolean;
  /** Wall clock (ISO 8601) when the meeting started and ended. */
  startedAt: string;
  endedAt: string;
  /** Wall clock of timeline second 0 (the first frame's first sample): `at` of an event is this plus its `t`. */
  timelineOrigin?: string;
  version: string;
  host: string;
  /** --input, credentials masked. */
  input: string;
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
  /** Where the start went (ms after startMeeting(); see run/startup.ts). */
  startup: StartupTimes;
  threads: ThreadSummary[];
  refusedPriority: string[];
  ingestRestarts: number;
  /** Which partners had to deliver for `ok` (all | any | none). */
  partnersRequired: PartnersRequired;
  /** Each partner; `state` is 'closing' in a summary written before the partners finished. */
  partners: PartnerSummary[];
  log: LogStats;
  /** null when the meeting was not recorded. */
  recording: { dir: string; files: string[]; framesDropped: number; error?: string } | null;
}

export function threadSummary(role: string, t: ThreadStat): ThreadSummary {
  return { role, tid: t.tid, nice: t.nice, policy: t.policy, rtPriority: t.rtPriority, cpus: t.cpus };
}

export function partnerSummary(p: PartnerStatus & Pick<PartnerSummary, 'participant' | 'participants'>): PartnerSummary {
  const { name, provider, codec, state, sessionIds, audioSecSent, bytesSent, reconnects, gapsMs, badMessages, sendLatencyMs, outcome, participant, participants } = p;
  return {
    name,
    provider,
    codec,
    state,
    sessionIds,
    audioSecSent,
    bytesSent,
    reconnects,
    gapsMs,
    badMessages,
    sendLatencyMs,
    outcome,
    ...(participant !== undefined && { participant }),
    ...(participants !== undefined && { participants }),
  };
}

/** Whether the partners satisfy the policy: all of them delivered, any one did, or it does not matter. */
export function partnersOk(partners: PartnerSummary[], required: PartnersRequired): boolean {
  if (required === 'none' || partners.length === 0) return true;
  return required === 'all' ? partners.every((p) => p.outcome.delivered) : partners.some((p) => p.outcome.delivered);
}

export function buildSummary(p: {
  meetingId: string;
  segment?: number;
  outcome: AudioEnd;
  error?: { code: string; message: string };
  complete: boolean;
  startedAt: number;
  endedAt: number;
  timelineOrigin?: number;
  input: string;
  stats: RtStats;
  threads: ThreadSummary[];
  refused: string[];
  ingestRestarts: number;
  eventLoopDelayMaxMs: number;
  startup: StartupTimes;
  partnersRequired: PartnersRequired;
  partners: PartnerSummary[];
  log: LogStats;
  recording: RunSummary['recording'];
}): RunSummary {
  const s = p.stats;
  const iso = (t: number) => new Date(t).toISOString();
  const ok = p.outcome !== 'failed' && !p.recording?.error && partnersOk(p.partners, p.partnersRequired);
  return {
    meetingId: p.meetingId,
    ...(p.segment && { segment: p.segment }),
    outcome: p.outcome,
    ...(p.error && { error: p.error }),
    ok,
    complete: p.complete,
    startedAt: iso(p.startedAt),
    endedAt: iso(p.endedAt),
    ...(p.timelineOrigin !== undefined && { timelineOrigin: iso(p.timelineOrigin) }),
    version: VERSION,
    host: hostname(),
    input: p.input,
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
    startup: p.startup,
    threads: p.threads,
    refusedPriority: p.refused,
    ingestRestarts: p.ingestRestarts,
    partnersRequired: p.partnersRequired,
    partners: p.partners,
    log: p.log,
    recording: p.recording,
  };
}
