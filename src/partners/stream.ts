/**
 * The reliable partner stream, shared by every adapter. Frames become chunks
 * (partner codec/rate) that carry their position on the meeting timeline and
 * stay in a bounded replay buffer until a final result covers them. On an
 * unexpected close we reconnect with jittered exponential backoff and replay
 * from the last confirmed point; every partner timestamp is mapped back to the
 * timeline through the positions of what was sent on that connection. What
 * the buffer could not keep becomes a `partner_gap` event.
 *
 * All of this runs on the main thread and never blocks: write() copies at
 * most one chunk and returns; sending waits on `ws.bufferedAmount`.
 */
import WebSocket from 'ws';
import type { Logger } from 'pino';
import type { MeetingEvent } from '../events';
import { FRAME_SAMPLES, SAMPLE_RATE, frameTime, type Frame } from '../realtime/frame';
import type { PartnerOutcome, PartnerProblem, PartnerState, PartnerStateChange, PartnerStatus, TranscriptSegment } from './status';
import type { FrameSink } from '../sinks/sink';
import { Resampler, downmix } from './resample';
import type { Redactor } from './secrets';
import type { TranscriptWriter } from './transcripts';
import type { Adapter, PartnerResult, PartnerSpec } from './types';

export interface PartnerSink extends FrameSink {
  status(): PartnerStatus;
  /** Stops at once: sockets terminated, timers cleared, what was not confirmed accounted as gaps. */
  abort(): void;
  /** The error that stopped this partner for good, if any (already redacted). */
  error(): string | undefined;
}

export interface StreamTuning {
  /** First reconnect delay and cap (ms); the delay doubles with full jitter. */
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** Delay floor for "slow" failures (rate limits, concurrency: 429, 3009). */
  slowRetryMs: number;
  /** Consecutive connections that end before confirming anything, then give up. */
  maxFailures: number;
  /** Stop sending while the socket holds more than this (bytes). */
  highWaterBytes: number;
  /** A socket whose bufferedAmount has not drained for this long is dead (ms). */
  stallMs: number;
  /** Bound on close(): drain + handshake (ms). */
  closeTimeoutMs: number;
  /** Handshake timeout (ms). */
  connectTimeoutMs: number;
}

export const DEFAULT_TUNING: StreamTuning = {
  backoffBaseMs: 250,
  backoffMaxMs: 10_000,
  slowRetryMs: 15_000,
  maxFailures: 8,
  highWaterBytes: 256 * 1024,
  stallMs: 10_000,
  closeTimeoutMs: 15_000,
  connectTimeoutMs: 10_000,
};

interface Chunk {
  id: number;
  /** Position in samples (partner rate) on this partner's sent-audio axis. */
  pos: number;
  samples: number;
  /** Meeting-timeline seconds of its first sample. */
  t: number;
  data: Buffer;
  /** Capture time (ns) of the frame that completed it. */
  captureNs: number;
  sent: boolean;
}

/** Where a run of contiguous samples starts: `pos` on one axis is `at` on the other. */
interface Anchor {
  pos: number;
  at: number;
}

type Failure = 'fatal' | 'slow' | 'fast';

/** Close-code policy (RFC 6455 codes plus the providers' own). */
export function classifyClose(code: number): Failure {
  if (code === 1008 || code === 4001 || code === 4003) return 'fatal'; // policy / auth
  if (code === 3009 || code === 1013 || code === 4029) return 'slow'; // concurrency, try later
  if (code === 3007) return 'slow'; // our chunking broke the rules: do not hammer
  return 'fast'; // 1000 unasked, 1001, 1006, 1011, 1012, 3005, 3008, network errors
}

export function classifyHttp(status: number): Failure {
  if (status === 401 || status === 403 || status === 400 || status === 404) return 'fatal';
  if (status === 429 || status === 402) return 'slow';
  return 'fast';
}

