/**
 * One meeting, as the library runs it: `startMeeting(options)` checks the options, starts the
 * side services (which fail the start with one line, before any audio), the audio thread and
 * ingest side by side (ffmpeg's own start overlaps the worker's; its first audio waits in the
 * pipe and then the ring), the partners and the recorder, and returns a handle. The handle emits the meeting's events,
 * transcripts, partner state changes and health as they happen; `stop()` and `finished` resolve
 * with the summary (never reject). Finalising protects what matters first: the recording and a
 * summary within about a second, then the partners under a deadline, then the final summary.
 * Nothing here touches the process: no signal handlers, no environment, no exit. This file is the
 * wiring of one meeting and its handle; the steps are in sources.ts (where the audio comes from),
 * watch.ts (faults seen as they happen), views.ts (what the meeting reports: the side services'
 * context, the partner statuses, the summary) and finalise.ts (the order of the end).
 */
import { EventEmitter } from 'node:events';
import { rmdirSync } from 'node:fs';
import type { Logger } from 'pino';
import { EarshotError } from '../errors';
import type { MeetingEvent } from '../events';
import type { ParticipantSummary } from '../ingest/page/types';
import { ffmpegPath } from '../ingest/ffmpeg-path';
import { createLogging, moduleLogger, type Logging } from '../logging';
import { Secrets } from '../logging/redact';
import { native } from '../native';
import { readThread } from '../ops/proc';
import { startOps, type Ops } from '../ops/services';
import type { CaptureScriptOptions } from '../page';
import type { PartnerContext, PartnerSink } from '../partners';
import type { PagePipeline } from '../participants/pipeline';
import { frameTime } from '../realtime/frame';
import { Stat } from '../realtime/stats';
import { FrameTimesSink } from '../sinks/frame-times';
import { prepareRecordDir } from '../sinks/record-dir';
import { Recorder } from '../sinks/recorder';
import type { FrameSink } from '../sinks/sink';
import { MeetingEvents } from './events';
import { FanOut } from './fanout';
import { MeetingWatch } from './watch';
import { Finaliser } from './finalise';
import { HealthMonitor, type Health } from './health';
import type { MeetingOptions } from './options';
import type { PartnerStateChange, TranscriptSegment } from './partner-types';
import type { AudioPipeline } from './pipeline';
import { resolveOptions, type ResolvedOptions } from './resolve';
import { captureWatchdog, createPipeline, isPage, mixPartners } from './sources';
import { StartupClock } from './startup';
import { threadSummary, type AudioEnd, type RunSummary } from './summary';
import { MeetingViews } from './views';

/** The handle's events and their arguments. */
export interface MeetingEventMap {
  /** A meeting event (deadline_miss, dropout, partner_gap, disk_error...) as it is reported. */
  event: [MeetingEvent];
  /** A transcript segment from a partner, on the meeting timeline. */
  transcript: [TranscriptSegment];
  /** A partner's connection changed state (connecting, open, backoff, failed...). */
  partner: [PartnerStateChange];
  /** The meeting's health changed. */
  health: [Health];
}

export interface StopOptions {
  /** Do not wait for the partners: finalise the recording and the summary, and abort the partner streams. */
  now?: boolean;
}

/** The main thread drains the audio at least this often (ms); sooner when a sink's batchMs asks (a 20 ms partner chunk). */
const MAX_DRAIN_MS = 100;

export class Meeting extends EventEmitter<MeetingEventMap> {
  readonly id: string;
  readonly startedAt = new Date();
  /** Where this meeting records (a segment-N folder when the one asked for held a meeting). */
  recordDir?: string;
  segment?: number;
  /** The metrics base URL, when `metrics` was given. */
  metricsUrl?: string;
  /** Resolves with the summary when the meeting has ended and is finalised, for whatever reason. Never rejects. */
  readonly finished: Promise<RunSummary>;
  /** Set when summary.json could not be written (the summary is still returned; the CLI prints it on stderr). */
  get summaryError(): string | undefined {
    return this.finaliser?.summaryError;
  }

