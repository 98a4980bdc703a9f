/**
 * The receiving end of the page protocol (protocol.ts): a WebSocket server on loopback that
 * authenticates each page with the meeting's token, validates every message, and hands the
 * tracks, their audio (placed on the meeting timeline by the page's clock) and their WebRTC
 * statistics to a listener. A page's session outlives its connections: after a socket drop it
 * comes back with the same session id, learns what was acknowledged, and resends the rest; what
 * arrives twice is dropped here by sequence number. The token never reaches a log line.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { PageClock } from './clock';
import { MAX_MESSAGE_BYTES, parseAudio, parseText, type PageMessage, type TrackState } from './protocol';

const HELLO_TIMEOUT_MS = 5000;
const ACK_EVERY_MS = 100;
const PROBE_EVERY_MS = 5000;
const MAX_CONNECTIONS = 32;
const MAX_TRACKS_PER_PAGE = 256;

export interface PageTrack {
  /** Unique in the meeting: the page's session and the track's index in it. */
  readonly key: string;
  readonly trackId: string;
  label: string;
  state: TrackState;
}

export type TrackStats = Extract<PageMessage, { type: 'stats' }>;

/** What the meeting receives from its pages. Called on the main thread, in arrival order. */
export interface PageListener {
  track(t: PageTrack, change: 'added' | 'state' | 'label'): void;
  /** `position` is the timeline sample of pcm[0]; pcm is the listener's to keep. */
  audio(t: PageTrack, position: number, pcm: Int16Array): void;
  /** A second of `inbound-rtp` figures; `clock` maps the page's times onto the timeline. */
  stats(t: PageTrack, s: TrackStats, clock: PageClock): void;
}

export interface PageServerOptions {
  host: string;
  port: number;
  token: string;
  /** Our wall clock (performance.timeOrigin + now) at timeline sample 0. */
  originMs: number;
  log: Logger;
  listener: PageListener;
  now?: () => number;
}

export interface PageServerStats {
  connections: number;
  pages: number;
  refused: number;
  invalidMessages: number;
  duplicates: number;
  periods: number;
  /** Audio the pages dropped from their buffers (outage longer than they could hold). */
  pageDroppedSamples: number;
  clockSteps: number;
}

class Session {
  readonly clock: PageClock;
  readonly tracks = new Map<number, PageTrack>();
  /** Highest sequence number accepted. */
  lastSeq = -1;
  ackedSeq = -1;
  socket: WebSocket | undefined;
  droppedSamples = 0;
  constructor(readonly id: string, originMs: number) {
    this.clock = new PageClock(originMs);
  }
}

export class PageServer {
  private readonly wss: WebSocketServer;
  private readonly sessions = new Map<string, Session>();
  private readonly tokenDigest: Buffer;
  private readonly now: () => number;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly warned = new Set<string>();
  readonly counters: PageServerStats = { connections: 0, pages: 0, refused: 0, invalidMessages: 0, duplicates: 0, periods: 0, pageDroppedSamples: 0, clockSteps: 0 };

  private constructor(private readonly o: PageServerOptions, wss: WebSocketServer) {
    this.wss = wss;
    this.tokenDigest = digest(o.token);
    this.now = o.now ?? (() => performance.timeOrigin + performance.now());
    wss.on('connection', (ws) => this.accept(ws));
    this.timers.push(setInterval(() => this.ackAll(), ACK_EVERY_MS), setInterval(() => this.probeAll(), PROBE_EVERY_MS));
    for (const t of this.timers) t.unref();
  }

  static listen(o: PageServerOptions): Promise<PageServer> {
    return new Promise((resolve, reject) => {
      const wss = new WebSocketServer({ host: o.host, port: o.port, maxPayload: MAX_MESSAGE_BYTES, perMessageDeflate: false, clientTracking: true });
      wss.once('error', reject);
      wss.once('listening', () => {
        wss.off('error', reject);
        wss.on('error', (err) => o.log.error({ err }, 'page server failed'));
        resolve(new PageServer(o, wss));
      });
    });
  }

  /** ws://host:port/ as the capture script should dial it. */
  get url(): string {
    const a = this.wss.address() as AddressInfo;
    return `ws://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}/`;
  }

  /** Every track a page has announced (ended ones included). */
  tracks(): PageTrack[] {
    return [...this.sessions.values()].flatMap((s) => [...s.tracks.values()]);
  }

  /** The clocks of the pages (drift, steps) for the summary. */
  clocks(): Array<{ session: string; driftPpm: number; steps: number }> {
    return [...this.sessions.values()].map((s) => ({ session: s.id, driftPpm: s.clock.driftPpm, steps: s.clock.steps }));
  }

  close(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.ackAll();
    for (const ws of this.wss.clients) ws.close(1001, 'meeting over');
    return new Promise((resolve) => {
      const force = setTimeout(() => {
        for (const ws of this.wss.clients) ws.terminate();
      }, 500);
      this.wss.close(() => {
        clearTimeout(force);
        resolve();
      });
    });
  }

  private accept(ws: WebSocket): void {
    if (this.wss.clients.size > MAX_CONNECTIONS) {
      ws.close(1013, 'too many pages');
      return;
    }
    let session: Session | undefined;
    const hello = setTimeout(() => ws.close(4408, 'no hello'), HELLO_TIMEOUT_MS);
    ws.on('error', () => {}); // a reset socket: the close handler below sees it
    ws.on('close', () => {
      clearTimeout(hello);
      if (session?.socket === ws) session.socket = undefined;
    });
    ws.on('message', (data: RawData, isBinary: boolean) => {
      const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
      if (!session) {
        clearTimeout(hello);
        session = isBinary ? undefined : this.authenticate(ws, buf.toString('utf8'));
        return;
      }
      if (isBinary) this.onAudio(session, buf);
      else this.onText(session, buf.toString('utf8'));
    });
  }