export interface StreamDeps {
  spec: PartnerSpec;
  adapter: Adapter;
  /** Channels of the frames we are given. */
  sourceChannels: number;
  logger: Logger;
  onEvent(e: MeetingEvent): void;
  transcripts?: TranscriptWriter;
  redact: Redactor;
  tuning?: Partial<StreamTuning>;
  /** Latency samples (ms, capture -> send) for benches; off by default. */
  onSend?(latencyMs: number, bytes: number): void;
  /** Every final as mapped to the timeline, silence included (benches). */
  onFinal?(start: number, end: number, sessionId: string | null): void;
  /** Every transcript segment as it arrives (finals, and interims with --partner-interim). */
  onTranscript?(t: TranscriptSegment): void;
  onState?(change: PartnerStateChange): void;
}

export class PartnerStream implements PartnerSink {
  readonly name: string;
  private readonly a: Adapter;
  private readonly log: Logger;
  private readonly tune: StreamTuning;
  private readonly bytesPerSample: number;
  private readonly chunkSamples: number;
  private readonly capSamples: number;

  // Chunking
  private readonly resampler?: Resampler;
  private readonly mono?: Int16Array;
  private readonly staging: Int16Array;
  private stagingFill = 0;
  private expectedSeq = -1;
  /** Timeline time of output sample 0 of the current segment, and outputs staged since. */
  private segT0 = 0;
  private segOut = 0;
  private lastCaptureNs = 0;

  // Replay buffer: chunks[head..] with contiguous ids.
  private chunks: Chunk[] = [];
  private head = 0;
  private nextId = 0;
  private producedPos = 0;
  private bufferedSamples = 0;
  /** Sent-audio axis -> timeline anchors (a new one wherever the timeline jumps). */
  private timeAnchors: Anchor[] = [];
  private confirmedPos = 0;
  private reportedUpTo = 0;

  // Connection
  private ws?: WebSocket;
  private open = false;
  private connOpenedAt = 0;
  /** Per connection: connection samples -> sent-axis anchors, samples sent, next chunk id. */
  private connAnchors: Anchor[] = [];
  private connSent = 0;
  private connLastEnd = -1;
  private nextSendId = 0;
  private lastAudioAt = 0;
  private lastDrainCheck = { at: 0, buffered: 0 };
  private failures = 0;
  private connConfirmed = false;
  private reconnectTimer?: NodeJS.Timeout;
  private pumpTimer?: NodeJS.Timeout;
  private ticker?: NodeJS.Timeout;
  private attempt = 0;
  private backoffStep = 0;
  private everOpened = false;
  private lastFailure = '';

  // Results
  private lastFinalEnd = -Infinity;
  private sessionId: string | null = null;
  private readonly sessionIds: string[] = [];

  // Status
  private closing = false;
  private closeSent = false;
  private doneSeen = false;
  private lastFrameEnd = 0;
  private fatalFrom?: number;
  private closed = false;
  private fatal?: string;
  private samplesSent = 0;
  private reconnects = 0;
  private gapsMs = 0;
  private doneWaiter?: () => void;
  private state: PartnerState = 'connecting';
  private problem?: PartnerProblem;
  private bytesSent = 0;
  private badMessages = 0;

  constructor(private readonly d: StreamDeps) {
    this.name = d.spec.name;
    this.a = d.adapter;
    this.log = d.logger;
    this.tune = { ...DEFAULT_TUNING, ...d.tuning };
    const a = this.a;
    if (a.codec === 'pcm16' && a.channels !== 1 && a.channels !== d.sourceChannels) {
      throw new Error(`${this.name}: channels=${a.channels} but the meeting has ${d.sourceChannels} - use 1 or ${d.sourceChannels}`);
    }
    this.bytesPerSample = 2 * a.channels;
    this.chunkSamples = a.codec === 'opus' ? FRAME_SAMPLES : Math.round((a.rate * a.chunkMs) / 1000);
    this.capSamples = Math.max(this.chunkSamples, Math.round((a.rate * d.spec.bufferMs) / 1000));
    this.staging = new Int16Array(this.chunkSamples * a.channels);
    if (a.codec === 'pcm16') {
      if (a.rate !== SAMPLE_RATE) this.resampler = new Resampler(SAMPLE_RATE, a.rate, a.channels);
      if (a.channels === 1 && d.sourceChannels > 1) this.mono = new Int16Array(FRAME_SAMPLES);
    }
    this.ticker = setInterval(() => this.tick(), 250);
    this.ticker.unref();
    this.connect();
  }

