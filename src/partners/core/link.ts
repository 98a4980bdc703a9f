/**
 * One connection to a partner: the socket (size-bounded, handshake-timed),
 * the provider's per-connection protocol (ClientSession), this connection's
 * clock, and two watchdogs: a KeepAlive when no audio flows, and a ping
 * whose missing pong says the partner stopped reading within seconds (the
 * kernel's socket buffers would otherwise absorb megabytes before
 * `bufferedAmount` grows). Every message is validated by the provider's
 * parser before use; one that does not fit is reported and skipped. The
 * link reports its end exactly once.
 */
import WebSocket from 'ws';
import type { Adapter, ClientSession, Ending, Parsed } from '../types';
import type { Tuning } from './policy';
import type { Chunk } from './replay';
import { ConnectionClock } from './replay';
import type { Redactor } from '../secrets';

/** Largest message accepted from a partner unless the adapter says otherwise (bytes). */
export const DEFAULT_MAX_MESSAGE_BYTES = 1 << 20;

export interface LinkEvents {
  onOpen(link: Link): void;
  onParsed(link: Link, m: Parsed): void;
  onBad(link: Link, err: unknown): void;
  onSessionId(id: string): void;
  onEnd(link: Link, e: Ending, why: string): void;
}

export class Link {
  readonly clock: ConnectionClock;
  readonly session: ClientSession;
  private ws?: WebSocket;
  private readonly abort = new AbortController();
  private ended = false;
  private httpStatus?: number;
  private lastError?: { message: string; code?: string };
  private netError = '';
  private pingSentAt = 0;
  private pingTimer?: NodeJS.Timeout;
  openedAt = 0;
  lastAudioAt = 0;
  ready = false;
  /** Set once a final result or the end-of-stream answer arrived on this connection. */
  confirmed = false;
  finishSent = false;
  /** Why the watchdog cut this connection (the partner stopped reading). */
  stalled?: string;
  /** The endpoint, fit for logs (no userinfo, token-like params masked, no known key). */
  shownUrl = '';

  constructor(
    private readonly a: Adapter,
    private readonly tune: Tuning,
    private readonly redact: Redactor,
    private readonly on: LinkEvents,
  ) {
    this.clock = new ConnectionClock(a.codec.sampleRate);
    this.session = a.connection();
    void this.open();
  }

  get isOpen(): boolean {
    return this.ws?.readyState === WebSocket.OPEN && !this.ended;
  }

  get bufferedAmount(): number {
    return this.ws?.bufferedAmount ?? 0;
  }

  private async open(): Promise<void> {
    let url: string;
    let headers: Record<string, string>;
    try {
      ({ url, headers } = await this.a.endpoint(this.abort.signal));
    } catch (err) {
      const http = (err as { status?: number }).status;
      return this.end({ opened: false, ...(http && { http }) }, http ? `HTTP ${http} at session set-up` : this.redact.error(err));
    }
    if (this.ended) return;
    this.shownUrl = this.redact.url(url);
    const ws = new WebSocket(url, {
      headers,
      perMessageDeflate: false,
      handshakeTimeout: this.tune.connectTimeoutMs,
      maxPayload: this.a.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
    });
    this.ws = ws;
    ws.on('unexpected-response', (_req, res) => {
      this.httpStatus = res.statusCode ?? 0;
      res.resume();
      ws.terminate();
    });
    ws.on('upgrade', (res) => {
      const id = this.a.sessionFromHeaders?.(res.headers);
      if (id) this.on.onSessionId(id);
    });
    ws.on('open', () => this.opened());
    ws.on('message', (data, isBinary) => {
      if (this.ended || isBinary) return;
      let parsed: Parsed[];
      try {
        parsed = this.session.parse(data.toString());
      } catch (err) {
        return this.on.onBad(this, err);
      }
      for (const m of parsed) {
        if (m.kind === 'error') this.lastError = { message: this.redact.text(m.message), ...(m.code && { code: m.code }) };
        if (m.kind === 'ready') this.becomeReady();
        this.on.onParsed(this, m);
      }
    });
    ws.on('pong', () => (this.pingSentAt = 0));
    ws.on('error', (err) => {
      // ws closes the socket itself after an error (1009 for an oversized message).
      if (!this.httpStatus) this.netError = this.redact.error(err);
    });
    ws.on('close', (code, reason) => {
      const r = this.redact.text(reason.toString());
      const opened = this.openedAt > 0;
      if (this.httpStatus) return this.end({ opened: false, http: this.httpStatus }, `HTTP ${this.httpStatus} at handshake`);
      if (this.stalled) return this.end({ opened, code: 1006, reason: this.stalled }, this.stalled);
      const why = opened ? `close ${code}${r ? ` (${r})` : ''}${this.netError ? ` - ${this.netError}` : ''}` : this.netError || `close ${code}`;
      this.end({ opened, code, reason: r, ...(this.lastError && { error: this.lastError }) }, this.lastError && opened ? `${why}: ${this.lastError.message}` : why);
    });
  }

