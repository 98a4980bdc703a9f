/**
 * A partner emulator: a real WebSocket server on loopback that speaks
 * Deepgram live, AssemblyAI v3 or raw PCM, validates the handshake (path,
 * auth, params) as the service does, and runs a fault plan. Used by
 * `earshot partner`, the tests and the benches.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import WebSocket, { WebSocketServer } from 'ws';
import type { FaultPlan } from './faults';
import { AssemblyaiSession, DeepgramSession, RawSession, type Protocol, type Session, type SessionRecord } from './sessions';

export type { Protocol, SessionRecord } from './sessions';
export type { FaultPlan } from './faults';

export interface EmulatorOptions {
  protocol: Protocol;
  port?: number;
  host?: string;
  faults?: FaultPlan;
  /** Accept only this key (default: any non-empty key; raw: no key needed). */
  key?: string;
  /** Deepgram's NET-0001 window (ms), default 10 s. */
  inactivityMs?: number;
  onLog?(line: string): void;
}

export interface Emulator {
  readonly port: number;
  readonly url: string;
  readonly sessions: SessionRecord[];
  /** Handshakes refused, by HTTP status. */
  readonly rejected: number[];
  /** Cuts every open connection without a close frame. */
  dropAll(): void;
  close(): Promise<void>;
}

const PATHS: Record<Protocol, string | undefined> = { deepgram: '/v1/listen', assemblyai: '/v3/ws', raw: undefined };
const STATUS_TEXT: Record<number, string> = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 429: 'Too Many Requests' };

