/**
 * Runs ffmpeg (through fluent-ffmpeg) from a source spec into the ingest FIFO
 * as s16le 48 kHz in 20 ms packets, and keeps it running: if it dies
 * mid-meeting it is restarted with backoff (a seekable source resumes at the
 * current timeline position, so the missing time is a marked gap rather than
 * shifted audio). Repeated quick failures end the run with a clear error.
 */
import ffmpeg from 'fluent-ffmpeg';
import type { Logger } from 'pino';
import { UserError } from '../util/duration';
import { ffmpegPath } from './ffmpeg-path';
import { inputArgs, type SourceSpec } from './spec';

/** A run shorter than this counts as a quick failure. */
const QUICK_MS = 5000;
/** This many quick failures in a row end the meeting. */
const MAX_QUICK_FAILURES = 5;
const BACKOFF_BASE_MS = 250;
const BACKOFF_MAX_MS = 4000;

export interface IngestHooks {
  /** Where a restarted seekable source should resume (seconds into the source). */
  position(): number;
  onRestart(info: { attempt: number; reason: string; delayMs: number }): void;
  /** An ffmpeg process started writing the pipe. */
  onStart?(pid: number): void;
  /** The source ended normally (end of file or stream). */
  onEnd(): void;
  onFatal(err: UserError): void;
}

export class IngestSupervisor {
  private command: ffmpeg.FfmpegCommand | undefined;
  private stopping = false;
  private quickFailures = 0;
  private startedAt = 0;
  private timer: NodeJS.Timeout | undefined;
  restarts = 0;
  running = false;

  constructor(
    private readonly spec: SourceSpec,
    private readonly fifo: string,
    private readonly channels: number,
    private readonly log: Logger,
    private readonly hooks: IngestHooks,
  ) {}

  start(offsetSec = 0): void {
    const { input, options } = inputArgs(this.spec, this.channels, offsetSec);
    const bin = ffmpegPath();
    this.startedAt = Date.now();
    const cmd = ffmpeg()
      .setFfmpegPath(bin.path)
      .input(input)
      .inputOptions(options)
      .noVideo()
      .audioChannels(this.channels)
      .audioFrequency(48000)
      .audioCodec('pcm_s16le')
      .audioFilters(filterChain(this.spec, this.channels))
      .format('s16le')
      // Hand each 20 ms packet to the pipe at once; never read our stdin.
      .outputOptions(['-flush_packets', '1', '-nostdin', '-hide_banner', '-loglevel', 'error', '-y'])
      .output(this.fifo)
      .on('start', (line: string) => {
        this.running = true;
        this.log.info({ ffmpeg: bin.origin, offsetSec }, 'ingest started');
        this.log.debug({ cmd: line }, 'ffmpeg command');
        if (this.pid) this.hooks.onStart?.(this.pid);
      })
      .on('end', () => this.exited(undefined))
      .on('error', (err: Error, _out: string | null, stderr: string | null) => this.exited(lastLine(stderr) || err.message));
    this.command = cmd;
    cmd.run();
  }

  private exited(failure: string | undefined): void {
    this.running = false;
    this.command = undefined;
    if (this.stopping) return;
    if (failure === undefined) {
      this.log.info('ingest source ended');
      this.hooks.onEnd();
      return;
    }
    const quick = Date.now() - this.startedAt < QUICK_MS;
    this.quickFailures = quick ? this.quickFailures + 1 : 1;
    if (this.quickFailures >= MAX_QUICK_FAILURES) {
      this.hooks.onFatal(
        new UserError(`ingest failed ${this.quickFailures} times in a row (last: ${failure}) - check --input and that ffmpeg can read it`),
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
    return (this.command as unknown as { ffmpegProc?: { pid?: number } } | undefined)?.ffmpegProc?.pid;
  }

  stop(): void {
    this.stopping = true;
    clearTimeout(this.timer);
    this.command?.kill('SIGTERM');
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
