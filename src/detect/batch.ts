/**
 * Batch detection over files and folders: inputs are expanded (folders
 * recursively, audio extensions only), then analysed on a pool of worker
 * threads, one file per task, each streamed inside its worker. Results come
 * back in input order as soon as they are ready, so output streams even for
 * a whole archive; a bad file is one result with `error`, never the end of
 * the batch. A progress bar goes to stderr only when it is a terminal.
 */
import { readdir, realpath, stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { extname, join } from 'node:path';
import { StaticPool } from 'node-worker-threads-pool';
import type { FileResult, FileTask } from './file';
import { notRegularFile } from './bytes';
import { describeFsError } from './wav';

/** Extensions picked up when walking a folder (files named explicitly are always tried). */
export const AUDIO_EXTENSIONS = new Set([
  '.wav', '.wave', '.bwf', '.rf64', '.w64', '.flac', '.ogg', '.oga', '.opus', '.mp3', '.m4a', '.aac',
  '.aif', '.aiff', '.aifc', '.caf', '.mka', '.webm', '.wma', '.wv', '.ape',
]);

export interface InputFile {
  /** What to open: a local path, or a URL (manifest entries). */
  path: string;
  /** The name reported for it (default: path); for a URL, without its credentials. */
  name?: string;
  /** Bytes, 0 when unknown (manifest entries are not looked at before their turn). */
  size: number;
  /** Set when the path could not be used at all (missing, unreadable folder). */
  error?: string;
}

/** Expands paths into files: folders recursively in name order, symlink loops visited once. */
export async function collectInputs(paths: string[]): Promise<InputFile[]> {
  const out: InputFile[] = [];
  const seenDirs = new Set<string>();
  async function walk(dir: string): Promise<void> {
    const real = await realpath(dir);
    if (seenDirs.has(real)) return;
    seenDirs.add(real);
    const entries = await readdir(dir, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const p = join(dir, e.name);
      try {
        const st = await stat(p); // follows symlinks
        if (st.isDirectory()) await walk(p);
        else if (st.isFile() && AUDIO_EXTENSIONS.has(extname(e.name).toLowerCase())) out.push({ path: p, size: st.size });
      } catch (err) {
        if (AUDIO_EXTENSIONS.has(extname(e.name).toLowerCase())) out.push({ path: p, size: 0, error: describeFsError(err) });
      }
    }
  }
  for (const p of paths) {
    try {
      const st = await stat(p);
      const problem = st.isDirectory() ? undefined : notRegularFile(st);
      if (st.isDirectory()) await walk(p);
      else out.push(problem ? { path: p, size: 0, error: problem } : { path: p, size: st.size });
    } catch (err) {
      out.push({ path: p, size: 0, error: describeFsError(err) });
    }
  }
  return out;
}

export interface BatchOptions {
  jobs?: number;
  sensitivity?: number;
  /** Keep each file's waveform envelope (for --report). */
  envelope?: boolean;
  /** Called once per file, in input order. */
  onResult(result: FileResult, index: number): void;
  /** Where the progress bar (a TTY) or the heartbeat lines (anything else) go. Default process.stderr. */
  progressStream?: NodeJS.WriteStream;
  /** Seconds between heartbeat lines when the stream is not a terminal; 0 for none. */
  heartbeatSec?: number;
  /** Prefix of each heartbeat line (e.g. the shard). */
  label?: string;
}

export interface BatchSummary {
  files: number;
  failed: number;
  audioSec: number;
  wallSec: number;
  events: number;
  byKind: Record<string, number>;
}

export function defaultJobs(): number {
  return Math.max(1, availableParallelism());
}

/** Files started ahead of the oldest unfinished one, per job: keeps the in-order output's buffer bounded on a huge manifest. */
const AHEAD_PER_JOB = 4;

export async function runBatch(inputs: InputFile[], opts: BatchOptions): Promise<BatchSummary> {
  const t0 = performance.now();
  const summary: BatchSummary = { files: inputs.length, failed: 0, audioSec: 0, wallSec: 0, events: 0, byKind: {} };
  const jobs = Math.max(1, Math.min(opts.jobs ?? defaultJobs(), inputs.filter((f) => !f.error).length || 1));
  const results = new Map<number, FileResult>();
  let next = 0;
  const waiting: Array<() => void> = [];
  const emit = (): void => {
    while (results.has(next)) {
      const r = results.get(next)!;
      results.delete(next); // the caller keeps what it needs; memory stays per-file
      if (r.error) summary.failed++;
      summary.audioSec += r.durationSec ?? 0;
      summary.events += r.events.length;
      for (const e of r.events) summary.byKind[e.kind] = (summary.byKind[e.kind] ?? 0) + 1;
      opts.onResult(r, next);
      next++;
    }
    for (const w of waiting.splice(0)) w();
  };

  const progress = new ProgressBar(inputs, opts.progressStream ?? process.stderr, t0, opts.heartbeatSec ?? 0, opts.label ?? '', jobs);
  const pool = new StaticPool({ size: jobs, task: join(__dirname, 'worker.js') });
  let cursor = 0;
  const runner = async (): Promise<void> => {
    for (;;) {
      const i = cursor++;
      if (i >= inputs.length) return;
      while (i - next >= jobs * AHEAD_PER_JOB) await new Promise<void>((resolve) => waiting.push(resolve));
      const input = inputs[i]!;
      let result: FileResult;
      if (input.error) {
        result = { file: input.path, sampleRate: null, channels: null, durationSec: null, events: [], error: input.error, wallSec: 0 };
      } else {
        const slots = new SharedArrayBuffer(2 * Float64Array.BYTES_PER_ELEMENT);
        progress.track(i, slots);
        const task: FileTask = { path: input.path, name: input.name ?? input.path, sensitivity: opts.sensitivity, envelope: !!opts.envelope, progress: slots };
        try {
          result = (await pool.exec(task)) as FileResult;
        } catch (err) {
          // The worker itself died (out of memory, a native crash): the pool replaces it; this file is reported.
          result = { file: task.name, sampleRate: null, channels: null, durationSec: null, events: [], error: `worker failed: ${(err as Error)?.message ?? String(err)}`, wallSec: 0 };
        }
      }
      progress.done(i, result);
      results.set(i, result);
      emit();
    }
  };
  try {
    await Promise.all(Array.from({ length: jobs * 2 }, runner));
  } finally {
    progress.stop();
    await pool.destroy();
  }
  summary.wallSec = (performance.now() - t0) / 1000;
  return summary;
}

/** Files, audio hours, × real time and ETA on one self-rewriting stderr line. */
class ProgressBar {
  private readonly live = new Map<number, Float64Array>();
  private filesDone = 0;
  private audioDone = 0;
  private bytesDone = 0;
  private readonly totalBytes: number;
  private readonly timer: NodeJS.Timeout | undefined;
  private lastDone: number;

  constructor(
    private readonly inputs: InputFile[],
    private readonly stream: NodeJS.WriteStream,
    private readonly t0: number,
    heartbeatSec: number,
    private readonly label: string,
    private readonly jobs: number,
  ) {
    this.totalBytes = inputs.reduce((s, f) => s + f.size, 0);
    this.lastDone = t0;
    if (stream.isTTY) {
      this.timer = setInterval(() => this.draw(), 250);
      this.timer.unref();
    } else if (heartbeatSec > 0) {
      // Not a terminal (a pod's log): one whole line every heartbeatSec, so a stalled shard shows.
      this.timer = setInterval(() => this.stream.write(this.heartbeat() + '\n'), heartbeatSec * 1000);
      this.timer.unref();
    }
  }

  /** Files done, audio hours, queue left, in flight, speed, and how long since a file last finished. */
  heartbeat(): string {
    const now = performance.now();
    const audio = this.audioDone + [...this.live.values()].reduce((s, v) => s + v[0]!, 0);
    const elapsed = (now - this.t0) / 1000;
    return renderHeartbeat({
      label: this.label,
      filesDone: this.filesDone,
      files: this.inputs.length,
      inFlight: Math.min(this.live.size, this.jobs),
      audioSec: audio,
      elapsedSec: elapsed,
      sinceLastSec: (now - this.lastDone) / 1000,
    });
  }

  track(i: number, slots: SharedArrayBuffer): void {
    this.live.set(i, new Float64Array(slots));
  }

  done(i: number, r: FileResult): void {
    this.live.delete(i);
    this.lastDone = performance.now();
    this.filesDone++;
    this.audioDone += r.durationSec ?? 0;
    this.bytesDone += this.inputs[i]!.size;
  }

  draw(): void {
    let audio = this.audioDone;
    let bytes = this.bytesDone;
    for (const [i, s] of this.live) {
      audio += s[0]!;
      const frac = s[1]!;
      if (frac > 0) bytes += frac * this.inputs[i]!.size;
    }
    const line = renderProgress({
      filesDone: this.filesDone,
      files: this.inputs.length,
      audioSec: audio,
      elapsedSec: (performance.now() - this.t0) / 1000,
      fraction: this.totalBytes > 0 ? bytes / this.totalBytes : this.filesDone / Math.max(1, this.inputs.length),
      width: this.stream.columns || 80,
    });
    this.stream.write(`\r\x1b[2K${line}`);
  }

  stop(): void {
    if (!this.timer) return;
    clearInterval(this.timer);
    if (this.stream.isTTY) this.stream.write('\r\x1b[2K');
  }
}

export interface HeartbeatState {
  label: string;
  filesDone: number;
  files: number;
  inFlight: number;
  audioSec: number;
  elapsedSec: number;
  sinceLastSec: number;
}

/** One heartbeat line, e.g. `earshot detect [shard 1/4] heartbeat: 120/500 files, 3.21 h audio, 378 queued, 2 in progress, 410x real time, last file 2 s ago`. */
export function renderHeartbeat(s: HeartbeatState): string {
  const speed = s.elapsedSec > 0 ? s.audioSec / s.elapsedSec : 0;
  const queued = Math.max(0, s.files - s.filesDone - s.inFlight);
  return `earshot detect${s.label ? ` [${s.label}]` : ''} heartbeat: ${s.filesDone}/${s.files} files, ` +
    `${(s.audioSec / 3600).toFixed(2)} h audio, ${queued} queued, ${s.inFlight} in progress, ` +
    `${Math.round(speed)}x real time, last file ${Math.round(s.sinceLastSec)} s ago`;
}

export interface ProgressState {
  filesDone: number;
  files: number;
  audioSec: number;
  elapsedSec: number;
  /** 0..1 of the whole batch (by bytes). */
  fraction: number;
  width: number;
}

export function renderProgress(s: ProgressState): string {
  const pct = Math.max(0, Math.min(1, s.fraction));
  const speed = s.elapsedSec > 0 ? s.audioSec / s.elapsedSec : 0;
  const eta = pct > 0.001 ? (s.elapsedSec * (1 - pct)) / pct : NaN;
  const text =
    ` ${String(Math.round(pct * 100)).padStart(3)}%  ${s.filesDone}/${s.files} files  ` +
    `${(s.audioSec / 3600).toFixed(2)} h audio  ${Math.round(speed)}x real time  ETA ${formatClock(eta)}`;
  const barWidth = Math.max(0, Math.min(40, s.width - text.length - 3));
  const filled = Math.round(pct * barWidth);
  const bar = barWidth > 0 ? `[${'#'.repeat(filled)}${'.'.repeat(barWidth - filled)}]` : '';
  return (bar + text).slice(0, Math.max(0, s.width - 1));
}

export function formatClock(sec: number): string {
  if (!Number.isFinite(sec)) return '--:--';
  const t = Math.round(sec);
  const h = Math.floor(t / 3600);
  const m = Math.floor((t % 3600) / 60);
  const ss = String(t % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}