  // ---- frames -> chunks -------------------------------------------------

  write(frame: Frame): void {
    if (this.closing) return;
    this.lastFrameEnd = frameTime(frame.seq + 1);
    if (this.fatal) return;
    if (this.a.codec === 'opus') {
      const t = frameTime(frame.seq);
      this.push(Buffer.from(frame.opus), FRAME_SAMPLES, t, frame.captureNs);
    } else {
      if (frame.seq !== this.expectedSeq) {
        // A jump in the timeline (first frame, or frames that never reached us):
        // finish the current segment and anchor a new one at this frame.
        this.endSegment();
        this.segT0 = frameTime(frame.seq);
        this.segOut = 0;
      }
      this.lastCaptureNs = frame.captureNs;
      let pcm = frame.pcm;
      if (this.mono) pcm = downmix(pcm, this.d.sourceChannels, this.mono);
      this.stage(this.resampler ? this.resampler.process(pcm) : pcm);
    }
    this.expectedSeq = frame.seq + 1;
    this.pump();
  }

  private endSegment(): void {
    if (this.expectedSeq < 0) return;
    if (this.resampler) {
      this.stage(this.resampler.flush());
      this.resampler.reset();
    }
    if (this.stagingFill > 0) this.finishChunk();
  }

  private stage(samples: Int16Array): void {
    const ch = this.a.channels;
    let i = 0;
    while (i < samples.length) {
      const room = this.staging.length - this.stagingFill * ch;
      const n = Math.min(room, samples.length - i);
      this.staging.set(samples.subarray(i, i + n), this.stagingFill * ch);
      this.stagingFill += n / ch;
      i += n;
      if (this.stagingFill === this.chunkSamples) this.finishChunk();
    }
  }

  private finishChunk(): void {
    let samples = this.stagingFill;
    // Partners with a minimum chunk (AssemblyAI: 50 ms) get the tail padded with silence.
    const min = this.a.realtimeOnly ? Math.ceil(this.a.rate * 0.05) : 1;
    if (samples < min) {
      this.staging.fill(0, samples * this.a.channels, min * this.a.channels);
      samples = min;
    }
    const bytes = samples * this.bytesPerSample;
    const data = Buffer.allocUnsafe(bytes);
    data.set(new Uint8Array(this.staging.buffer, this.staging.byteOffset, bytes));
    const t = this.segT0 + this.segOut / this.a.rate;
    this.segOut += this.stagingFill;
    this.stagingFill = 0;
    this.push(data, samples, t, this.lastCaptureNs);
  }

  private push(data: Buffer, samples: number, t: number, captureNs: number): void {
    const last = this.timeAnchors[this.timeAnchors.length - 1];
    if (!last || Math.abs(last.at + (this.producedPos - last.pos) / this.a.rate - t) > 0.5 / this.a.rate) {
      this.timeAnchors.push({ pos: this.producedPos, at: t });
    }
    this.chunks.push({ id: this.nextId++, pos: this.producedPos, samples, t, data, captureNs, sent: false });
    this.producedPos += samples;
    this.bufferedSamples += samples;
    // Bounded: the oldest audio goes first. If it was never sent, the gap is
    // reported when the stream moves past it (next send or reconnect).
    while (this.bufferedSamples > this.capSamples && this.head < this.chunks.length) {
      const old = this.chunks[this.head]!;
      this.bufferedSamples -= old.samples;
      this.chunks[this.head++] = undefined as unknown as Chunk;
    }
    if (this.head > 1024 && this.head * 2 > this.chunks.length) {
      this.chunks = this.chunks.slice(this.head);
      this.head = 0;
    }
  }

