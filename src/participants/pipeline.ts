/**
 * The audio side of a library meeting whose input is `page:ADDR`: a participants meeting
 * (meeting.ts) behind the same face as the single-input AudioPipeline (../run/pipeline.ts), so
 * `startMeeting` drives either the same way - start, drain into the fan-out (the mix goes to the
 * meeting's recorder and partners), stop, close. Each participant's recording and partner streams
 * stay inside the participants meeting. A live capture gone silent is reported as a problem
 * (health degraded), not as a stall of the whole meeting.
 */
import type { Logger } from 'pino';
import type { EarshotError } from '../errors';
import type { SourceSpec } from '../ingest/spec';
import { native } from '../native';
import { parseListenAddress } from '../ops/listen-address';
import type { ConcealMode } from '../realtime/conceal';
import { FRAME_MS, type Frame } from '../realtime/frame';
import type { SchedRequest } from '../realtime/sched';
import { RtStats, Stat } from '../realtime/stats';
import type { MeetingEvents } from '../run/events';
import { threadSummary, type AudioEnd, type ThreadSummary } from '../run/summary';
import { PageMeeting, type ParticipantSummary } from './meeting';
import type { ParticipantPartners, ParticipantPartnerStatus } from './partners';

export interface PagePipelineOptions {
  input: SourceSpec;
  bitrate: number;
  conceal: ConcealMode;
  maxJitterMs: number;
  sched: SchedRequest;
  strict: boolean;
  durationMs?: number;
  log: Logger;
  events: MeetingEvents;
  recordDir?: string;
  silentAfterMs?: number;
  token?: string;
  /** The partners per speaker (a connection each, or one with a channel each); none: the partners hear the mix. */
  transcripts?: ParticipantPartners;
  /** The participants whose live capture is silent (empty: none). */
  onSilence(silent: string[]): void;
}

export class PagePipeline {
  readonly stats = RtStats.create();
  readonly roles = new Map<number, string>([[native().gettid(), 'main']]);
  readonly threads: ThreadSummary[] = [];
  readonly lastIngestFailure = undefined;
  readonly ingestRestarts = 0;
  private meeting?: PageMeeting;
  private fanout?: (frame: Frame) => void;
  private fatal?: EarshotError;
  private stopped = false;

  constructor(private readonly o: PagePipelineOptions) {}

  /** The mix's ring (for the metrics); a placeholder until the audio side starts. */
  get ring(): { slots: number; fill(): number } {
    return this.meeting?.ring ?? { slots: 0, fill: () => 0 };
  }

  get refused(): string[] {
    return this.meeting?.refused ?? [];
  }

  get originNs(): number | undefined {
    return this.meeting?.originNs;
  }

  /** The participants meeting (capture script, token, participants), once started. */
  get page(): PageMeeting | undefined {
    return this.meeting;
  }

  participants(): ParticipantSummary[] {
    return this.meeting?.participants() ?? [];
  }

  /** The partner connections per speaker, with whom each carries. */
  partnerStatuses(): ParticipantPartnerStatus[] {
    return this.o.transcripts?.statuses() ?? [];
  }

  /** Cuts the partner connections per speaker at once (a meeting that must not wait for them). */
  abortPartners(): void {
    this.o.transcripts?.abort();
  }

  /** Starts the participants' audio worker and the page receiver. */
  async startAudio(): Promise<void> {
    const o = this.o;
    const { host, port } = parseListenAddress(o.input.target, '--input page');
    this.meeting = await PageMeeting.start({
      host,
      port,
      token: o.token,
      log: o.log,
      events: o.events,
      sinks: [{ name: 'meeting', write: (f) => this.fanout?.(f), close: async () => {} }, ...(o.transcripts?.mixSinks ?? [])],
      ...(o.transcripts && { participantSinks: (name: string) => o.transcripts!.participantSinks(name) }),
      recordDir: o.recordDir,
      bitrate: o.bitrate,
      conceal: o.conceal,
      maxJitterMs: o.maxJitterMs,
      silentAfterMs: o.silentAfterMs,
      durationMs: o.durationMs,
      sched: o.sched,
      strict: o.strict,
      stats: this.stats,
      onSilence: o.onSilence,
    });
    const thread = this.meeting.audioThread;
    if (thread) {
      this.roles.set(thread.tid, 'audio');
      this.threads.push(threadSummary('audio', thread));
    }
  }

  /** Nothing to start: the pages connect when the bot injects the capture script. */
  async startIngest(): Promise<void> {}

  fail(err: EarshotError): void {
    if (this.fatal || this.stopped) return;
    this.fatal = err;
    void this.meeting?.stop();
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    void this.meeting?.stop();
  }

  /** Hands every mixed frame to `fanout` until the meeting ends. */
  async run(fanout: (frame: Frame) => void): Promise<AudioEnd> {
    this.fanout = fanout;
    await this.meeting!.done;
    if (this.fatal) return 'failed';
    if (this.stopped) return 'stopped';
    return this.o.durationMs && this.stats.get(Stat.Frames) >= Math.round(this.o.durationMs / FRAME_MS) ? 'duration' : 'stopped';
  }

  failure(): EarshotError | undefined {
    return this.fatal;
  }

  ready(): boolean {
    return this.stats.get(Stat.Frames) > 0;
  }

  /** The meeting's clock runs whether or not anyone speaks: frames are cut on time. */
  flowing(): boolean {
    return this.ready() && !this.stopped;
  }

  close(): void {}

  ingestGone(): Promise<void> {
    return Promise.resolve();
  }
}