  private readonly o: ResolvedOptions;
  private readonly secrets = new Secrets();
  private readonly startup = new StartupClock();
  private logging!: Logging;
  private log!: Logger;
  private events!: MeetingEvents;
  private health!: HealthMonitor;
  private pipeline!: AudioPipeline | PagePipeline;
  private fanout!: FanOut;
  private ops?: Ops;
  private recorder?: Recorder;
  private partners: PartnerSink[] = [];
  private extraSinks: FrameSink[] = [];
  private fatal?: EarshotError;
  private watch!: MeetingWatch;
  private views!: MeetingViews;
  private stopping = false;
  private hurried = false;
  private finaliser?: Finaliser;
  private originWall?: number;
  private createdDir = false;
  private settle!: (s: RunSummary) => void;
  private readonly failedListeners = new Set<string>();

  private constructor(options: MeetingOptions) {
    super();
    this.o = resolveOptions(options);
    this.id = this.o.meetingId;
    for (const s of this.o.input.secrets) this.secrets.add(s);
    if (this.o.pageToken) this.secrets.add(this.o.pageToken);
    this.finished = new Promise((resolve) => (this.settle = resolve));
  }

  /**
   * With a page input: the receiver the meeting page's capture script connects to - `captureScript()`
   * for Playwright's addInitScript / Puppeteer's evaluateOnNewDocument (it holds the meeting's token:
   * for the browser only), and each participant so far.
   */
  get page(): { captureScript(extra?: Omit<CaptureScriptOptions, 'url' | 'token'>): string; url: string; participants(): ParticipantSummary[] } | undefined {
    const p = isPage(this.pipeline) ? this.pipeline.page : undefined;
    return p && { captureScript: (extra) => p.captureScript(extra), url: p.url, participants: () => p.participants() };
  }

  /** The meeting's health now. */
  status(): Health {
    return this.health.current();
  }

  /**
   * Ends the meeting: ingest stops, the audio thread finishes its frame, the recording and the
   * summary are finalised, then the partners (bounded; at once with `now`). Resolves with the summary.
   */
  stop(opts: StopOptions = {}): Promise<RunSummary> {
    if (opts.now) {
      this.hurried = true;
      this.finaliser?.hurryUp();
      if (this.pipeline && isPage(this.pipeline)) this.pipeline.abortPartners();
    }
    if (!this.stopping) {
      this.stopping = true;
      this.log.info(opts.now ? 'stopping now' : 'stopping');
      this.pipeline.stop();
    }
    return this.finished;
  }

  /** @internal startMeeting() is the way in. */
  static async start(options: MeetingOptions): Promise<Meeting> {
    const meeting = new Meeting(options);
    await meeting.launch();
    return meeting;
  }