  private chunkById(id: number): Chunk | undefined {
    const first = this.chunks[this.head];
    if (!first) return undefined;
    return this.chunks[this.head + (id - first.id)];
  }

  private firstId(): number {
    return this.chunks[this.head]?.id ?? this.nextId;
  }

  /** Timeline seconds of a position on the sent-audio axis. */
  private timeOf(pos: number): number {
    const as = this.timeAnchors;
    let i = as.length - 1;
    while (i > 0 && as[i]!.pos > pos) i--;
    const a = as[i];
    return a ? a.at + (pos - a.pos) / this.a.rate : 0;
  }

  // ---- sending ----------------------------------------------------------

  private pump(): void {
    const ws = this.ws;
    if (!ws || !this.open || ws.readyState !== WebSocket.OPEN) return;
    if (this.nextSendId < this.firstId()) this.nextSendId = this.firstId();
    while (this.nextSendId < this.nextId) {
      if (ws.bufferedAmount > this.tune.highWaterBytes) return this.schedulePump(20);
      const c = this.chunkById(this.nextSendId)!;
      if (this.a.realtimeOnly) {
        // Never ahead of real time on this connection (one chunk of slack).
        const allowed = ((performance.now() - this.connOpenedAt) / 1000) * this.a.rate + this.chunkSamples;
        if (this.connSent + c.samples > allowed) {
          return this.schedulePump(((this.connSent + c.samples - allowed) / this.a.rate) * 1000 + 1);
        }
      }
      this.sendChunk(ws, c);
      this.nextSendId++;
    }
  }

  private schedulePump(ms: number): void {
    if (this.pumpTimer) return;
    this.pumpTimer = setTimeout(() => {
      this.pumpTimer = undefined;
      this.pump();
      if (this.closing) this.maybeFinish();
    }, Math.max(1, Math.ceil(ms)));
  }

  private sendChunk(ws: WebSocket, c: Chunk): void {
    if (c.pos !== this.connLastEnd) {
      // First chunk on this connection, or the buffer dropped unsent audio
      // under us: the partner's clock continues, the timeline jumps.
      if (this.connLastEnd >= 0 && c.pos > this.connLastEnd) this.reportGap(this.connLastEnd, c.pos);
      this.connAnchors.push({ pos: this.connSent, at: c.pos });
    }
    ws.send(c.data, { binary: true });
    this.bytesSent += c.data.length;
    c.sent = true;
    this.connSent += c.samples;
    this.connLastEnd = c.pos + c.samples;
    this.samplesSent += c.samples;
    this.lastAudioAt = performance.now();
    const latencyMs = (Number(process.hrtime.bigint()) - c.captureNs) / 1e6;
    this.d.onSend?.(latencyMs, c.data.length);
    if (this.log.isLevelEnabled('trace')) {
      this.log.trace({ pos: c.pos, t: c.t, bytes: c.data.length, latencyMs, buffered: ws.bufferedAmount }, 'chunk sent');
    }
  }

  /** Audio between two sent-axis positions will never reach the partner. */
  private reportGap(from: number, to: number): void {
    from = Math.max(from, this.reportedUpTo, this.confirmedPos);
    if (to <= from) return;
    this.reportedUpTo = to;
    const reason = this.open ? 'partner too slow: buffer overflowed' : 'outage outlasted the buffer';
    this.reportSpan(this.timeOf(from), this.timeOf(from) + (to - from) / this.a.rate, reason);
  }

  private reportSpan(start: number, end: number, reason: string): void {
    if (end <= start) return;
    const durationMs = (end - start) * 1000;
    this.gapsMs += durationMs;
    const e: MeetingEvent = {
      t: Math.round(start * 1000) / 1000,
      kind: 'partner_gap',
      durationMs: Math.round(durationMs),
      frames: Math.round(durationMs / 20),
      detail: { partner: this.name, reason },
    };
    this.log.warn({ event: e }, 'partner gap: audio lost for this partner');
    this.d.onEvent(e);
  }