function refuse(socket: Duplex, status: number, message: string): void {
  const body = JSON.stringify({ err_code: STATUS_TEXT[status] ?? 'Error', err_msg: message });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Error'}\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/** The key a client presented, in each protocol's accepted places. */
function presentedKey(protocol: Protocol, req: IncomingMessage, query: URLSearchParams): string | undefined {
  const auth = req.headers.authorization;
  if (protocol === 'deepgram') {
    const m = auth ? /^(?:Token|Bearer)\s+(.+)$/i.exec(auth) : null;
    if (m) return m[1];
    // Browsers: Sec-WebSocket-Protocol: token, KEY
    const proto = String(req.headers['sec-websocket-protocol'] ?? '').split(',').map((s) => s.trim());
    if (proto[0] === 'token' && proto[1]) return proto[1];
    return undefined;
  }
  if (protocol === 'assemblyai') return auth || query.get('token') || undefined;
  const m = auth ? /^(?:Bearer|Token)\s+(.+)$/i.exec(auth) : null;
  return m ? m[1] : auth;
}

/** What the protocol requires of the query string; returns a reason to refuse, if any. */
function checkParams(protocol: Protocol, q: URLSearchParams): string | undefined {
  const rate = q.get('sample_rate');
  const positiveInt = (v: string | null) => v !== null && /^\d+$/.test(v) && Number(v) > 0;
  if (protocol === 'deepgram') {
    const enc = q.get('encoding');
    if (!enc) return 'the emulator needs raw audio: encoding=linear16 with sample_rate';
    if (enc !== 'linear16') return `encoding=${enc} is not emulated - use linear16`;
    if (!positiveInt(rate)) return 'sample_rate is required with encoding=linear16';
    if (q.has('channels') && !positiveInt(q.get('channels'))) return 'channels must be a positive integer';
    for (const b of ['interim_results', 'punctuate', 'smart_format', 'diarize', 'vad_events']) {
      const v = q.get(b);
      if (v !== null && v !== 'true' && v !== 'false') return `${b} must be true or false`;
    }
    return undefined;
  }
  if (protocol === 'assemblyai') {
    if (!positiveInt(rate)) return 'sample_rate is required';
    const enc = q.get('encoding') ?? 'pcm_s16le';
    if (enc !== 'pcm_s16le') return `encoding=${enc} is not emulated - use pcm_s16le`;
    if (q.has('channels') && q.get('channels') !== '1') return 'audio must be mono';
    return undefined;
  }
  return undefined;
}

export function startEmulator(opts: EmulatorOptions): Promise<Emulator> {
  const { protocol } = opts;
  const host = opts.host ?? '127.0.0.1';
  const faults = opts.faults ?? {};
  const sessions: SessionRecord[] = [];
  const rejected: number[] = [];
  const live = new Set<{ ws: WebSocket; session: Session }>();
  const fired = { drop: false, close: false, stall: false };
  const log = opts.onLog ?? (() => {});
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 16 << 20 });
  const server: Server = createServer((_req, res) => {
    res.writeHead(426, { 'Content-Type': 'text/plain' }).end('WebSocket endpoint\n');
  });

  server.on('upgrade', (req, socket, head) => {
    const u = new URL(req.url ?? '/', 'http://x');
    const q = u.searchParams;
    const no = (status: number, why: string) => {
      rejected.push(status);
      log(`refused ${status}: ${why}`);
      refuse(socket, status, why);
    };
    if (faults.reject) return no(faults.reject, 'fault plan: reject');
    const path = PATHS[protocol];
    if (path && u.pathname !== path) return no(404, `path ${u.pathname} - use ${path}`);
    const key = presentedKey(protocol, req, q);
    if (protocol !== 'raw' || opts.key) {
      if (!key || (opts.key && key !== opts.key)) return no(401, 'missing or invalid credentials');
    }
    const bad = checkParams(protocol, q);
    if (bad) return no(400, bad);
    const id = randomUUID();
    (req as IncomingMessage & { sessionId?: string }).sessionId = id;
    wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws, Object.fromEntries(q), id));
  });

  wss.on('headers', (headers, req) => {
    const id = (req as IncomingMessage & { sessionId?: string }).sessionId;
    if (protocol === 'deepgram' && id) headers.push(`dg-request-id: ${id}`);
  });

  function onConnection(ws: WebSocket, params: Record<string, string>, id: string): void {
    const session =
      protocol === 'deepgram'
        ? new DeepgramSession(ws, params, opts.inactivityMs)
        : protocol === 'assemblyai'
          ? new AssemblyaiSession(ws, params)
          : new RawSession(ws, params);
    if (protocol === 'deepgram') session.rec.id = id;
    sessions.push(session.rec);
    const entry = { ws, session };
    live.add(entry);
    log(`session ${session.rec.id} opened (${new URLSearchParams(params).toString()})`);
    const raw = (ws as unknown as { _socket: import('node:net').Socket })._socket;
    let readBytes = 0;
    const started = performance.now();
    ws.on('message', (data: Buffer, isBinary) => {
      if (isBinary) session.onBinary(data);
      else session.onText(data.toString());
      const t = session.audioSec;
      if (faults.dropAfterSec !== undefined && !fired.drop && t >= faults.dropAfterSec) {
        fired.drop = true;
        log(`fault: dropping session ${session.rec.id} at ${t.toFixed(2)} s`);
        session.rec.closeCode = 1006;
        session.rec.closedBy = 'server';
        raw.destroy();
        return;
      }
      if (faults.close && !fired.close && t >= faults.close.atSec) {
        fired.close = true;
        log(`fault: close ${faults.close.code} at ${t.toFixed(2)} s`);
        return session.end(faults.close.code, 'fault plan');
      }
      if (faults.stall && !fired.stall && t >= faults.stall.atSec) {
        fired.stall = true;
        log(`fault: stop reading at ${t.toFixed(2)} s`);
        raw.pause();
        if (faults.stall.forSec !== undefined) setTimeout(() => raw.resume(), faults.stall.forSec * 1000).unref();
        return;
      }
      if (faults.slowBytesPerSec) {
        readBytes += data.length;
        const ahead = readBytes / faults.slowBytesPerSec - (performance.now() - started) / 1000;
        if (ahead > 0.01) {
          raw.pause();
          setTimeout(() => raw.resume(), ahead * 1000).unref();
        }
      }
    });
    ws.on('close', (code) => {
      session.onClientClose(code);
      session.dispose();
      live.delete(entry);
      log(`session ${session.rec.id} closed ${session.rec.closeCode} by ${session.rec.closedBy} after ${session.audioSec.toFixed(2)} s of audio`);
    });
    ws.on('error', () => {});
  }

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      const addr = server.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      const path = PATHS[protocol] ?? '/';
      resolve({
        port,
        url: `ws://${host}:${port}${path}`,
        sessions,
        rejected,
        dropAll() {
          for (const { ws } of live) (ws as unknown as { _socket: import('node:net').Socket })._socket.destroy();
        },
        close() {
          for (const { ws, session } of live) {
            session.dispose();
            ws.terminate();
          }
          return new Promise<void>((res) => {
            wss.close();
            server.close(() => res());
            server.closeAllConnections();
          });
        },
      });
    });
  });
}
