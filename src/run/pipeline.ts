/**
 * `earshot run`'s control plane (main thread): starts the audio worker and
 * ingest, drains the ring into the sinks, turns frame flags into events, and
 * stops everything in order - ingest, worker, ring drained, files finalised,
 * summary written. Nothing here can make the audio worker wait.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { IngestFifo } from '../ingest/fifo';
import { IngestSupervisor } from '../ingest/supervisor';
import type { SourceSpec } from '../ingest/spec';
import { moduleLogger, type Logging } from '../logging';
import { native } from '../native';
import { readThread } from '../ops/proc';
import type { AudioLoopOptions } from '../realtime/audio-loop';
import { FRAME_MS, frameTime, SAMPLE_RATE, type Frame } from '../realtime/frame';
import { Control, type WorkerInit } from '../realtime/protocol';
import { FrameRing } from '../realtime/ring';
import type { SchedRequest } from '../realtime/sched';
import { Stat, RtStats } from '../realtime/stats';
import type { FrameSink } from '../sinks/sink';
import { UserError } from '../util/duration';
import type { PartnerStatus, RunContext } from './context';
import { startAudioThread, type AudioThread } from './audio-thread';
import type { MeetingEvents } from './events';
import { GapDetector } from './gaps';
import { buildSummary, threadSummary, type RunSummary, type ThreadSummary } from './summary';

/** 10.24 s of frames: the main thread may stall this long before the worker drops any. */
const RING_SLOTS = 512;
/** /healthz turns unhealthy when no real input has been framed for this long (concealment does not count). */
const STALL_MS = 1000;

export interface RunOptions {
  input: SourceSpec;
  channels: number;
  loop: Omit<AudioLoopOptions, 'channels' | 'paced'>;
  sched: SchedRequest;
  strict: boolean;
  realtimeThread: 'worker' | 'main';
  durationMs?: number;
  logging: Logging;
  /** Sinks made by the caller (recorder, partners...), fed every frame. */
  sinks: FrameSink[];
  /** Where every event goes; the caller's own sinks may report into it too (partner gaps, disk overruns). */
  events: MeetingEvents;
  /** Extra control-plane services (metrics, heartbeat), started once the context exists. */
  services?: (ctx: RunContext) => Promise<Array<() => Promise<void> | void>>;
  partnerStatus?: () => PartnerStatus[];
  /** Writes summary.json here when set. */
  recordDir?: string;
  recordingStats?: () => { files: string[]; framesDropped: number };
}