  // ---- connection -------------------------------------------------------

  private connect(): void {
    if (this.fatal || this.closed) return;
    this.attempt++;
    this.setState('connecting');
    const url = this.a.url();
    this.log.debug({ url: this.d.redact.url(url), attempt: this.attempt }, 'connecting');
    const ws = new WebSocket(url, {
      headers: this.a.headers(),
      perMessageDeflate: false,
      handshakeTimeout: this.tune.connectTimeoutMs,
    });
    this.ws = ws;
    this.connConfirmed = false;
    let httpStatus = 0;
    ws.on('unexpected-response', (_req, res) => {
      httpStatus = res.statusCode ?? 0;
      res.resume();
      ws.terminate();
    });
    ws.on('upgrade', (res) => {
      // Deepgram names the session in the handshake (before any result).
      const id = res.headers['dg-request-id'];
      if (typeof id === 'string' && !this.sessionIds.includes(id)) this.sessionIds.push(id);
    });
    ws.on('open', () => this.onOpen(ws));
    ws.on('message', (data, isBinary) => {
      if (ws !== this.ws || isBinary) return;
      try {
        this.onMessage(data.toString());
      } catch (err) {
        this.badMessage(err);
      }
    });
    ws.on('error', (err) => {
      if (ws === this.ws && !httpStatus) this.lastFailure = this.d.redact.error(err);
    });
    ws.on('close', (code, reason) => {
      if (ws !== this.ws) return;
      this.onClose(code, this.d.redact.text(reason.toString()), httpStatus);
    });
  }

  private onOpen(ws: WebSocket): void {
    if (ws !== this.ws) return;
    this.open = true;
    this.everOpened = true;
    this.backoffStep = 0;
    this.connOpenedAt = performance.now();
    this.lastAudioAt = this.connOpenedAt;
    this.lastDrainCheck = { at: this.connOpenedAt, buffered: 0 };
    this.connAnchors = [];
    this.connSent = 0;
    this.connLastEnd = -1;
    this.sessionId = null;
    this.closeSent = false;
    this.setState('open');
    // Replay from the last confirmed point: the first chunk not fully covered.
    let id = this.firstId();
    while (id < this.nextId && this.chunkById(id)!.pos + this.chunkById(id)!.samples <= this.confirmedPos) id++;
    this.nextSendId = id;
    const from = id < this.nextId ? this.chunkById(id)!.pos : this.producedPos;
    this.reportGap(this.confirmedPos, from);
    const replaySec = (this.producedPos - from) / this.a.rate;
    this.log.info({ url: this.d.redact.url(this.a.url()), replaySec: Math.round(replaySec * 1000) / 1000 }, 'partner connected');
    this.pump();
    this.maybeFinish();
  }

  private onMessage(text: string): void {
    for (const m of this.a.parse(text)) {
      switch (m.kind) {
        case 'session':
          if (m.id !== this.sessionId) {
            this.sessionId = m.id;
            if (!this.sessionIds.includes(m.id)) this.sessionIds.push(m.id);
          }
          break;
        case 'result':
          this.onResult(m.result);
          break;
        case 'done':
          this.onDone();
          break;
        case 'error':
          this.lastFailure = this.d.redact.text(m.message);
          this.log.warn({ message: this.lastFailure }, 'partner reported an error');
          break;
        default:
          break;
      }
    }
  }

  /** Connection seconds -> sent-axis position (through the connection's anchors). */
  private posOfConn(sec: number): number {
    const cs = sec * this.a.rate;
    const as = this.connAnchors;
    let i = as.length - 1;
    while (i > 0 && as[i]!.pos > cs) i--;
    const a = as[i];
    return a ? a.at + (cs - a.pos) : 0;
  }

