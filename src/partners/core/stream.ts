/**
 * The reliable partner stream, shared by every provider. Frames become
 * chunks (chunker), kept in a bounded replay buffer until a final result
 * covers them (replay); one connection at a time (link) carries them, sent
 * without blocking (sender), and its state is one union (state); results
 * come back as transcript lines (intake). On an unexpected end the provider's
 * policy decides: reconnect with jittered backoff and replay from the last
 * confirmed point, or stop for the meeting with one clear line. Partner
 * timestamps are mapped back to the meeting timeline; what never reached
 * the partner is a `partner_gap` with its cause. Nothing here blocks:
 * write() copies at most one chunk and returns; sending waits on
 * `ws.bufferedAmount` and, for real-time-only providers, on the clock.
 */
import type { Logger } from 'pino';
import { type Frame } from '../../realtime/frame';
import type { PartnerProblem, PartnerStatus } from '../status';
import type { Adapter, Ending, Parsed } from '../types';
import { Chunker } from './chunker';
import { Link } from './link';
import { Losses } from './losses';
import { Reports } from './reports';
import { DEFAULT_TUNING, backoffMs, hintFor, verdictFor, type Tuning } from './policy';
import { ReplayBuffer } from './replay';
import { ResultIntake } from './intake';
import { Sender } from './sender';
import { outcomeOf } from './outcome';
import { isFinal, linkOf, type ConnState } from './state';
import type { PartnerSink, StreamDeps } from './sink';

export type { PartnerSink, StreamDeps } from './sink';

export class PartnerStream implements PartnerSink {
  readonly name: string;
  /** A chunk's worth: frames that arrive together cost no latency (the chunk leaves with its last frame). */
  readonly batchMs: number;
  private readonly a: Adapter;
  private readonly log: Logger;
  private readonly tune: Tuning;
  private readonly rate: number;
  private readonly chunker: Chunker;
  private readonly buf: ReplayBuffer;
  private readonly losses: Losses;
  private readonly reports: Reports;
  private readonly sender: Sender;
  private readonly results: ResultIntake;
  private s: ConnState;
  private readonly ticker: NodeJS.Timeout;
  private backoffStep = 0;
  private failures = 0;
  private attempts = 0;
  private opened = 0;
  private lastWhy = '';
  private lastFrameEnd = 0;
  private reconnects = 0;
  private lastResultAt = 0;
  /** Set by close(): the meeting has ended; settle() resolves it. */
  private ending?: { resolve: () => void; timer: NodeJS.Timeout };
  private settled = false;
  private overflowCause: 'slow' | 'outage' = 'outage';

  constructor(private readonly d: StreamDeps) {
    this.name = d.spec.name;
    this.a = d.adapter;
    this.log = d.logger;
    this.tune = { ...DEFAULT_TUNING, ...d.tuning };
    this.rate = this.a.codec.sampleRate;
    this.batchMs = this.a.chunkMs;
    const cap = Math.max(1, Math.round((this.rate * d.spec.bufferMs) / 1000));
    this.buf = new ReplayBuffer(this.rate, cap);
    this.results = new ResultIntake(d, this.buf);
    this.sender = new Sender({
      adapter: this.a, tune: this.tune, buf: this.buf, log: this.log, onSend: d.onSend, resume: () => this.pump(),
      // The buffer dropped unsent audio under an open connection: the partner was too slow for it.
      onSkipped: (from, to) => this.losses.positions(from, to, this.overflowReason()),
    });
    this.losses = new Losses(this.name, this.buf, d.onEvent);
    this.reports = new Reports(this.name, this.log, d.redact, d.onEvent, () => this.lastFrameEnd);
    this.chunker = new Chunker({ codec: this.a.codec, sourceChannels: d.sourceChannels, chunkMs: this.a.chunkMs, minChunkMs: this.a.minChunkMs }, (c) => {
      const evicted = this.buf.evictedTo;
      this.buf.push(c);
      // Whether the buffer overflowed while a partner held the socket (too slow) or while none did (an outage).
      if (this.buf.evictedTo > evicted) this.overflowCause = linkOf(this.s)?.isOpen ? 'slow' : 'outage';
    });
    // The no-results watch counts in seconds (default 120 s): a wake a second is plenty.
    this.ticker = setInterval(() => {
      if (this.s.status === 'open' && this.sender.samplesSent > 0) this.reports.silentFor(performance.now() - this.lastResultAt, d.spec.noResultsMs);
    }, 1000);
    this.ticker.unref();
    this.s = { status: 'connecting', link: this.newLink() };
  }