export async function runMeeting(o: RunOptions): Promise<{ summary: RunSummary; exitCode: number; error?: UserError }> {
  const log = o.logging.logger;
  const stats = RtStats.create();
  const ring = FrameRing.create({ slots: RING_SLOTS, channels: o.channels });
  const control = new Int32Array(new SharedArrayBuffer(Control.Count * 4));
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();

  const fifo = o.input.kind === 'stdin' ? undefined : IngestFifo.create();
  const inputPath = fifo?.path ?? '-';

  const init: WorkerInit = {
    control: control.buffer as SharedArrayBuffer,
    ring: ring.buffer,
    ringShape: { slots: ring.slots, channels: o.channels },
    stats: stats.buffer,
    loop: { ...o.loop, channels: o.channels, paced: o.input.paced },
    sched: o.sched,
    strict: o.strict,
    inputPath,
    maxFrames: o.durationMs ? Math.round(o.durationMs / FRAME_MS) : 0,
  };

  const roles = new Map<number, string>([[native().gettid(), 'main']]);
  const threads: ThreadSummary[] = [];
  let fatal: UserError | undefined;
  let stopRequested = false;

  o.events.recordTo(o.sinks);
  const gaps = new GapDetector(o.events.report);

  // ---- the audio thread ----
  let audio: AudioThread;
  try {
    audio = await startAudioThread(init, o.realtimeThread);
  } catch (err) {
    fifo?.remove();
    throw err;
  }
  if (audio.thread) {
    roles.set(audio.thread.tid, 'audio');
    threads.push(threadSummary('audio', audio.thread));
    log.info({ thread: threadSummary('audio', audio.thread) }, 'audio worker ready');
  } else roles.set(native().gettid(), 'main+audio');
  for (const r of audio.refused) log.warn(`priority refused, running without it: ${r}`);

  // ---- ingest ----
  const ingest =
    o.input.kind === 'stdin'
      ? undefined
      : new IngestSupervisor(o.input, inputPath, o.channels, moduleLogger(o.logging, 'ingest'), {
          // Paced: where the timeline is now. Unpaced: how far into the source we have read (s16le bytes).
          position: () => (o.input.paced ? frameTime(stats.get(Stat.Frames)) : stats.get(Stat.InputBytes) / (SAMPLE_RATE * 2 * o.channels)),
          onRestart: ({ attempt, reason, delayMs }) =>
            o.events.report({ t: frameTime(stats.get(Stat.Frames)), kind: 'ingest_restart', durationMs: 0, frames: 0, detail: { attempt, reason, delayMs } }),
          onStart: (pid) => audio.ingestStarted(pid),
          onEnd: () => audio.inputEnded(),
          onFatal: (err) => {
            fatal = err;
            log.error(err.message);
            audio.stop();
          },
        });
  ingest?.start();

  // ---- control-plane context and services ----
  const ctx: RunContext = {
    startedAt: Date.now(),
    stats,
    ringSlots: ring.slots,
    ringFill: () => ring.fill(),
    threadRoles: () => roles,
    partners: () => o.partnerStatus?.() ?? [],
    log: () => o.logging.stats(),
    eventLoopDelay: loopDelay,
    eventCounts: () => o.events.counts,
    ready: () => stats.get(Stat.Frames) > 0,
    healthy: () => {
      const last = stats.get(Stat.LastInputFrameNs);
      return last > 0 && (Number(process.hrtime.bigint()) - last) / 1e6 < STALL_MS && (!ingest || ingest.running || o.input.kind === 'stdin');
    },
  };
  const stopServices = (await o.services?.(ctx)) ?? [];

  const stop = (signal: string) => {
    if (stopRequested) return;
    stopRequested = true;
    log.info(`${signal}: stopping`);
    ingest?.stop();
    audio.stop();
  };
  const onSigint = () => stop('SIGINT');
  const onSigterm = () => stop('SIGTERM');
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigterm);
  const stallMain = testStallMain();

  // ---- fan-out: drain the ring into the sinks until the audio side is done ----
  const frame = {} as Frame;
  let audioFinished = false;
  void audio.done.then(() => {
    audioFinished = true;
    ingest?.stop();
  });
  const drain = () => {
    while (ring.peek(frame)) {
      gaps.frame(frame);
      for (const sink of o.sinks) {
        try {
          sink.write(frame);
        } catch (err) {
          log.error({ err, sink: sink.name }, 'sink failed on a frame');
        }
      }
      ring.release();
      if (stallMain && !stallMain.done && frame.seq >= stallMain.atFrame) {
        stallMain.done = true;
        const end = Date.now() + stallMain.ms;
        while (Date.now() < end);
      }
    }
  };
  while (!audioFinished) {
    await ring.waitForData(50);
    drain();
  }
  drain();
  gaps.flush();

  // ---- finalise ----
  process.off('SIGINT', onSigint);
  process.off('SIGTERM', onSigterm);
  for (const s of stopServices) await s();
  // Sinks that record events close last, so events raised while the others close (a partner's gap) are kept.
  await closeSinks(o.sinks.filter((s) => !s.event), log);
  await closeSinks(o.sinks.filter((s) => s.event), log);
  fifo?.remove();
  loopDelay.disable();
  threads.push(threadSummary(roles.get(native().gettid()) ?? 'main', readThread(native().gettid())));
  const summary = buildSummary({
    stats,
    threads,
    refused: audio.refused,
    ingestRestarts: ingest?.restarts ?? 0,
    eventLoopDelayMaxMs: loopDelay.max / 1e6,
    partners: o.partnerStatus?.() ?? [],
    log: o.logging.stats(),
    recording: o.recordDir && o.recordingStats ? { dir: o.recordDir, ...o.recordingStats() } : undefined,
  });
  if (o.recordDir) writeFileSync(join(o.recordDir, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
  fatal ??= audio.failure();
  if (fatal) log.error(fatal.message);
  return { summary, exitCode: fatal ? 1 : 0, ...(fatal && { error: fatal }) };
}

async function closeSinks(sinks: FrameSink[], log: Logging['logger']): Promise<void> {
  const results = await Promise.allSettled(sinks.map((s) => s.close()));
  results.forEach((r, i) => r.status === 'rejected' && log.error({ err: r.reason, sink: sinks[i]!.name }, 'sink failed to close'));
}

/** Test hook: EARSHOT_TEST_STALL_MAIN_MS=AT_MS:DUR_MS busy-loops the main thread once, at timeline AT ms. */
function testStallMain(): { atFrame: number; ms: number; done: boolean } | undefined {
  const m = /^(\d+):(\d+)$/.exec(process.env.EARSHOT_TEST_STALL_MAIN_MS ?? '');
  return m ? { atFrame: Math.floor(Number(m[1]) / FRAME_MS), ms: Number(m[2]), done: false } : undefined;
}
