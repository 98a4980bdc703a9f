/**
 * A real-time source emulator: plays PCM into a pipe the way a capture device
 * fills its ring buffer. Every 20 ms period on a monotonic clock it writes one
 * period into a non-blocking FIFO sized like a device buffer (F_SETPIPE_SZ);
 * when the consumer has not read in time the write fails with EAGAIN and the
 * period is lost, as in a device overrun. The lost spans, in samples and on
 * the meeting timeline, are the ground truth for pops.
 *
 * It runs as its own process at SCHED_FIFO (a DMA engine does not wait for the
 * scheduler), so a stalled consumer cannot slow it down.
 *
 *   node source.js --pcm FILE --fifo PATH --duration-ms N --buffer-ms 40 --report FILE
 */
import { execFile } from 'node:child_process';
import { closeSync, constants, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ffmpegPath } from '../ingest/ffmpeg-path';
import { native } from '../native';
import { UserError } from '../util/duration';
import { wavHeader } from '../sinks/wav';

export const SAMPLE_RATE = 48_000;
export const PERIOD_SAMPLES = 960; // 20 ms
export const PERIOD_BYTES = PERIOD_SAMPLES * 2; // s16le mono

export interface DropSpan {
  /** First lost sample, counted from the first sample of the stream (the meeting timeline). */
  startSample: number;
  samples: number;
  /** Seconds on the meeting timeline: startSample / 48000. */
  t: number;
  durationMs: number;
}

export interface SourceReport {
  sampleRate: number;
  periodMs: number;
  /** The pipe's real capacity in bytes after F_SETPIPE_SZ. */
  bufferBytes: number;
  /** Periods already in the buffer when the clock started (the consumer's first read). */
  prerollPeriods: number;
  periods: number;
  deliveredPeriods: number;
  droppedPeriods: number;
  droppedMs: number;
  drops: DropSpan[];
  /** The emulator's own wake-up lateness (ms): how well it kept the device's clock. */
  wakeLatenessMaxMs: number;
  scheduling: string;
  /** Monotonic ns at which the clock started (period `prerollPeriods` was due). */
  startNs: number;
  /** Times the consumer enlarged the pipe and the emulator set the device size back. */
  consumerResizesUndone: number;
}

/** Decodes any audio file to 48 kHz s16le mono with ffmpeg, looped or cut to `durationMs`. */
export function decodeToPcm(file: string, durationMs: number): Promise<Buffer> {
  const seconds = (durationMs / 1000).toFixed(3);
  return new Promise((resolve, reject) => {
    execFile(
      ffmpegPath().path,
      ['-hide_banner', '-loglevel', 'error', '-nostdin', '-stream_loop', '-1', '-i', file, '-t', seconds, '-ac', '1', '-ar', String(SAMPLE_RATE), '-f', 's16le', '-'],
      { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err) {
          const why = stderr.toString().trim().split('\n').pop() || err.message;
          reject(new UserError(`--sample ${file} cannot be decoded (${why}) - give a WAV or any audio ffmpeg reads`));
        } else resolve(stdout);
      },
    );
  });
}

/** A WAV file around 48 kHz s16le mono PCM (for `earshot detect` on the clean input). */
export function wavOf(pcm: Buffer): Buffer {
  return Buffer.concat([wavHeader(1, pcm.length), pcm]);
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));
const nowNs = () => Number(process.hrtime.bigint());
function sleepUntil(ns: number): void {
  const ms = (ns - nowNs()) / 1e6;
  if (ms > 0) Atomics.wait(sleeper, 0, 0, ms);
}

/** Writes one period; false when the device buffer is full (EAGAIN). */
function tryWrite(fd: number, pcm: Buffer, period: number): boolean {
  const chunk = pcm.subarray(period * PERIOD_BYTES, (period + 1) * PERIOD_BYTES);
  try {
    // <= PIPE_BUF bytes into a pipe: written whole or not at all.
    writeSync(fd, chunk);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EAGAIN') return false;
    throw err;
  }
}

function raisePriority(): string {
  try {
    native().setScheduler(1, 60);
    return 'fifo:60';
  } catch {
    try {
      native().setNice(-15);
      return 'nice -15';
    } catch {
      return 'other (could not raise priority: the source may itself be late under stress)';
    }
  }
}