  // ---- frames in, chunks out ---------------------------------------------

  write(frame: Frame): void {
    if (this.ending || this.settled) return;
    this.lastFrameEnd = (frame.seq + 1) * 0.02;
    if (isFinal(this.s)) return;
    this.chunker.write(frame);
    this.pump();
  }

  private pump(): void {
    const link = linkOf(this.s);
    if (this.s.status !== 'open' || !link || !link.isOpen || !link.ready) return;
    if (!this.sender.sendAll(link) || !this.ending) return;
    this.to({ status: 'closing', link });
    link.finish();
  }

  // ---- connections ---------------------------------------------------------

  private newLink(): Link {
    this.attempts++;
    this.results.newConnection();
    return new Link(this.a, this.tune, this.d.redact, {
      onOpen: (link) => this.onOpen(link),
      onParsed: (link, m) => this.onParsed(link, m),
      onBad: (_link, err) => this.reports.badMessage(err),
      onSessionId: (id) => this.results.sessionNamed(id, false),
      onEnd: (link, e, why) => this.onEnd(link, e, why),
    });
  }

  private onOpen(link: Link): void {
    if (linkOf(this.s) !== link) return;
    this.opened++;
    this.backoffStep = 0;
    this.lastResultAt = performance.now();
    // Replay from the last confirmed point; what the buffer could not keep is lost.
    const from = this.sender.replay();
    this.losses.positions(this.buf.confirmedPos, from, this.overflowReason());
    this.log.info({ url: link.shownUrl, replaySec: Math.round(((this.buf.producedPos - from) / this.rate) * 1000) / 1000 }, 'partner connected');
    this.to({ status: 'open', link });
    this.pump();
  }

  private onParsed(link: Link, m: Parsed): void {
    if (linkOf(this.s) !== link) return;
    switch (m.kind) {
      case 'session':
        this.results.sessionNamed(m.id, true);
        break;
      case 'ready':
        this.pump();
        break;
      case 'result':
        this.lastResultAt = performance.now();
        this.reports.resultArrived();
        if (this.results.take(link, m.result)) this.failures = 0;
        break;
      case 'done':
        if (!link.finishSent) break;
        // The partner has processed everything this connection carried.
        link.confirmed = true;
        this.buf.confirm(link.clock.lastEnd);
        link.close();
        this.to({ status: 'done' });
        this.settle();
        break;
      case 'error':
        this.log.warn({ message: this.d.redact.text(m.message), code: m.code }, 'partner reported an error');
        break;
    }
  }

  private onEnd(link: Link, e: Ending, why: string): void {
    if (linkOf(this.s) !== link) return;
    this.sender.cancel();
    this.lastWhy = why;
    if (link.stalled) this.reports.stalled(link.stalled);
    const v = verdictFor(e, this.a.classify?.bind(this.a));
    if (v.retry === 'never') {
      const problem = v.problem ?? 'refused';
      return this.fail(problem, `partner ${this.name}: ${why}: ${hintFor(problem, this.d.spec.keySource)}; the recording goes on`);
    }
    // Give up only on connections that open and then die before confirming anything
    // (a partner that takes us and drops us); an unreachable partner is retried
    // for the whole meeting at the capped backoff.
    if (e.opened && !link.confirmed) this.failures++;
    if (this.failures >= this.tune.maxFailures) {
      const problem = this.reports.stalls > 0 ? 'never_read' : 'gave_up';
      return this.fail(problem, `partner ${this.name}: gave up after ${this.failures} connections that ended before any result (last: ${why}) - check the partner's status and --partner-param; the recording goes on`);
    }
    // A partner that never took a connection in the whole meeting will not take the backlog now.
    if (this.ending && this.opened === 0) return this.settle();
    this.backoffStep++;
    const delay = backoffMs(this.backoffStep, v, this.tune);
    this.reconnects++;
    this.log.warn({ reason: why, retryInMs: Math.round(delay), failures: this.failures }, 'partner disconnected; reconnecting');
    const timer = setTimeout(() => this.to({ status: 'connecting', link: this.newLink() }), delay);
    this.to({ status: 'backoff', timer }, why);
  }

  private fail(problem: PartnerProblem, message: string): void {
    const reason = this.d.redact.text(message);
    this.log.error(reason);
    // Nothing more will be sent: free the buffer now, account for the loss at the end.
    const lostFrom = this.buf.timeOf(this.buf.confirmedPos);
    this.losses.markReported(this.buf.producedPos);
    this.buf.clear();
    this.sender.dropAll();
    this.to({ status: 'failed', problem, reason, lostFrom }, reason);
    this.reports.down(problem, reason, false);
    if (this.ending) this.settle();
  }

