/**
 * A meeting of participants from the meeting page (`page:ADDR`), its control plane on the main
 * thread: the page receiver (../ingest/page) writes each participant's audio into shared memory
 * (input.ts), the participants' audio worker (worker.ts) cuts frames on the meeting's sample
 * clock, and this drains its rings into the sinks - the mixed meeting into the caller's sinks
 * (the recorder's audio.opus, partners; closed here at the end), each participant into its own recorder
 * (participants/<name>/audio.opus, silence where absent, so every file aligns sample for sample
 * with the mix) and the caller's per-participant sinks (partners, one stream per participant).
 * Events carry the participant; `healthy()` is false while a live participant's capture is silent.
 */
import { join } from 'node:path';
import { MessageChannel, Worker } from 'node:worker_threads';
import { PageIngest, type ParticipantSummary, type Presence } from '../ingest/page';
import type { CaptureScriptOptions } from '../page';
import { CONCEALED, type Frame, frameTime } from '../realtime/frame';
import { startMetrics, type MetricsServer } from '../ops/metrics';
import type { ThreadStat } from '../ops/proc';
import { FrameRing } from '../realtime/ring';
import { RtStats, Stat } from '../realtime/stats';
import type { RunContext } from '../run/context';
import { GapDetector } from '../run/gaps';
import { Recorder } from '../sinks/recorder';
import type { FrameSink } from '../sinks/sink';
import { ParticipantInput, PresenceCode } from './input';
import { resolve, type PageMeetingOptions, type Resolved } from './options';
import { safeName } from './names';
import { PARTICIPANT_RING_SLOTS } from './loop';
import { PControl, type ParticipantsWorkerInit, type ParticipantsWorkerMessage } from './worker';
import { LoopDelay } from '../util/loop-delay';

const MIX_RING_SLOTS = 512;
/** At most this many participants per meeting (each holds ~2.5 MB of shared memory). */
export const MAX_PARTICIPANTS = 64;
const PRESENCE: Record<Presence, PresenceCode> = { live: PresenceCode.Live, muted: PresenceCode.Muted, left: PresenceCode.Left };

interface Stream {
  name: string;
  input: ParticipantInput;
  ring: FrameRing;
  sinks: FrameSink[];
  gaps: GapDetector;
  recorder?: Recorder;
  dropouts: number;
  concealedFrames: number;
}

export type { ParticipantSummary } from '../ingest/page/types';
export type { PageMeetingOptions } from './options';

export class PageMeeting {
  private readonly streams = new Map<string, Stream>();
  private readonly control = new Int32Array(new SharedArrayBuffer(PControl.Count * 4));
  readonly stats: RtStats;
  /** The mixed meeting's frames (what the meeting's sinks get). */
  readonly ring = FrameRing.create({ slots: MIX_RING_SLOTS, channels: 1 });
  /** Priority requests the kernel refused (one line each). */
  refused: string[] = [];
  /** Monotonic ns at timeline sample 0. */
  originNs = 0;
  private readonly gaps: GapDetector;
  private readonly joins = new MessageChannel();
  private silent: string[] = [];
  private worker!: Worker;
  private ingest!: PageIngest;
  private finished = false;
  private participantOverruns = 0;
  private metrics?: MetricsServer;
  private readonly loopDelay = new LoopDelay(100);
  /** Our wall clock (performance.timeOrigin + now, ms) at timeline sample 0. */
  originMs = 0;
  /** The audio worker as the kernel reported it after scheduling. */
  audioThread?: ThreadStat;
  /** Resolves when the audio worker has cut its last frame and everything is drained. */
  readonly done: Promise<void>;
  private resolveDone!: () => void;

  private constructor(private readonly o: Resolved) {
    this.stats = o.stats ?? RtStats.create();
    this.gaps = new GapDetector(o.events.report);
    this.done = new Promise((r) => (this.resolveDone = r));
    o.events.recordTo(o.sinks);
  }

