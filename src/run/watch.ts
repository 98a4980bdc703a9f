/**
 * What a running meeting watches besides its audio: a source that never delivers (an error after
 * the first-audio timeout, not a meeting that never ends), a disk that fails, a best-effort
 * component that fails (a sink, the metrics server, a partner). Each becomes one event, one log
 * line (through the events) and a health problem; the health is re-read twice a second.
 */
import { basename } from 'node:path';
import { EarshotError } from '../errors';
import type { PartnerSink } from '../partners';
import type { DiskError } from '../sinks/recorder';
import type { MeetingEvents } from './events';
import type { FanOut } from './fanout';
import type { HealthMonitor } from './health';

const HEALTH_CHECK_MS = 500;

export interface WatchDeps {
  events: MeetingEvents;
  health: HealthMonitor;
  /** The audio side: whether it has framed any input, and how to end it on a fatal error. */
  audio: { ready(): boolean; fail(err: EarshotError): void; readonly lastIngestFailure?: string };
  /** The input as it may be shown (credentials masked). */
  input: string;
  fanout(): FanOut | undefined;
  partners(): PartnerSink[];
  /** Seconds on the meeting timeline now. */
  now(): number;
}

export class MeetingWatch {
  /** The first disk error, as the summary and the final line say it. */
  diskError?: string;
  private readonly timers: NodeJS.Timeout[] = [];

  constructor(private readonly d: WatchDeps) {}

  start(): void {
    this.timers.push(setInterval(() => this.check(), HEALTH_CHECK_MS));
  }

  stop(): void {
    for (const t of this.timers) clearInterval(t);
  }

  /** After `ms` without any input framed, the meeting fails with the cause (and what ffmpeg last said). */
  firstAudio(ms: number): void {
    const timer = setTimeout(() => {
      if (this.d.audio.ready()) return;
      const last = this.d.audio.lastIngestFailure;
      const message = `no audio from ${this.d.input} within ${Math.round(ms / 100) / 10} s${last ? ` (ffmpeg: ${last})` : ''} - check that the source is reachable and sends audio`;
      this.d.audio.fail(new EarshotError(message, { code: 'ERR_INGEST', retryable: true }));
    }, ms);
    timer.unref();
    this.timers.push(timer);
  }

  disk(e: DiskError): void {
    const why = e.code === 'ENOSPC' ? 'no space left on device' : e.message;
    const t = this.d.now();
    const file = basename(e.file);
    this.diskError ??= `${why} (${e.code}) writing ${file} at ${t.toFixed(2)} s`;
    if (!this.d.health.current().problems.some((p) => p.startsWith('recorder:'))) this.d.health.set('recorder', `${why} (${e.code}) writing ${file}`);
    this.d.events.report({ t, kind: 'disk_error', durationMs: 0, frames: 0, detail: { file, code: e.code, error: why } });
  }

  component(component: string, message: string): void {
    this.d.health.set(component, message);
    this.d.events.report({ t: this.d.now(), kind: 'component_error', durationMs: 0, frames: 0, detail: { component, error: message } });
  }

  private check(): void {
    for (const [sink, why] of this.d.fanout()?.failed ?? []) this.d.health.set(sink, why);
    for (const p of this.d.partners()) {
      const err = p.error();
      if (err) this.d.health.set(`partner ${p.name}`, err);
    }
    this.d.health.check();
  }
}