  /** Starts everything in the order the file head gives; on failure, undoes what started. */
  private async launch(): Promise<void> {
    const o = this.o;
    try {
      if (o.record) {
        const prepared = prepareRecordDir(o.record.dir, o.record.existing);
        this.recordDir = prepared.dir;
        this.segment = prepared.segment;
        this.createdDir = prepared.created;
      }
      this.logging = createLogging({ ...o.log, meetingId: this.id, secrets: this.secrets });
      this.log = moduleLogger(this.logging, 'main');
      const ffmpeg = o.input.kind === 'stdin' || o.input.kind === 'page' ? undefined : ffmpegPath();
      this.events = new MeetingEvents(this.log, { meetingId: this.id, secrets: this.secrets, origin: () => this.origin() });
      this.events.onEvent((e) => this.emitSafe('event', e));
      this.pipeline = createPipeline({
        o,
        logging: this.logging,
        events: this.events,
        recordDir: this.recordDir,
        partnerContext: () => this.partnerContext(),
        onTranscript: (t) => this.emitSafe('transcript', t),
        onProblem: (component, why) => this.health.set(component, why),
        onFatal: (err) => {
          this.fatal = err;
          this.log.error(err.message);
        },
        // Start-up (module loading, the worker, spawning ffmpeg) is not the meeting's event-loop delay.
        onFirstFrame: () => this.views.loopDelay.enable(),
        startup: this.startup,
      });
      this.health = new HealthMonitor(this.pipeline, (h) => this.emitSafe('health', h));
      this.watch = new MeetingWatch({
        events: this.events,
        health: this.health,
        audio: this.pipeline,
        input: o.input.shown,
        fanout: () => this.fanout,
        partners: () => this.partners,
        now: () => this.now(),
      });
      this.views = new MeetingViews({
        o,
        meeting: this,
        pipeline: this.pipeline,
        logging: this.logging,
        events: this.events,
        health: this.health,
        watch: this.watch,
        startup: this.startup,
        partners: () => this.partners,
        recorder: () => this.recorder,
        fatal: () => this.fatal,
        origin: () => this.origin(),
      });
      // Side services first: a bad address is one line before any audio.
      this.ops = await startOps({ metrics: o.metrics, heartbeatMs: o.heartbeatMs }, this.views.context(), moduleLogger(this.logging, 'ops'), (c, err) =>
        this.watch.component(c, err.message),
      );
      this.metricsUrl = this.ops.metricsUrl;
      // ffmpeg starts alongside the audio worker: a meeting's first audio waits for the slower of the two, not both.
      const ingest = this.pipeline.startIngest();
      await Promise.all([this.pipeline.startAudio(), ingest]);
      for (const r of this.pipeline.refused) this.log.warn(`priority refused, running without it: ${r}`);
      if (this.pipeline.threads[0]) this.log.info({ thread: this.pipeline.threads[0] }, 'audio worker ready');
      const partners = mixPartners(o);
      // The partner streams (ws, and through it http, tls, zlib) load only for a meeting that has partners.
      if (partners.length) this.partners = (require('../partners') as typeof import('../partners')).createPartnerSinks(partners, this.partnerContext());
      if (this.recordDir) {
        this.recorder = new Recorder({
          dir: this.recordDir,
          channels: o.channels,
          wav: o.record!.wav,
          transcripts: o.partners.length > 0,
          onOverrun: this.events.report,
          onDiskError: (d) => this.watch.disk(d),
        });
        this.events.onEvent((e) => this.recorder!.event(e));
      }
      if (o.test.frameTimesFile) this.extraSinks.push(new FrameTimesSink(o.test.frameTimesFile));
      const watchdog = captureWatchdog({ o, events: this.events, onProblem: (c, why) => this.health.set(c, why) }, () => this.now());
      if (watchdog) this.extraSinks.push(watchdog);
      const sinks: FrameSink[] = [...(this.recorder ? [this.recorder] : []), ...this.partners, ...this.extraSinks];
      this.fanout = new FanOut(sinks, this.events.report);
      if (ffmpeg) this.watch.firstAudio(o.firstAudioMs);
    } catch (err) {
      await this.abandon();
      throw err;
    }
    this.watch.start();
    o.signal?.addEventListener('abort', () => void this.stop(), { once: true });
    if (o.signal?.aborted) void this.stop();
    void this.run().then(this.settle);
  }

  /** Undoes a start that failed part-way: nothing keeps running, nothing is left half-open. */
  private async abandon(): Promise<void> {
    this.pipeline?.stop();
    for (const p of this.partners) p.abort();
    if (this.pipeline && isPage(this.pipeline)) this.pipeline.abortPartners();
    await this.ops?.close().catch(() => {});
    await this.recorder?.close().catch(() => {});
    this.pipeline?.close();
    await this.logging?.close();
    // A start that failed leaves no trace of a meeting: the folder it made goes again (only if empty).
    try {
      if (this.createdDir && !this.recorder) rmdirSync(this.recordDir!);
    } catch {
      // not empty (a log file in it): leave it
    }
  }

