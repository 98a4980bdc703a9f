/**
 * The audio side of one meeting, as the control plane (main thread) drives it:
 * the ring and counters shared with the audio thread, the ingest pipe and its
 * ffmpeg supervisor, and the drain loop that hands every frame to the fan-out
 * and turns frame flags into events. Nothing here can make the audio worker
 * wait, and nothing here touches the process (no signals, no environment).
 */
import { IngestFifo } from '../ingest/fifo';
import { ffmpegPath } from '../ingest/ffmpeg-path';
import { IngestSupervisor } from '../ingest/supervisor';
import type { SourceSpec } from '../ingest/spec';
import { EarshotError } from '../errors';
import type { MeetingEvent } from '../events';
import type { Logger } from 'pino';
import { native } from '../native';
import type { AudioLoopOptions } from '../realtime/audio-loop';
import { FRAME_MS, frameTime, SAMPLE_RATE, type Frame } from '../realtime/frame';
import { Control, type WorkerInit } from '../realtime/protocol';
import { FrameRing } from '../realtime/ring';
import type { SchedRequest } from '../realtime/sched';
import { Stat, RtStats } from '../realtime/stats';
import { startAudioThread, type AudioThread } from './audio-thread';
import { GapDetector } from './gaps';
import type { StartupClock } from './startup';
import { threadSummary, type AudioEnd, type ThreadSummary } from './summary';

/** 10.24 s of frames: the main thread may stall this long before the worker drops any. */
const RING_SLOTS = 512;
/** The audio side is "stalled" when no real input has been framed for this long (concealment does not count). */
const STALL_MS = 1000;
/** However the drain is batched, what is in the ring reaches the sinks within this (a partial batch at the end). */
const DRAIN_AT_LEAST_MS = 1000;

export interface PipelineOptions {
  input: SourceSpec;
  channels: number;
  loop: Omit<AudioLoopOptions, 'channels' | 'paced'>;
  sched: SchedRequest;
  strict: boolean;
  realtimeThread: 'worker' | 'main';
  durationMs?: number;
  ingestLog: Logger;
  /** Every event the audio side finds (frame flags, ingest restarts). */
  onEvent(e: MeetingEvent): void;
  /** The source failed for good (the pipeline stops itself). */
  onFatal(err: EarshotError): void;
  /** The first frame was drained: the meeting's audio is flowing. */
  onFirstFrame?(): void;
  /** Start-up milestones: worker ready, ingest spawned, first audio, first frame handed to the sinks. */
  startup?: StartupClock;
  test?: { stallMain?: { atMs: number; ms: number }; stallWorker?: { atMs: number; ms: number } };
}

export class AudioPipeline {
  readonly stats = RtStats.create();
  readonly ring: FrameRing;
  /** Kernel tid -> role, for the metrics and the summary. */
  readonly roles = new Map<number, string>([[native().gettid(), 'main']]);
  readonly threads: ThreadSummary[] = [];
  private readonly control = new Int32Array(new SharedArrayBuffer(Control.Count * 4));
  private readonly fifo?: IngestFifo;
  private audio?: AudioThread;
  /** What ingest told the audio side before it was ready (ingest starts alongside it), replayed once it is. */
  private readonly early: Array<(a: AudioThread) => void> = [];
  private fatal?: EarshotError;
  private stopRequested = false;
  private ingest?: IngestSupervisor;
  private readonly gaps: GapDetector;
  private firstFrame?: number;

  /** The shared memory and the ingest pipe; nothing runs yet. */
  constructor(private readonly o: PipelineOptions) {
    this.ring = FrameRing.create({ slots: RING_SLOTS, channels: o.channels });
    this.gaps = new GapDetector(o.onEvent);
    if (o.input.kind !== 'stdin') this.fifo = IngestFifo.create();
  }

  /** Starts the audio thread (prioritised, then waiting on the pipe). Throws when --rt-strict priority is refused. */
  async startAudio(): Promise<void> {
    const o = this.o;
    const stall = o.test?.stallWorker;
    const init: WorkerInit = {
      control: this.control.buffer as SharedArrayBuffer,
      ring: this.ring.buffer,
      ringShape: { slots: this.ring.slots, channels: o.channels },
      stats: this.stats.buffer,
      loop: { ...o.loop, channels: o.channels, paced: o.input.paced },
      sched: o.sched,
      strict: o.strict,
      inputPath: this.fifo?.path ?? '-',
      maxFrames: o.durationMs ? Math.round(o.durationMs / FRAME_MS) : 0,
      ...(stall && { testStall: { atFrame: Math.floor(stall.atMs / FRAME_MS), ms: stall.ms } }),
    };
    const audio = await startAudioThread(init, o.realtimeThread);
    this.audio = audio;
    o.startup?.mark('workerReady');
    for (const f of this.early.splice(0)) f(audio);
    if (this.stopRequested || this.fatal) audio.stop(); // ingest failed, or the meeting stopped, while it started
    if (audio.thread) {
      this.roles.set(audio.thread.tid, 'audio');
      this.threads.push(threadSummary('audio', audio.thread));
    } else this.roles.set(native().gettid(), 'main+audio');
  }

  /** Priority requests the kernel refused (one line each). */
  get refused(): string[] {
    return this.audio?.refused ?? [];
  }

  /** What ingest's ffmpeg last said when it failed, if it did. */
  get lastIngestFailure(): string | undefined {
    return this.ingest?.lastFailure;
  }

  get ingestRestarts(): number {
    return this.ingest?.restarts ?? 0;
  }

  /** Monotonic ns at which the first frame's first sample arrived (the timeline's origin), once known. */
  get originNs(): number | undefined {
    return this.firstFrame;
  }