  private authenticate(ws: WebSocket, text: string): Session | undefined {
    const m = parseText(text);
    if (typeof m === 'string' || m.type !== 'hello' || !timingSafeEqual(digest(m.token), this.tokenDigest)) {
      this.counters.refused++;
      this.warnOnce('refused', typeof m === 'string' ? `page connection refused: ${m}` : 'page connection refused: wrong token for this meeting (inject the capture script this meeting handed out)');
      ws.close(4401, 'unauthorised');
      return undefined;
    }
    let s = this.sessions.get(m.session);
    const known = !!s;
    if (!s) {
      s = new Session(m.session, this.o.originMs);
      if (m.anchor !== null) s.clock.adopt(m.anchor); // earshot restarted: keep the page's audio where it was
      this.sessions.set(m.session, s);
      this.counters.pages++;
    }
    s.socket?.close(4409, 'replaced by a new connection');
    s.socket = ws;
    this.counters.connections++;
    if (m.droppedSamples > s.droppedSamples) {
      this.counters.pageDroppedSamples += m.droppedSamples - s.droppedSamples;
      this.o.log.warn({ session: s.id, samples: m.droppedSamples - s.droppedSamples }, 'the page dropped audio it could not hold while disconnected');
      s.droppedSamples = m.droppedSamples;
    }
    this.o.log.info({ session: s.id, known, resumeAfter: s.lastSeq }, known ? 'page reconnected' : 'page connected');
    ws.send(JSON.stringify({ type: 'welcome', known, ackedSeq: s.lastSeq }));
    s.ackedSeq = s.lastSeq;
    // A few clock probes now (the best round trip wins), then one every PROBE_EVERY_MS.
    for (let i = 0; i < 5; i++) setTimeout(() => this.probe(s), i * 50).unref();
    return s;
  }

  private acceptSeq(s: Session, seq: number): boolean {
    if (seq === -1) return true;
    if (seq <= s.lastSeq) {
      this.counters.duplicates++;
      return false;
    }
    s.lastSeq = seq;
    return true;
  }

  private onAudio(s: Session, buf: Buffer): void {
    const p = parseAudio(buf);
    if (typeof p === 'string') return this.invalid(p);
    if (!this.acceptSeq(s, p.seq)) return;
    const t = s.tracks.get(p.index);
    if (!t) return this.invalid(`audio for track ${p.index}, which the page never announced`);
    this.counters.periods++;
    const steps = s.clock.steps;
    s.clock.observe(p.frame, p.pcm.length, p.pageMs);
    if (s.clock.steps !== steps) {
      this.counters.clockSteps++;
      this.o.log.warn({ session: s.id, driftPpm: Math.round(s.clock.driftPpm) }, 'page audio clock moved: participants re-placed on the timeline');
    }
    this.o.listener.audio(t, s.clock.position(p.frame), p.pcm);
  }

  private onText(s: Session, text: string): void {
    const m = parseText(text);
    if (typeof m === 'string') return this.invalid(m);
    if (m.type === 'time') return s.clock.probe(m.serverMs, m.pageMs, this.now());
    if (m.type === 'hello') return this.invalid('a second hello on one connection');
    if (!this.acceptSeq(s, m.seq)) return;
    const L = this.o.listener;
    if (m.type === 'track') {
      const known = s.tracks.get(m.index);
      if (known) {
        // A replay after earshot restarted, or a repeat: update what changed.
        if (known.label !== m.label) ((known.label = m.label), L.track(known, 'label'));
        if (known.state !== m.state) ((known.state = m.state), L.track(known, 'state'));
        return;
      }
      if (s.tracks.size >= MAX_TRACKS_PER_PAGE) return this.invalid(`more than ${MAX_TRACKS_PER_PAGE} tracks from one page`);
      const t: PageTrack = { key: `${s.id}/${m.index}`, trackId: m.trackId, label: m.label, state: m.state };
      s.tracks.set(m.index, t);
      return L.track(t, 'added');
    }
    const t = s.tracks.get(m.index);
    if (!t) return this.invalid(`${m.type} for track ${m.index}, which the page never announced`);
    if (m.type === 'state') {
      if (t.state === m.state) return;
      t.state = m.state;
      L.track(t, 'state');
    } else if (m.type === 'label') {
      if (t.label === m.label) return;
      t.label = m.label;
      L.track(t, 'label');
    } else L.stats(t, m, s.clock);
  }

  private invalid(reason: string): void {
    this.counters.invalidMessages++;
    this.warnOnce(reason.replace(/\d+/g, 'N'), `page message ignored: ${reason}`);
  }

  private warnOnce(key: string, msg: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.o.log.warn(msg);
  }

  private ackAll(): void {
    for (const s of this.sessions.values()) {
      if (!s.socket || s.lastSeq === s.ackedSeq || s.socket.readyState !== s.socket.OPEN) continue;
      const anchor = s.clock.anchorPageMs;
      s.socket.send(JSON.stringify({ type: 'ack', seq: s.lastSeq, anchor: Number.isNaN(anchor) ? null : anchor }));
      s.ackedSeq = s.lastSeq;
    }
  }

  private probeAll(): void {
    for (const s of this.sessions.values()) this.probe(s);
  }

  private probe(s: Session): void {
    if (s.socket?.readyState === s.socket?.OPEN) s.socket?.send(JSON.stringify({ type: 'time', serverMs: this.now() }));
  }
}

const digest = (token: string) => createHash('sha256').update(token).digest();