  private onResult(r: PartnerResult): void {
    if (this.connAnchors.length === 0) return;
    const endPos = this.posOfConn(r.end);
    const start = this.timeOf(this.posOfConn(r.start));
    const end = this.timeOf(endPos);
    if (r.final) {
      this.d.onFinal?.(start, end, this.sessionId);
      if (endPos > this.confirmedPos) this.confirmedPos = Math.min(endPos, this.connLastEnd);
      this.connConfirmed = true;
      this.failures = 0;
      this.release();
      // The replay overlap is de-duplicated on the timeline.
      if (end <= this.lastFinalEnd + 0.005) return;
      this.lastFinalEnd = end;
    }
    if (!r.final && !this.d.spec.interim) return;
    if (!r.final && end <= this.lastFinalEnd + 0.005) return;
    if (!r.text && r.final && !r.words?.length) return; // silence, confirmed but not worth a line
    const round = (x: number) => Math.round(x * 1000) / 1000;
    const segment: TranscriptSegment = {
      partner: this.name,
      provider: this.a.provider,
      sessionId: this.sessionId,
      start: round(start),
      end: round(end),
      final: r.final,
      endOfTurn: r.endOfTurn,
      text: r.text,
      ...(r.confidence !== undefined && { confidence: r.confidence }),
      ...(r.speaker !== undefined && { speaker: r.speaker }),
      ...(r.channel !== undefined && { channel: r.channel }),
      words: r.words?.map((w) => ({
        word: w.word,
        start: round(this.timeOf(this.posOfConn(w.start))),
        end: round(this.timeOf(this.posOfConn(w.end))),
        ...(w.confidence !== undefined && { confidence: w.confidence }),
        ...(w.speaker !== undefined && { speaker: w.speaker }),
      })),
    };
    this.d.transcripts?.write(segment);
    this.d.onTranscript?.(segment);
  }

  /** Frees the chunks that finals have covered. */
  private release(): void {
    while (this.head < this.chunks.length) {
      const c = this.chunks[this.head]!;
      if (!c.sent || c.pos + c.samples > this.confirmedPos) break;
      this.bufferedSamples -= c.samples;
      this.chunks[this.head++] = undefined as unknown as Chunk;
    }
  }

  private onDone(): void {
    if (!this.closeSent) return;
    // The partner has processed everything this connection carried.
    if (this.connLastEnd > this.confirmedPos) this.confirmedPos = this.connLastEnd;
    this.release();
    this.doneSeen = true;
    this.setState('done');
    this.doneWaiter?.();
  }