  static async start(options: PageMeetingOptions): Promise<PageMeeting> {
    const o = resolve(options);
    const m = new PageMeeting(o);
    const originNs = (m.originNs = Number(process.hrtime.bigint()));
    const originMs = (m.originMs = performance.timeOrigin + performance.now());
    const init: ParticipantsWorkerInit = {
      control: m.control.buffer as SharedArrayBuffer,
      mixRing: m.ring.buffer,
      mixShape: { slots: m.ring.slots, channels: 1 },
      stats: m.stats.buffer,
      joins: m.joins.port2,
      originNs,
      maxJitterMs: o.maxJitterMs,
      bitrate: o.bitrate,
      conceal: o.conceal,
      maxFrames: o.durationMs ? Math.round(o.durationMs / 20) : 0,
      sched: o.sched,
      strict: o.strict,
    };
    m.worker = new Worker(join(__dirname, 'worker.js'), { workerData: init, transferList: [m.joins.port2], name: 'earshot-audio' });
    await new Promise<void>((resolve, reject) => {
      m.worker.on('message', (msg: ParticipantsWorkerMessage) => {
        if (msg.type === 'ready') {
          m.audioThread = msg.thread;
          m.refused = msg.refused;
          for (const r of msg.refused) o.log.warn(`priority refused, running without it: ${r}`);
          resolve();
        } else if (msg.type === 'fatal') reject(new Error(msg.message));
        else if (msg.type === 'done') m.participantOverruns = msg.participantOverruns;
      });
      m.worker.on('error', reject);
    });
    m.ingest = await PageIngest.start({
      host: o.host,
      port: o.port,
      token: o.token,
      originMs,
      log: o.log,
      report: o.events.report,
      silentAfterMs: o.silentAfterMs,
      onSilence: (silent) => {
        m.silent = silent;
        o.onSilence?.(silent);
      },
      feed: {
        presence: (name, state) => m.stream(name)?.input.presence(PRESENCE[state]),
        audio: (name, position, pcm) => {
          const s = m.stream(name);
          if (!s) return;
          s.input.write(position, pcm);
          Atomics.add(m.control, PControl.Data, 1);
          Atomics.notify(m.control, PControl.Data);
        },
      },
    });
    if (o.metrics) m.metrics = await startMetrics(o.metrics, m.runContext());
    void m.drainLoop();
    return m;
  }

  /** The metrics server's base URL, when `metrics` was given. */
  get metricsUrl(): string | undefined {
    return this.metrics?.url;
  }

  /** What the ops services (metrics, health) read of this meeting. */
  private runContext(): RunContext {
    this.loopDelay.enable();
    return {
      startedAt: Date.now(),
      stats: this.stats,
      ringSlots: this.ring.slots,
      ringFill: () => this.ring.fill(),
      threadRoles: () => new Map(),
      partners: () => [],
      log: () => ({ sink: 'library', written: 0, dropped: 0 }),
      eventLoopDelay: this.loopDelay,
      eventCounts: () => this.o.events.counts,
      ready: () => this.stats.get(Stat.Frames) > 0,
      healthy: () => this.healthy(),
    };
  }

  get url(): string {
    return this.ingest.url;
  }

  get token(): string {
    return this.ingest.token;
  }

  captureScript(extra?: Omit<CaptureScriptOptions, 'url' | 'token'>): string {
    return this.ingest.captureScript(extra);
  }

  /** Frames flow and no live participant's capture is silent. */
  healthy(): boolean {
    const last = this.stats.get(Stat.LastInputFrameNs);
    return this.silent.length === 0 && last > 0 && (Number(process.hrtime.bigint()) - last) / 1e6 < 1000;
  }

  /** Participants whose live capture is silent (capture_silent, not yet recovered). */
  silentParticipants(): string[] {
    return [...this.silent];
  }

  participants(): ParticipantSummary[] {
    return this.ingest.participants().map((p) => {
      const s = this.streams.get(p.participant);
      return {
        ...p,
        ...(s?.recorder && { file: s.recorder.files.opus }),
        dropouts: s?.dropouts ?? 0,
        concealedSamples: (s?.concealedFrames ?? 0) * 960,
        lateSamples: s?.input.lateSamples ?? 0,
        holeSamples: s?.input.holeSamples ?? 0,
      };
    });
  }

  /** Participant frames lost because the main thread did not drain their rings in time. */
  get participantEgressOverruns(): number {
    return this.participantOverruns;
  }

