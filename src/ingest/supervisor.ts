/**
 * Runs ffmpeg (spawned directly: one process per start, no capability probes) from a source spec into the ingest FIFO
 * as s16le 48 kHz in 20 ms packets, and keeps it running: if it dies
 * mid-meeting it is restarted with backoff (a seekable source resumes at the
 * current timeline position, so the missing time is a marked gap rather than
 * shifted audio). Repeated quick failures end the run with a clear error.
 * Stopping is bounded: SIGTERM, then SIGKILL after a grace period (an ffmpeg
 * stuck in open(2) or on a dead network ignores SIGTERM). Everything ffmpeg
 * says passes through the input's redaction before it is logged or reported.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Logger } from 'pino';
import { EarshotError } from '../errors';
import { Secrets, scrubString } from '../logging/redact';
import type { FfmpegBinary } from './ffmpeg-path';
import { inputArgs, type SourceSpec } from './spec';

/** A run shorter than this counts as a quick failure. */
const QUICK_MS = 5000;
/** This many quick failures in a row end the meeting. */
const MAX_QUICK_FAILURES = 5;
const BACKOFF_BASE_MS = 250;
const BACKOFF_MAX_MS = 4000;
/** How long ffmpeg has to exit after SIGTERM before it gets SIGKILL. */
export const KILL_GRACE_MS = 2000;
/** What we keep of ffmpeg's stderr (at -loglevel error): enough for its last line. */
const STDERR_TAIL_BYTES = 4096;

export interface IngestHooks {
  /** Where a restarted seekable source should resume (seconds into the source). */
  position(): number;
  onRestart(info: { attempt: number; reason: string; delayMs: number }): void;
  /** An ffmpeg process started writing the pipe. */
  onStart?(pid: number): void;
  /** The source ended normally (end of file or stream). */
  onEnd(): void;
  onFatal(err: EarshotError): void;
}

export class IngestSupervisor {
  private child: ChildProcess | undefined;
  private stopping = false;
  private quickFailures = 0;
  private startedAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly secrets = new Secrets();
  private exitedAll!: () => void;
  /** Resolves once no ffmpeg of ours is running any more (after stop()). */
  readonly gone = new Promise<void>((resolve) => (this.exitedAll = resolve));
  restarts = 0;
  running = false;
  /** What ffmpeg last said when it failed (redacted), for the meeting's error line. */
  lastFailure?: string;

  constructor(
    private readonly spec: SourceSpec,
    private readonly fifo: string,
    private readonly channels: number,
    private readonly bin: FfmpegBinary,
    private readonly log: Logger,
    private readonly hooks: IngestHooks,
  ) {
    for (const s of spec.secrets) this.secrets.add(s);
  }

  start(offsetSec = 0): void {
    const { input, options, stdin } = inputArgs(this.spec, this.channels, offsetSec);
    const args = [
      ...['-hide_banner', '-nostdin', '-loglevel', 'error'],
      ...options,
      ...['-i', input, '-vn', '-ac', String(this.channels), '-ar', '48000', '-af', filterChain(this.spec, this.channels)],
      // Hand each 20 ms packet to the pipe at once.
      ...['-c:a', 'pcm_s16le', '-f', 's16le', '-flush_packets', '1', '-y', this.fifo],
    ];
    this.startedAt = Date.now();
    const child = spawn(this.bin.path, args, { stdio: [stdin === undefined ? 'ignore' : 'pipe', 'ignore', 'pipe'] });
    this.child = child;
    let stderr = '';
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (d: string) => (stderr = (stderr + d).slice(-STDERR_TAIL_BYTES)));
    if (stdin !== undefined) {
      child.stdin!.on('error', () => {}); // ffmpeg gone before reading it: its exit says why
      child.stdin!.end(stdin);
    }
    let spawnError: Error | undefined;
    child.on('error', (err) => (spawnError = err)); // could not start (ENOENT, EACCES); 'close' follows
    child.on('close', (code, signal) => {
      if (this.child === child) this.child = undefined;
      if (code === 0) return this.exited(undefined);
      const why = spawnError?.message ?? (signal ? `ffmpeg was killed with signal ${signal}` : `ffmpeg exited with code ${code}`);
      this.exited(this.scrub(lastLine(stderr) || why));
    });
    if (child.pid === undefined) return; // spawn failed: 'close' reports it
    this.running = true;
    this.log.info({ ffmpeg: this.bin.origin, offsetSec }, 'ingest started');
    if (this.log.isLevelEnabled('debug')) this.log.debug({ cmd: this.scrub([this.bin.path, ...args].join(' ')) }, 'ffmpeg command');
    this.hooks.onStart?.(child.pid);
  }

  private scrub(text: string): string {
    return scrubString(text, this.secrets);
  }

  private exited(failure: string | undefined): void {
    this.running = false;
    if (this.stopping) return this.exitedAll();
    if (failure === undefined) {
      this.log.info('ingest source ended');
      this.hooks.onEnd();
      return;
    }
    this.lastFailure = failure;
    const quick = Date.now() - this.startedAt < QUICK_MS;
    this.quickFailures = quick ? this.quickFailures + 1 : 1;
    if (this.quickFailures >= MAX_QUICK_FAILURES) {
      this.hooks.onFatal(
        new EarshotError(`ingest failed ${this.quickFailures} times in a row (last: ${failure}) - check --input and that ffmpeg can read it`, {
          code: 'ERR_INGEST',
          retryable: true,
        }),
      );
      return;
    }
    const delayMs = Math.min(BACKOFF_BASE_MS * 2 ** (this.quickFailures - 1), BACKOFF_MAX_MS);
    this.restarts++;
    this.hooks.onRestart({ attempt: this.restarts, reason: failure, delayMs });
    this.timer = setTimeout(() => {
      if (!this.stopping) this.start(this.hooks.position());
    }, delayMs);
  }

  /** The ffmpeg process id, for tests and diagnostics. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** SIGTERM now, SIGKILL if ffmpeg is still there after `graceMs`; `gone` resolves when it is. */
  stop(graceMs = KILL_GRACE_MS): void {
    if (this.stopping) return;
    this.stopping = true;
    clearTimeout(this.timer);
    const child = this.child;
    if (!child) return this.exitedAll();
    child.kill('SIGTERM');
    const killer = setTimeout(() => {
      if (this.child !== child) return;
      this.log.warn({ pid: child.pid, graceMs }, 'ffmpeg ignored SIGTERM: killing it');
      child.kill('SIGKILL');
    }, graceMs);
    killer.unref();
    void this.gone.then(() => clearTimeout(killer));
  }
}

/**
 * Resample first, so that frames are cut at 48 kHz: 960-sample packets are
 * 20 ms. Paced sources are then released one packet at a time by arealtime
 * (-re paces whole demuxer packets, which arrive in bursts of 100+ ms).
 */
function filterChain(spec: SourceSpec, channels: number): string {
  const layout = channels === 2 ? 'stereo' : 'mono';
  const chain = [`aresample=48000`, `aformat=sample_fmts=s16:channel_layouts=${layout}`, 'asetnsamples=n=960:p=0'];
  if (spec.paced && (spec.kind === 'file' || spec.kind === 'lavfi')) chain.push('arealtime');
  return chain.join(',');
}

function lastLine(text: string | null | undefined): string {
  return (text ?? '').trim().split('\n').pop()?.trim() ?? '';
}