  private onClose(code: number, reason: string, httpStatus: number): void {
    const wasOpen = this.open;
    this.open = false;
    this.ws = undefined;
    if (this.pumpTimer) clearTimeout(this.pumpTimer);
    this.pumpTimer = undefined;
    if (this.closed) return;
    if (this.closing && this.doneSeen) return this.doneWaiter?.();
    const what = httpStatus
      ? `HTTP ${httpStatus} at handshake`
      : wasOpen
        ? `close ${code}${reason ? ` (${reason})` : ''}`
        : this.lastFailure || `close ${code}`;
    const kind = httpStatus ? classifyHttp(httpStatus) : wasOpen ? classifyClose(code) : 'fast';
    if (kind === 'fatal') {
      const hint =
        httpStatus === 401 || httpStatus === 403 || code === 4001 || code === 4003
          ? `the partner refused the key - check ${this.d.spec.keySource ?? '--partner-key-env'}`
          : httpStatus === 400 || httpStatus === 404
            ? 'the partner refused the URL or parameters - check --partner-url and --partner-param'
            : 'the partner refused the stream - check --partner-param';
      this.problem = hint.includes('key') ? 'key_rejected' : 'refused';
      return this.fail(`partner ${this.name}: ${what}: ${hint}; the recording goes on`);
    }
    // Give up only on connections that open and then die before confirming
    // anything (a partner that takes us and drops us); an unreachable partner
    // is retried for the whole meeting at the capped backoff.
    if (wasOpen && !this.connConfirmed) this.failures++;
    if (this.failures >= this.tune.maxFailures) {
      this.problem = 'gave_up';
      return this.fail(
        `partner ${this.name}: gave up after ${this.failures} connections that closed before any result (last: ${what}) - check the partner's status and --partner-param; the recording goes on`,
      );
    }
    this.setState('backoff', what);
    const base = kind === 'slow' ? this.tune.slowRetryMs : this.tune.backoffBaseMs;
    const cap = Math.max(base, this.tune.backoffMaxMs);
    // The delay grows with attempts since the last successful handshake; the
    // give-up count (failures) only resets when a connection confirms audio.
    this.backoffStep++;
    const exp = Math.min(cap, base * 2 ** Math.max(0, this.backoffStep - 1));
    const delay = kind === 'slow' ? base + Math.random() * exp : exp / 2 + (Math.random() * exp) / 2;
    this.reconnects++;
    this.log.warn({ reason: what, retryInMs: Math.round(delay), failures: this.failures }, 'partner disconnected; reconnecting');
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.connect();
    }, delay);
  }

  private fail(message: string): void {
    if (this.fatal) return;
    this.fatal = this.d.redact.text(message);
    this.log.error({ partner: this.name }, this.fatal);
    this.setState('failed', this.fatal);
    // Nothing more will be sent: free the buffer now, account for the loss at close.
    this.fatalFrom = this.timeOf(Math.max(this.confirmedPos, this.reportedUpTo));
    this.chunks = [];
    this.head = 0;
    this.bufferedSamples = 0;
    this.nextSendId = this.nextId;
    this.doneWaiter?.();
  }

  /** Keepalive and stall watchdog. */
  private tick(): void {
    const ws = this.ws;
    if (!ws || !this.open) return;
    const now = performance.now();
    const ka = this.a.keepAliveMs;
    if (ka && this.a.keepAlive && now - this.lastAudioAt >= ka && ws.bufferedAmount === 0) {
      ws.send(this.a.keepAlive());
      this.lastAudioAt = now;
      this.log.debug('keepalive sent');
    }
    // A socket that holds data and has not drained at all for stallMs is dead
    // or stalled: drop it and replay on a fresh one.
    const buffered = ws.bufferedAmount;
    if (buffered === 0 || buffered < this.lastDrainCheck.buffered) {
      this.lastDrainCheck = { at: now, buffered };
    } else if (now - this.lastDrainCheck.at > this.tune.stallMs) {
      this.log.warn({ bufferedBytes: buffered }, 'partner stopped reading; dropping the connection');
      this.lastFailure = `stalled with ${buffered} bytes unread`;
      this.lastDrainCheck = { at: now, buffered: 0 };
      ws.terminate();
    } else {
      this.lastDrainCheck.buffered = Math.max(this.lastDrainCheck.buffered, buffered);
    }
  }

  // ---- close ------------------------------------------------------------

  close(): Promise<void> {
    if (this.closing) return Promise.resolve();
    this.closing = true;
    if (this.a.codec === 'pcm16') this.endSegment();
    const deadline = performance.now() + this.tune.closeTimeoutMs;
    return new Promise<void>((resolve) => {
      let finished = false;
      const finish = () => {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        this.doneWaiter = undefined;
        this.shutdown();
        resolve();
      };
      const timer = setTimeout(() => {
        this.log.warn({ unsentSec: (this.producedPos - this.connLastEnd) / this.a.rate }, 'partner close timed out');
        finish();
      }, Math.max(0, deadline - performance.now()));
      this.doneWaiter = () => {
        if (this.fatal || this.doneSeen) finish();
        else this.maybeFinish();
      };
      // A partner that never took a connection in the whole meeting will not
      // take the backlog now: account for it instead of holding the run's exit.
      if (!this.everOpened && !this.ws && this.reconnectTimer) return finish();
      this.pump();
      this.maybeFinish();
    });
  }

  /** Once everything is sent, ask the partner to finish (CloseStream / Terminate). */
  private maybeFinish(): void {
    if (!this.closing) return;
    if (this.fatal) return this.doneWaiter?.();
    const ws = this.ws;
    if (!ws || !this.open || this.closeSent) return;
    if (this.nextSendId < this.nextId) return this.schedulePump(20);
    const msg = this.a.closeMessage();
    this.closeSent = true;
    this.setState('closing');
    if (msg) ws.send(msg);
    else ws.close(1000);
  }

  private shutdown(): void {
    this.closed = true;
    if (this.state !== 'done' && this.state !== 'failed') this.setState('closed');
    clearInterval(this.ticker);
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    if (this.pumpTimer) clearTimeout(this.pumpTimer);
    const ws = this.ws;
    if (ws) {
      if (ws.readyState === WebSocket.OPEN) ws.close(1000);
      else ws.terminate();
      // Do not let a partner that never answers the close hold the process.
      setTimeout(() => ws.terminate(), 2000).unref();
    }
    // Whatever never reached a partner that confirmed it is a gap.
    if (this.fatalFrom !== undefined) this.reportSpan(this.fatalFrom, this.lastFrameEnd, this.fatal!);
    else this.reportGap(this.confirmedPos, this.producedPos);
    this.chunks = [];
    this.head = 0;
    this.bufferedSamples = 0;
  }

  abort(): void {
    if (this.closed) return;
    this.closing = true;
    this.doneWaiter?.();
    if (!this.closed) this.shutdown();
  }

  private setState(to: PartnerState, reason?: string): void {
    const from = this.state;
    if (from === to) return;
    this.state = to;
    this.d.onState?.({ partner: this.name, from, to, ...(reason && { reason: this.d.redact.text(reason) }), t: this.lastFrameEnd });
  }

  /** A partner message we could not use: logged once, counted, one event; the stream goes on. */
  private badMessage(err: unknown): void {
    this.badMessages++;
    if (this.badMessages > 1) return;
    const error = this.d.redact.error(err);
    this.log.warn({ error }, 'partner sent a message we could not use; ignoring it');
    this.d.onEvent({ t: this.lastFrameEnd, kind: 'partner_bad_message', durationMs: 0, frames: 0, detail: { partner: this.name, error } });
  }

  private outcome(): PartnerOutcome {
    const delivered = this.confirmedPos > 0 || this.doneSeen;
    if (this.fatal) return { delivered, problem: this.problem ?? 'refused', reason: this.fatal };
    if (!this.everOpened && this.attempt > 0 && this.lastFrameEnd > 0 && this.closed) {
      return { delivered, problem: 'never_connected', reason: `partner ${this.name}: never connected (${this.lastFailure || 'no answer'}) - check --partner-url and the network` };
    }
    return { delivered };
  }

  status(): PartnerStatus {
    const unsent = this.producedPos - (this.chunkById(this.nextSendId)?.pos ?? this.producedPos);
    return {
      name: this.name,
      provider: this.a.provider,
      codec: { name: this.a.codec === 'opus' ? 'opus' : 'linear16', sampleRate: this.a.rate, channels: this.a.channels },
      state: this.state,
      bytesSent: this.bytesSent,
      badMessages: this.badMessages,
      outcome: this.outcome(),
      connected: this.open,
      backlogSec: unsent / this.a.rate,
      audioSecSent: this.samplesSent / this.a.rate,
      reconnects: this.reconnects,
      sessionIds: [...this.sessionIds],
      gapsMs: Math.round(this.gapsMs),
    };
  }

  /** Replay-buffer occupancy in seconds (sent-unconfirmed plus unsent). */
  bufferedSec(): number {
    return this.bufferedSamples / this.a.rate;
  }

  error(): string | undefined {
    return this.fatal;
  }
}
