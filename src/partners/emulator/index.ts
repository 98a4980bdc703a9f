/**
 * A partner emulator: a real WebSocket server on loopback that speaks any
 * registered provider's protocol. The server, the fault plan and the speech
 * segmenter are generic; the provider's folder supplies how keys are
 * presented and refused, the parameters it checks, extra HTTP endpoints
 * (Gladia's session set-up) and the session itself. Used by `earshot
 * partner`, the tests and the benches.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type RequestListener, type Server } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import WebSocket, { WebSocketServer } from 'ws';
import { providerNamed } from '../registry';
import type { EmulatorDef } from '../types';
import type { FaultPlan } from './faults';
import type { Session, SessionRecord } from './session';

export type { SessionRecord } from './session';
export type { FaultPlan } from './faults';

/** Largest message the emulator takes from a client (bytes): well above any audio chunk. */
export const EMULATOR_MAX_PAYLOAD = 1 << 20;

export interface EmulatorOptions {
  protocol: string;
  port?: number;
  host?: string;
  faults?: FaultPlan;
  /** Accept only this key (default: any non-empty key; raw: no key needed). */
  key?: string;
  /** Deepgram's NET-0001 window (ms), default 10 s. */
  inactivityMs?: number;
  /** Serve wss:// and https:// (official clients that insist on TLS: AssemblyAI's, OpenAI's). */
  tls?: { key: string | Buffer; cert: string | Buffer };
  onLog?(line: string): void;
}

export interface Emulator {
  readonly port: number;
  /** Where a client connects: the ws:// endpoint, or the http:// base for providers that set sessions up over HTTP. */
  readonly url: string;
  readonly sessions: SessionRecord[];
  /** Connections refused, by HTTP status (or the close code of an in-band refusal). */
  readonly rejected: number[];
  /** Cuts every open connection without a close frame. */
  dropAll(): void;
  close(): Promise<void>;
}

const STATUS_TEXT: Record<number, string> = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 429: 'Too Many Requests' };

function refuseHttp(socket: Duplex, status: number, message: string): void {
  const body = JSON.stringify({ err_code: STATUS_TEXT[status] ?? 'Error', err_msg: message });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Error'}\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

const rawSocket = (ws: WebSocket) => (ws as unknown as { _socket: import('node:net').Socket })._socket;

export function startEmulator(opts: EmulatorOptions): Promise<Emulator> {
  const def: EmulatorDef | undefined = providerNamed(opts.protocol)?.emulator;
  if (!def) return Promise.reject(new Error(`no emulator for protocol ${opts.protocol}`));
  const host = opts.host ?? '127.0.0.1';
  const faults = opts.faults ?? {};
  const sessions: SessionRecord[] = [];
  const rejected: number[] = [];
  const live = new Set<{ ws: WebSocket; session: Session }>();
  const fired = { drop: false, close: false, stall: false, malformed: false };
  let rateLimited = 0;
  const tokens = new Map<string, Record<string, string>>();
  const log = opts.onLog ?? (() => {});
  const keyOk = (k: string | undefined) => !!k && (!opts.key || k === opts.key);
  const takeRateLimit = () => faults.rateLimit !== undefined && rateLimited < faults.rateLimit && ++rateLimited > 0;
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: EMULATOR_MAX_PAYLOAD });
  let wsBase = '';

  const onRequest: RequestListener = (req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => {
      body += d;
      if (body.length > EMULATOR_MAX_PAYLOAD) req.destroy();
    });
    req.on('end', () => {
      const answer = def.http?.(req, body, { wsBase, keyOk, register: (t, p) => void tokens.set(t, p), rateLimited: takeRateLimit });
      if (!answer) return void res.writeHead(426, { 'Content-Type': 'text/plain' }).end('WebSocket endpoint\n');
      if (answer.status >= 400) rejected.push(answer.status);
      res.writeHead(answer.status, { 'Content-Type': 'application/json' }).end(JSON.stringify(answer.body));
    });
  };
  const server: Server = opts.tls ? createTlsServer(opts.tls, onRequest) : createServer(onRequest);

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const u = new URL(req.url ?? '/', 'http://x');
    const q = u.searchParams;
    const no = (status: number, why: string) => {
      rejected.push(status);
      log(`refused ${status}: ${why}`);
      refuseHttp(socket, status, why);
    };
    if (faults.reject) return no(faults.reject, 'fault plan: reject');
    if (def.path && u.pathname !== def.path) return no(404, `path ${u.pathname} - use ${def.path}`);
    const registered = tokens.get(q.get('token') ?? '');
    const keyPresented = registered ? opts.key ?? 'session-token' : def.key(req, q);
    const keyBad = def.keyRequired || opts.key ? !keyOk(keyPresented) : false;
    if (keyBad && !def.refuse?.key) return no(401, 'missing or invalid credentials');
    const rate = !keyBad && !registered && takeRateLimit();
    if (rate && !def.refuse?.rate) return no(429, 'fault plan: rate limit');
    const bad = def.checkParams?.(q);
    if (bad) return no(400, bad);
    const id = randomUUID();
    (req as IncomingMessage & { sessionId?: string }).sessionId = id;
    wss.handleUpgrade(req, socket, head, (ws) => {
      if (keyBad || rate) {
        rejected.push(keyBad ? 401 : 429);
        log(`refused in-band: ${keyBad ? 'key' : 'rate limit'}`);
        ws.on('error', () => {});
        return keyBad ? def.refuse!.key!(ws) : def.refuse!.rate!(ws);
      }
      onConnection(ws, { ...registered, ...Object.fromEntries(q) }, id);
    });
  });

  wss.on('headers', (headers, req) => {
    const id = (req as IncomingMessage & { sessionId?: string }).sessionId;
    if (id && def.upgradeHeaders) headers.push(...def.upgradeHeaders(id));
  });

  function onConnection(ws: WebSocket, params: Record<string, string>, id: string): void {
    const session = def!.session(ws, params, { id, inactivityMs: opts.inactivityMs });
    sessions.push(session.rec);
    const entry = { ws, session };
    live.add(entry);
    log(`session ${session.rec.id} opened (${new URLSearchParams(params).toString().replace(/token=[^&]*/, 'token=[redacted]')})`);
    const raw = rawSocket(ws);
    let readBytes = 0;
    let flooded = false;
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
      if (faults.malformedAtSec !== undefined && !fired.malformed && t >= faults.malformedAtSec) {
        fired.malformed = true;
        log(`fault: malformed message at ${t.toFixed(2)} s`);
        session.sendRaw(session.malformed());
      }
      if (faults.floodBytes && !flooded && t >= 1) {
        flooded = true;
        log(`fault: flooding a ${faults.floodBytes}-byte text frame`);
        session.sendRaw(`"${'x'.repeat(faults.floodBytes - 2)}"`);
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
    ws.on('error', (err) => log(`session ${session.rec.id}: ${err.message}`));
  }

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      const addr = server.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      wsBase = `${opts.tls ? 'wss' : 'ws'}://${host}:${port}`;
      const url = def.http ? `${opts.tls ? 'https' : 'http'}://${host}:${port}` : `${wsBase}${def.path ?? '/'}`;
      resolve({
        port,
        url,
        sessions,
        rejected,
        dropAll() {
          for (const { ws } of live) rawSocket(ws).destroy();
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