  get page(): PageIngest {
    return this.ingest;
  }

  /** Ends the meeting: the worker stops, the rings are drained, every file is finalised. */
  async stop(): Promise<void> {
    Atomics.store(this.control, PControl.Stop, 1);
    Atomics.notify(this.control, PControl.Data);
    await this.done;
  }

  private stream(name: string): Stream | undefined {
    const known = this.streams.get(name);
    if (known || this.finished) return known;
    if (this.streams.size >= MAX_PARTICIPANTS) {
      this.o.log.warn(`participant ${name} ignored: a meeting takes at most ${MAX_PARTICIPANTS} participants`);
      return undefined;
    }
    const slot = this.streams.size;
    const input = ParticipantInput.create();
    const ring = FrameRing.create({ slots: PARTICIPANT_RING_SLOTS, channels: 1 });
    const recorder = this.o.recordDir ? new Recorder({ dir: join(this.o.recordDir, 'participants', safeName(name)), channels: 1, wav: false }) : undefined;
    const sinks = [...(recorder ? [recorder] : []), ...(this.o.participantSinks?.(name) ?? [])];
    // It joins at the frame being cut now (frames before are silence in its file, filled by its recorder).
    const firstSeq = this.stats.get(Stat.Frames);
    const s: Stream = { name, input, ring, sinks, recorder, dropouts: 0, concealedFrames: 0, gaps: undefined as unknown as GapDetector };
    s.gaps = new GapDetector((e) => {
      if (e.kind === 'dropout') s.dropouts++;
      this.o.events.report({ ...e, participant: name });
    }, firstSeq);
    this.streams.set(name, s);
    this.joins.port1.postMessage({ slot, input: input.shape, ring: ring.buffer });
    return s;
  }

  private async drainLoop(): Promise<void> {
    let workerDone = false;
    this.worker.once('exit', () => (workerDone = true));
    const [frame, mix] = [{} as Frame, {} as Frame];
    while (!workerDone) {
      await this.ring.waitForData(20);
      this.drain(frame, mix);
    }
    this.drain(frame, mix);
    this.finished = true;
    this.gaps.flush();
    for (const s of this.streams.values()) s.gaps.flush();
    await this.ingest.close();
    await this.metrics?.close();
    this.loopDelay.disable();
    await Promise.allSettled([...this.streams.values()].flatMap((s) => s.sinks.map((k) => k.close())));
    // The meeting's sinks that record events close last, so events raised while the others close are kept.
    await Promise.allSettled(this.o.sinks.filter((k) => !k.event).map((k) => k.close()));
    await Promise.allSettled(this.o.sinks.filter((k) => k.event).map((k) => k.close()));
    this.resolveDone();
  }

  /**
   * Drains in step: the worker publishes every participant's frame k before the mixed frame k, so
   * each participant is drained up to k before the mixed frame k is written - whatever the backlog,
   * a mixed frame comes after its participants' frames (a multichannel feed assembles them). Then
   * the participants' frames whose mixed frame is not out yet.
   */
  private drain(frame: Frame, mix: Frame): void {
    let mixed = this.ring.fill();
    while (mixed-- > 0 && this.ring.peek(mix)) {
      this.drainParticipants(frame, mix.seq);
      this.gaps.frame(mix);
      this.write(this.o.sinks, mix);
      this.ring.release();
    }
    this.drainParticipants(frame, Infinity);
  }

  private drainParticipants(frame: Frame, upTo: number): void {
    for (const s of this.streams.values()) {
      while (s.ring.peek(frame) && frame.seq <= upTo) {
        s.gaps.frame(frame);
        if (frame.flags & CONCEALED) s.concealedFrames++;
        this.write(s.sinks, frame);
        s.ring.release();
      }
    }
  }

  private write(sinks: FrameSink[], frame: Frame): void {
    for (const sink of sinks) {
      try {
        sink.write(frame);
      } catch (err) {
        this.o.log.error({ err, sink: sink.name }, 'sink failed on a frame');
      }
    }
  }

  /** Seconds on the meeting timeline now. */
  get position(): number {
    return frameTime(this.stats.get(Stat.Frames));
  }
}