  private async run(): Promise<RunSummary> {
    let end: AudioEnd;
    try {
      end = await this.pipeline.run(this.fanout.write, this.fanout.drainFrames(MAX_DRAIN_MS));
    } catch (err) {
      this.fatal ??= new EarshotError(`internal error in the audio drain: ${(err as Error).message}`, { code: 'ERR_AUDIO' });
      this.log.error({ err }, this.fatal.message);
      this.pipeline.stop();
      end = 'failed';
    }
    this.fatal ??= this.pipeline.failure();
    return this.finalise(end);
  }

  /** Finalising (finalise.ts): the recording and a summary first, the partners under their deadline after. */
  private async finalise(end: AudioEnd): Promise<RunSummary> {
    this.views.loopDelay.disable();
    this.watch.stop();
    this.health.end(); // the audio has ended: not a stall
    const endedAt = Date.now();
    this.pipeline.threads.push(threadSummary(this.pipeline.roles.get(native().gettid()) ?? 'main', readThread(native().gettid())));
    this.finaliser = new Finaliser({
      log: this.log,
      logging: this.logging,
      recorder: this.recorder,
      recordDir: this.recordDir,
      partners: this.partners,
      partnerCloseMs: this.o.partnerCloseMs,
      others: this.extraSinks,
      ops: this.ops,
      summary: (complete) => this.views.summary(end, endedAt, complete),
      ingestGone: () => this.pipeline.ingestGone(),
      release: () => this.pipeline.close(),
    });
    if (this.hurried) this.finaliser.hurryUp();
    return this.finaliser.finalise();
  }

  /** The partners write no file of their own: their transcripts come here, stamped, to transcripts.jsonl. */
  private partnerContext(): PartnerContext {
    return {
      channels: this.o.channels,
      logger: moduleLogger(this.logging, 'partners'),
      onEvent: this.events.report,
      onTranscript: (t: TranscriptSegment) => {
        const origin = this.origin();
        const line = { meetingId: this.id, ...(origin !== undefined && { at: new Date(origin + t.start * 1000).toISOString() }), ...t };
        this.recorder?.transcript(line);
        this.emitSafe('transcript', t);
      },
      onState: (c: PartnerStateChange) => {
        this.emitSafe('partner', c);
        this.health.set(`partner ${c.partner}`, c.to === 'failed' ? (c.reason ?? 'failed') : undefined);
      },
    };
  }

  /** Wall-clock ms of timeline second 0: known once the first frame is in, for paced input only. */
  private origin(): number | undefined {
    if (this.originWall === undefined && this.o.input.paced && this.pipeline?.originNs !== undefined) {
      this.originWall = Date.now() - (Number(process.hrtime.bigint()) - this.pipeline.originNs) / 1e6;
    }
    return this.originWall;
  }

  private now(): number {
    return frameTime(this.pipeline.stats.get(Stat.Frames));
  }

  /** A listener that throws is the caller's bug: logged once per event name, never the meeting's end. */
  private emitSafe<K extends keyof MeetingEventMap>(name: K, ...args: MeetingEventMap[K]): void {
    try {
      (this.emit as (n: K, ...a: MeetingEventMap[K]) => boolean)(name, ...args);
    } catch (err) {
      if (this.failedListeners.has(name)) return;
      this.failedListeners.add(name);
      this.log.error({ err }, `a "${name}" listener threw; the meeting goes on`);
    }
  }
}

/**
 * Starts a meeting and resolves once it is running (the audio thread waiting, ingest started,
 * the side services up). Rejects with a UserError (one line naming the option and the fix) or
 * an EarshotError, having undone whatever it had started.
 */
export function startMeeting(options: MeetingOptions): Promise<Meeting> {
  return Meeting.start(options);
}