  private to(next: ConnState, reason?: string): void {
    const from = this.s.status;
    this.s = next;
    if (from === next.status) return;
    this.d.onState?.({ partner: this.name, from, to: next.status, ...(reason && { reason }), t: this.lastFrameEnd });
  }

  // ---- the end -------------------------------------------------------------

  close(): Promise<void> {
    if (this.ending || this.settled) return Promise.resolve();
    // A real-time-only partner takes a replay's backlog no faster than real time: give it that long too.
    const drainMs = this.a.realtimeOnly ? (this.sender.backlogSamples() / this.rate) * 1000 : 0;
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.log.warn({ unsentSec: (this.buf.producedPos - this.buf.confirmedPos) / this.rate }, 'partner close timed out');
        this.settle('the partner did not confirm the end of the meeting before the close deadline');
      }, this.tune.closeTimeoutMs + drainMs);
      this.ending = { resolve, timer };
      this.chunker.flush();
      if (isFinal(this.s) || (this.opened === 0 && this.s.status === 'backoff')) return this.settle();
      this.pump();
    });
  }

  abort(): void {
    this.ending ??= { resolve: () => {}, timer: setTimeout(() => {}, 0) };
    this.settle('stopped (abort) before the partner confirmed it', true);
  }

  /** Ends everything once: sockets, timers, the loss accounting, the close() promise. */
  private settle(why?: string, cut = false): void {
    if (this.settled) return;
    this.settled = true;
    clearInterval(this.ticker);
    this.sender.cancel();
    const s = this.s;
    if (s.status === 'backoff') clearTimeout(s.timer);
    const link = linkOf(s);
    if (link) cut ? link.terminate() : link.close();
    if (s.status === 'failed') this.losses.span(s.lostFrom, this.lastFrameEnd, s.reason);
    else {
      const reason =
        this.buf.evictedTo > this.buf.confirmedPos
          ? this.overflowReason()
          : this.opened === 0
            ? `the partner never connected (${this.lastWhy || 'no answer'})`
            : (why ?? `the partner was disconnected at the end of the meeting (${this.lastWhy})`);
      this.losses.positions(this.buf.confirmedPos, this.buf.producedPos, reason);
      if (this.opened === 0 && this.attempts > 0 && this.lastFrameEnd > 0) {
        this.reports.down('never_connected', this.neverConnected(), true);
      }
    }
    this.buf.clear();
    if (!isFinal(this.s)) this.to({ status: 'closed' }, why);
    clearTimeout(this.ending?.timer);
    this.ending?.resolve();
  }

  private overflowReason(): string {
    const sec = this.d.spec.bufferMs / 1000;
    return this.overflowCause === 'slow' ? `partner too slow: the ${sec} s buffer overflowed` : `outage outlasted the ${sec} s buffer`;
  }

  private neverConnected(): string {
    return `partner ${this.name}: never connected (${this.lastWhy || 'no answer'}) - check --partner-url, the network and the partner's status`;
  }

  // ---- status ----------------------------------------------------------------

  status(): PartnerStatus {
    const s = this.s;
    const outcome = outcomeOf({
      name: this.name,
      delivered: this.buf.confirmedPos > 0 || s.status === 'done',
      failed: s.status === 'failed' ? s : undefined,
      stalls: this.reports.stalls,
      noResults: this.reports.noResults,
      settled: this.settled,
      neverConnected: this.opened === 0 && this.lastFrameEnd > 0 ? this.neverConnected() : undefined,
      sentAudio: this.sender.samplesSent > 0,
    });
    const link = linkOf(s);
    return {
      name: this.name,
      provider: this.a.provider,
      codec: { ...this.a.codec },
      state: s.status,
      connected: !!link?.isOpen,
      backlogSec: this.sender.backlogSamples() / this.rate,
      audioSecSent: this.sender.samplesSent / this.rate,
      bytesSent: this.sender.bytes,
      reconnects: this.reconnects,
      sessionIds: this.results.sessionIds(),
      gapsMs: Math.round(this.losses.gapsMs),
      badMessages: this.reports.badMessages,
      sendLatencyMs: this.sender.latencyMs(),
      outcome,
    };
  }

  /** Replay-buffer occupancy in seconds (sent-unconfirmed plus unsent). */
  bufferedSec(): number {
    return this.buf.bufferedSamples / this.rate;
  }

  error(): string | undefined {
    return this.s.status === 'failed' ? this.s.reason : undefined;
  }
}
