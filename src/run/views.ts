/**
 * What a running meeting shows of itself, read-only: the RunContext its side services read
 * (metrics, heartbeat, health checks), the partner statuses (the mix's, then a page input's per
 * speaker) and the run summary assembled from its parts (summary.ts owns the summary's shape and
 * policy). Apart from meeting.ts so that the meeting's wiring and handle do not also carry every
 * figure it reports. It changes nothing in the meeting; the one thing it owns is the event-loop
 * delay monitor, which exists only to be reported.
 */
import type { EarshotError } from '../errors';
import type { Logging } from '../logging';
import type { ParticipantPartnerStatus } from '../participants/partners';
import type { PagePipeline } from '../participants/pipeline';
import type { PartnerSink } from '../partners';
import { meetingFiles } from '../sinks/record-dir';
import type { Recorder } from '../sinks/recorder';
import { LoopDelay } from '../util/loop-delay';
import type { RunContext } from './context';
import type { MeetingEvents } from './events';
import type { HealthMonitor } from './health';
import type { AudioPipeline } from './pipeline';
import type { ResolvedOptions } from './resolve';
import { isPage } from './sources';
import type { StartupClock } from './startup';
import { buildSummary, partnerSummary, type AudioEnd, type RunSummary } from './summary';
import type { MeetingWatch } from './watch';

export interface ViewDeps {
  o: ResolvedOptions;
  /** The meeting's own facts: its start, and the folder (and segment) it records into. */
  meeting: { readonly startedAt: Date; readonly segment?: number; readonly recordDir?: string };
  pipeline: AudioPipeline | PagePipeline;
  logging: Logging;
  events: MeetingEvents;
  health: HealthMonitor;
  watch: MeetingWatch;
  startup: StartupClock;
  /** Read when asked: the partners and the recorder come later in the start, the failure at any time. */
  partners(): PartnerSink[];
  recorder(): Recorder | undefined;
  fatal(): EarshotError | undefined;
  /** Wall-clock ms of timeline second 0, once known. */
  origin(): number | undefined;
}

export class MeetingViews {
  /**
   * The main thread's event-loop delay: here because only the views report it (the meeting turns
   * it on at its first frame - start-up is not the meeting's delay - and off at the end). Sampled
   * by a libuv timer of this period: each wake costs ~35 µs of CPU here (0.35 % of a core at
   * 10 ms, more than the rest of the main thread's work). A stall of D ms still reads as more than
   * D - 100 ms.
   */
  readonly loopDelay = new LoopDelay(100);

  constructor(private readonly d: ViewDeps) {}

  /** The summary as things stand (`complete` false before the partners have finished). */
  summary(end: AudioEnd, endedAt: number, complete: boolean): RunSummary {
    const { o, meeting: m, pipeline: p } = this.d;
    const rec = this.d.recorder()?.stats();
    const fatal = this.d.fatal();
    const summary = buildSummary({
      meetingId: o.meetingId,
      segment: m.segment,
      outcome: end,
      ...(fatal && { error: { code: fatal.code, message: fatal.message } }),
      complete,
      startedAt: m.startedAt.getTime(),
      endedAt,
      timelineOrigin: this.d.origin(),
      input: o.input.shown,
      stats: p.stats,
      threads: p.threads,
      refused: p.refused,
      ingestRestarts: p.ingestRestarts,
      eventLoopDelayMaxMs: this.loopDelay.maxMs,
      startup: this.d.startup.times(),
      partnersRequired: o.partnersRequired,
      partners: this.partnerStatuses().map(partnerSummary),
      log: this.d.logging.stats(),
      recording: m.recordDir
        ? {
            dir: m.recordDir,
            files: meetingFiles(m.recordDir, { wav: !!o.record?.wav, transcripts: o.partners.length > 0, logSink: o.log.sink }),
            framesDropped: rec?.framesDropped ?? 0,
            ...(this.d.watch.diskError && { error: this.d.watch.diskError }),
          }
        : null,
    });
    // A page input: each participant (presence, file, dropouts, upstream losses).
    if (isPage(p)) summary.participants = p.participants();
    return summary;
  }

  /** What the side services read while the meeting runs. */
  context(): RunContext {
    const { pipeline: p, logging, events, health } = this.d;
    return {
      meetingId: this.d.o.meetingId,
      startedAt: this.d.meeting.startedAt.getTime(),
      stats: p.stats,
      ringSlots: p.ring.slots,
      ringFill: () => p.ring.fill(),
      threadRoles: () => p.roles,
      partners: () => this.partnerStatuses(),
      log: () => logging.stats(),
      eventLoopDelay: this.loopDelay,
      eventCounts: () => events.counts,
      ready: () => p.ready(),
      healthy: () => p.flowing(),
      health: () => health.current(),
    };
  }

  /** The mix's partners, then a page input's partners per speaker (each with the participants it carries). */
  partnerStatuses(): ParticipantPartnerStatus[] {
    const p = this.d.pipeline;
    return [...this.d.partners().map((s) => s.status()), ...(isPage(p) ? p.partnerStatuses() : [])];
  }
}