  /**
   * Spawns ingest's ffmpeg. It may run alongside startAudio(): ffmpeg's own start (~100 ms) then
   * overlaps the worker's, and what it writes first waits in the pipe, which the worker drains.
   */
  async startIngest(): Promise<void> {
    const { input, channels } = this.o;
    if (input.kind === 'stdin') return;
    const stats = this.stats;
    this.ingest = new IngestSupervisor(input, this.fifo!.path, channels, ffmpegPath(), this.o.ingestLog, {
      // Paced: where the timeline is now. Unpaced: how far into the source we have read (s16le bytes).
      position: () => (input.paced ? frameTime(stats.get(Stat.Frames)) : stats.get(Stat.InputBytes) / (SAMPLE_RATE * 2 * channels)),
      onRestart: ({ attempt, reason, delayMs }) =>
        this.o.onEvent({ t: frameTime(stats.get(Stat.Frames)), kind: 'ingest_restart', durationMs: 0, frames: 0, detail: { attempt, reason, delayMs } }),
      onStart: (pid) => {
        this.o.startup?.mark('ingestSpawned');
        this.toAudio((a) => a.ingestStarted(pid));
      },
      onEnd: () => this.toAudio((a) => a.inputEnded()),
      onFatal: (err) => this.fail(err),
    });
    if (!this.stopRequested && !this.fatal) this.ingest.start();
  }

  private toAudio(f: (a: AudioThread) => void): void {
    if (this.audio) f(this.audio);
    else this.early.push(f);
  }

  /** Ends the meeting on a fatal error (the source failed for good, or never delivered). */
  fail(err: EarshotError): void {
    if (this.fatal || this.stopRequested) return;
    this.fatal = err;
    this.o.onFatal(err);
    this.ingest?.stop();
    this.audio?.stop();
  }

  /** Asks the audio side to finish now: ingest SIGTERM (SIGKILL after a grace), the worker stops at its next wake-up. */
  stop(): void {
    if (this.stopRequested) return;
    this.stopRequested = true;
    this.ingest?.stop();
    this.audio?.stop();
  }

  /**
   * Drains the ring into `fanout` until the audio side is done, then flushes the
   * open gap runs. Resolves with how the audio side ended. The main thread wakes
   * once per `drainFrames` frames (default 1): every wake costs both threads a
   * syscall and a context switch, so a meeting batches as much as its sinks
   * allow (a partner's chunk); events and the recorder lag by at most a batch.
   */
  async run(fanout: (frame: Frame) => void, drainFrames = 1): Promise<AudioEnd> {
    const audio = this.audio!;
    const frame = {} as Frame;
    let finished = false;
    void audio.done.then(() => {
      finished = true;
      this.ingest?.stop();
      this.ring.wake();
    });
    const stall = this.o.test?.stallMain && { atFrame: Math.floor(this.o.test.stallMain.atMs / FRAME_MS), ms: this.o.test.stallMain.ms, done: false };
    const drain = () => {
      while (this.ring.peek(frame)) {
        if (frame.seq === 0) {
          this.firstFrame = frame.captureNs - FRAME_MS * 1e6;
          this.o.startup?.markMonotonic('firstAudio', frame.captureNs);
          this.o.onFirstFrame?.();
        }
        this.gaps.frame(frame);
        fanout(frame);
        if (frame.seq === 0) this.o.startup?.mark('firstFrame');
        this.ring.release();
        if (stall && !stall.done && frame.seq >= stall.atFrame) {
          stall.done = true;
          const end = Date.now() + stall.ms;
          while (Date.now() < end);
        }
      }
    };
    // A pending Atomics.waitAsync does not keep the event loop alive: this timer does, and drains a partial batch.
    let drainError: unknown;
    const keepAlive = setInterval(() => {
      try {
        drain();
      } catch (err) {
        drainError ??= err; // thrown from the loop below, as a drain there would
        this.ring.wake();
      }
    }, DRAIN_AT_LEAST_MS);
    const batch = Math.max(1, Math.round(drainFrames));
    try {
      while (!finished) {
        // The first frame is drained alone (it marks the meeting's audio as flowing and starts the
        // recording); batches follow, still aligned to multiples of the batch.
        await this.ring.waitForFrames(this.firstFrame === undefined ? 1 : batch);
        if (drainError) throw drainError;
        drain();
      }
    } finally {
      clearInterval(keepAlive);
    }
    drain();
    this.gaps.flush();
    this.fatal ??= audio.failure();
    if (this.fatal) return 'failed';
    if (this.stopRequested) return 'stopped';
    return this.o.durationMs && this.stats.get(Stat.Frames) >= Math.round(this.o.durationMs / FRAME_MS) ? 'duration' : 'input_ended';
  }

  failure(): EarshotError | undefined {
    return this.fatal;
  }

  /** True once the audio side has framed any input. */
  ready(): boolean {
    return this.stats.get(Stat.Frames) > 0;
  }

  /** False once real input has stopped arriving for the stall window (or ingest is down). */
  flowing(): boolean {
    const last = this.stats.get(Stat.LastInputFrameNs);
    const fresh = last > 0 && (Number(process.hrtime.bigint()) - last) / 1e6 < STALL_MS;
    return fresh && (!this.ingest || this.ingest.running);
  }

  /** After run(): frees the pipe. Ingest may still be exiting (SIGKILL after the grace). */
  close(): void {
    this.fifo?.remove();
  }

  /** Resolves once ingest's ffmpeg has exited (bounded by the kill grace). */
  ingestGone(): Promise<void> {
    return this.ingest?.gone ?? Promise.resolve();
  }
}