export function playIntoFifo(opts: { pcm: Buffer; fifo: string; bufferMs: number; onReady?: () => void }): SourceReport {
  const scheduling = raisePriority();
  // O_RDWR: opening a FIFO this way never blocks and never fails for want of a
  // reader; O_NONBLOCK makes a full buffer an EAGAIN instead of a wait.
  const fd = openSync(opts.fifo, constants.O_RDWR | constants.O_NONBLOCK);
  const wanted = Math.max(PERIOD_BYTES, Math.round((opts.bufferMs / 20) * PERIOD_BYTES));
  let bufferBytes: number;
  try {
    bufferBytes = native().setPipeSize(fd, wanted);
  } catch {
    bufferBytes = native().getPipeSize(fd);
  }
  const periods = Math.floor(opts.pcm.length / PERIOD_BYTES);
  let next = 0;
  // Pre-roll: fill the buffer, then wait for the consumer's first read. The
  // device clock starts then, so the consumer's timeline and ours share sample 0.
  while (next < periods && tryWrite(fd, opts.pcm, next)) next++;
  opts.onReady?.();
  for (;;) {
    if (next >= periods || tryWrite(fd, opts.pcm, next)) break;
    Atomics.wait(sleeper, 0, 0, 1);
  }
  const startNs = nowNs();
  const prerollPeriods = ++next;
  // A device buffer has a fixed size; a consumer that enlarges the pipe
  // (earshot's pump asks for 1 MiB) would hide every overrun, so keep ours.
  let resizes = 0;
  const keepSize = () => {
    const n = native();
    if (n.getPipeSize(fd) === bufferBytes) return;
    try {
      n.setPipeSize(fd, bufferBytes);
      resizes++;
    } catch {
      /* EBUSY: more data queued than our size; try again next period */
    }
  };
  const drops: DropSpan[] = [];
  let dropped = 0;
  let wakeLatenessMaxMs = 0;
  const dueNs = (k: number) => startNs + (k - prerollPeriods + 1) * 20e6;
  while (next < periods) {
    sleepUntil(dueNs(next));
    keepSize();
    const late = (nowNs() - dueNs(next)) / 1e6;
    if (late > wakeLatenessMaxMs) wakeLatenessMaxMs = late;
    // Every period that is due by now (more than one if we woke late).
    for (const now = nowNs(); next < periods && dueNs(next) <= now; next++) {
      if (tryWrite(fd, opts.pcm, next)) continue;
      dropped++;
      const last = drops[drops.length - 1];
      if (last && last.startSample + last.samples === next * PERIOD_SAMPLES) {
        last.samples += PERIOD_SAMPLES;
        last.durationMs += 20;
      } else {
        drops.push({ startSample: next * PERIOD_SAMPLES, samples: PERIOD_SAMPLES, t: (next * PERIOD_SAMPLES) / SAMPLE_RATE, durationMs: 20 });
      }
    }
  }
  closeSync(fd);
  return {
    sampleRate: SAMPLE_RATE,
    periodMs: 20,
    bufferBytes,
    prerollPeriods,
    periods,
    deliveredPeriods: periods - dropped,
    droppedPeriods: dropped,
    droppedMs: dropped * 20,
    drops,
    wakeLatenessMaxMs: Math.round(wakeLatenessMaxMs * 100) / 100,
    scheduling,
    startNs,
    consumerResizesUndone: resizes,
  };
}

/** Child-process entry: `process.send('ready')` once the FIFO is open and primed. */
function childMain(): void {
  const { values } = parseArgs({
    options: {
      pcm: { type: 'string' },
      fifo: { type: 'string' },
      'buffer-ms': { type: 'string' },
      report: { type: 'string' },
    },
  });
  const pcm = readFileSync(values.pcm!);
  const report = playIntoFifo({
    pcm,
    fifo: values.fifo!,
    bufferMs: Number(values['buffer-ms'] ?? 40),
    onReady: () => process.send?.('ready'),
  });
  writeFileSync(values.report!, JSON.stringify(report, null, 1));
  process.disconnect?.();
}

if (require.main === module) childMain();
