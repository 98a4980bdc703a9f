/**
 * How a meeting ends, in the order that protects what matters: the partners are asked to finish
 * at once (they get the whole deadline), the recording is finalised meanwhile (Ogg end-of-stream,
 * WAV header) and a first summary.json written (`complete: false`) - within about a second of the
 * stop; then the partners get what is left of their deadline (`hurryUp()` ends it now), then
 * events.jsonl and transcripts.jsonl close and the final summary replaces the first. Every step
 * is bounded and none can throw: a disk that hangs costs its own step, not the meeting's end.
 */
import type { Logger } from 'pino';
import { KILL_GRACE_MS } from '../ingest/supervisor';
import type { Logging } from '../logging';
import type { Ops } from '../ops/services';
import type { PartnerSink } from '../partners';
import { MEETING_FILES } from '../sinks/record-dir';
import type { Recorder } from '../sinks/recorder';
import type { FrameSink } from '../sinks/sink';
import { writeSummaryFile } from '../sinks/summary-file';
import type { RunSummary } from './summary';

/** How long finalising the recording may take before we go on without it (a disk that hangs). */
const ESSENTIALS_MS = 5000;

export interface Finishing {
  log: Logger;
  logging: Logging;
  recorder?: Recorder;
  recordDir?: string;
  partners: PartnerSink[];
  partnerCloseMs: number;
  /** Sinks closed after the recording (bench frame times, the capture watchdog). */
  others: FrameSink[];
  ops?: Ops;
  /** The summary as things stand. */
  summary(complete: boolean): RunSummary;
  /** Resolves once ingest's ffmpeg is gone (bounded by its kill grace). */
  ingestGone(): Promise<void>;
  /** Frees the audio side (the pipe). */
  release(): void;
}

export class Finaliser {
  /** Set when summary.json could not be written. */
  summaryError?: string;
  private hurried = false;
  private hurry?: () => void;

  constructor(private readonly m: Finishing) {}

  /** Ends the partners' deadline now (a second signal, `stop({ now: true })`). */
  hurryUp(): void {
    this.hurried = true;
    this.hurry?.();
  }

  async finalise(): Promise<RunSummary> {
    const m = this.m;
    const partners = this.closePartners();
    await this.step('finalise the recording', m.recorder?.closeAudio(), ESSENTIALS_MS);
    if (m.partners.length && m.recordDir) await this.writeSummary(m.summary(false));
    await partners;
    await this.step('close events.jsonl', m.recorder?.close(), ESSENTIALS_MS);
    for (const s of m.others) await this.step(`close ${s.name}`, s.close(), ESSENTIALS_MS);
    const summary = m.summary(true);
    if (m.recordDir) await this.writeSummary(summary);
    m.log.info({ summary }, 'meeting ended');
    await this.step('stop ingest', m.ingestGone(), KILL_GRACE_MS + 500);
    m.release();
    await this.step('stop the metrics', m.ops?.close(), 2000);
    await m.logging.close();
    return summary;
  }

  /** Awaits `p` for at most `ms`; a failure or a timeout is logged, never thrown. */
  private async step(what: string, p: Promise<unknown> | undefined, ms: number): Promise<void> {
    if (!p) return;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), ms)));
    try {
      if ((await Promise.race([p, timeout])) === 'timeout') this.m.log.error(`${what}: still not done after ${ms} ms - going on without it`);
    } catch (err) {
      this.m.log.error({ err }, `${what} failed`);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Partners finish their stream under the deadline; hurryUp() or the deadline aborts the rest. */
  private async closePartners(): Promise<void> {
    const partners = this.m.partners;
    if (!partners.length) return;
    const all = Promise.allSettled(partners.map((p) => p.close()));
    if (!this.hurried) {
      let timer: NodeJS.Timeout | undefined;
      const cut = new Promise<void>((r) => {
        this.hurry = r;
        timer = setTimeout(r, this.m.partnerCloseMs);
      });
      await Promise.race([all, cut]);
      clearTimeout(timer);
    }
    for (const p of partners) p.abort();
  }

  /** A summary.json that cannot be written is said so in the summary itself (the CLI prints it on stderr). */
  private async writeSummary(summary: RunSummary): Promise<void> {
    const err = await writeSummaryFile(this.m.recordDir!, summary);
    if (!err) return void (this.summaryError = undefined);
    this.summaryError = `summary.json not written: ${err.code ?? err.message}`;
    this.m.log.error(this.summaryError);
    summary.recording!.error ??= this.summaryError;
    summary.recording!.files = summary.recording!.files.filter((f) => f !== MEETING_FILES.summary);
    summary.ok = false;
  }
}
