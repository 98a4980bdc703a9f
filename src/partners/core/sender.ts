/**
 * Chunks from the replay buffer onto the open connection, in order, never
 * blocking: it stops while the socket holds more than the high-water mark
 * (the partner reads too slowly) and, for real-time-only providers, while
 * the next chunk would run ahead of the connection's clock, and wakes itself
 * to go on. It counts what it sent and the capture -> send latency of each
 * chunk's first send.
 */
import { createHistogram } from 'node:perf_hooks';
import type { Logger } from 'pino';
import type { PartnerStatus } from '../status';
import type { Adapter } from '../types';
import type { Link } from './link';
import type { Tuning } from './policy';
import type { ReplayBuffer } from './replay';

export interface SenderDeps {
  adapter: Adapter;
  tune: Tuning;
  buf: ReplayBuffer;
  log: Logger;
  /** The connection skipped sent-axis positions [from, to): the buffer dropped them unsent. */
  onSkipped(from: number, to: number): void;
  onSend?(latencyMs: number, bytes: number): void;
  /** Called when a wait is over: the owner sends again if the connection still may. */
  resume(): void;
}

export class Sender {
  /** The next chunk to send (a replay-buffer id). */
  private nextId = 0;
  private timer?: NodeJS.Timeout;
  private samples = 0;
  private bytesSent = 0;
  /** Capture -> send of first sends, in µs. */
  private readonly latency = createHistogram();
  private readonly rate: number;

  constructor(private readonly d: SenderDeps) {
    this.rate = d.adapter.codec.sampleRate;
  }

  /** Sends what `link` takes now; true once everything buffered is sent, false while waiting. */
  sendAll(link: Link): boolean {
    const { buf, adapter, tune } = this.d;
    if (this.nextId < buf.firstId()) this.nextId = buf.firstId();
    while (this.nextId < buf.nextId) {
      if (link.bufferedAmount > tune.highWaterBytes) return this.wait(20);
      const c = buf.byId(this.nextId)!;
      if (adapter.realtimeOnly) {
        // Never ahead of real time on this connection (one chunk of slack).
        const allowed = ((performance.now() - link.openedAt) / 1000) * this.rate + (this.rate * adapter.chunkMs) / 1000;
        if (link.clock.sent + c.samples > allowed) return this.wait(((link.clock.sent + c.samples - allowed) / this.rate) * 1000 + 1);
      }
      const { bytes, skipped } = link.send(c);
      if (skipped) this.d.onSkipped(skipped.from, skipped.to);
      const latencyMs = (Number(process.hrtime.bigint()) - c.captureNs) / 1e6;
      if (!c.sent) this.latency.record(Math.max(1, Math.round(latencyMs * 1000)));
      c.sent = true;
      this.nextId++;
      this.samples += c.samples;
      this.bytesSent += bytes;
      this.d.onSend?.(latencyMs, bytes);
      if (this.d.log.isLevelEnabled('trace')) this.d.log.trace({ pos: c.pos, t: c.t, bytes, latencyMs, buffered: link.bufferedAmount }, 'chunk sent');
    }
    return true;
  }

  /** A new connection starts from the last confirmed point; returns its position. */
  replay(): number {
    this.nextId = this.d.buf.replayFrom();
    return this.d.buf.posOf(this.nextId);
  }

  /** Nothing more will be sent. */
  dropAll(): void {
    this.nextId = this.d.buf.nextId;
  }

  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Samples produced and not yet sent. */
  backlogSamples(): number {
    const { buf } = this.d;
    return buf.producedPos - buf.posOf(Math.max(this.nextId, buf.firstId()));
  }

  get samplesSent(): number {
    return this.samples;
  }

  get bytes(): number {
    return this.bytesSent;
  }

  latencyMs(): PartnerStatus['sendLatencyMs'] {
    const h = this.latency;
    if (h.count === 0) return null;
    const ms = (us: number) => Math.round(us) / 1000;
    return { p50: ms(h.percentile(50)), p99: ms(h.percentile(99)), max: ms(h.max) };
  }

  private wait(ms: number): false {
    if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.d.resume();
      }, Math.max(1, Math.ceil(ms)));
    }
    return false;
  }
}