  private opened(): void {
    this.openedAt = this.lastAudioAt = performance.now();
    for (const f of this.session.start()) this.ws!.send(f);
    this.pingTimer = setInterval(() => this.watch(), Math.min(this.tune.pingMs, 1000));
    this.pingTimer.unref();
    if (this.session.readyOnOpen) this.becomeReady();
    this.on.onOpen(this);
  }

  private becomeReady(): void {
    if (this.ready) return;
    this.ready = true;
    // Real-time pacing counts from when audio may flow.
    this.openedAt = performance.now();
  }

  /** Sends one chunk; returns the sent-axis span this connection skipped over, if any. */
  send(c: Chunk): { bytes: number; skipped?: { from: number; to: number } } {
    const skipped = this.clock.sending(c.pos, c.samples);
    const frame = this.session.audio(c.data, c.samples, c.packets);
    this.ws!.send(frame, { binary: typeof frame !== 'string' });
    this.lastAudioAt = performance.now();
    return { bytes: typeof frame === 'string' ? Buffer.byteLength(frame) : frame.length, skipped };
  }

  /** Asks the partner to finish (CloseStream, Terminate, EndOfStream...). */
  finish(): void {
    if (this.finishSent || !this.isOpen) return;
    this.finishSent = true;
    const msg = this.session.finish();
    if (msg) this.ws!.send(msg);
    else this.ws!.close(1000);
  }

  /** Keepalive, and the stall watchdog: a ping unanswered for stallMs means the partner stopped reading. */
  private watch(): void {
    const ws = this.ws;
    if (!ws || !this.isOpen) return;
    const now = performance.now();
    const ka = this.tune.keepAliveMs ?? this.a.keepAliveMs;
    if (ka && this.session.keepAlive && this.ready && now - this.lastAudioAt >= ka && ws.bufferedAmount === 0) {
      ws.send(this.session.keepAlive());
      this.lastAudioAt = now;
    }
    if (this.pingSentAt && now - this.pingSentAt > this.tune.stallMs) {
      this.stalled = `the partner stopped reading: no answer to a ping for ${Math.round((now - this.pingSentAt) / 1000)} s`;
      return ws.terminate();
    }
    if (!this.pingSentAt && now - this.openedAt >= this.tune.pingMs) {
      this.pingSentAt = now;
      ws.ping();
    }
  }

  /** Closes gracefully if open (1000), else cuts; never waits. */
  close(): void {
    this.abort.abort();
    const ws = this.ws;
    if (!ws) return this.end({ opened: false }, 'closed before connecting');
    if (ws.readyState === WebSocket.OPEN) ws.close(1000);
    else ws.terminate();
    // A partner that never answers the close does not hold the process.
    setTimeout(() => ws.terminate(), 2000).unref();
  }

  terminate(): void {
    this.abort.abort();
    if (this.ws) this.ws.terminate();
    else this.end({ opened: false }, 'closed before connecting');
  }

  private end(e: Ending, why: string): void {
    if (this.ended) return;
    this.ended = true;
    clearInterval(this.pingTimer);
    this.on.onEnd(this, e, why);
  }
}
