/**
 * `socket:PATH`: newline-delimited JSON to a unix stream socket (a Fluent Bit
 * or Vector input). Connecting and writing are asynchronous; while the peer is
 * away records queue up to the bound and are then dropped and counted, and the
 * sink reconnects with a capped backoff. A batch lost with the connection is
 * counted as dropped; bytes the kernel had already accepted count as written.
 */
import { createConnection, type Socket } from 'node:net';
import { BoundedSink } from './sink';

const RECONNECT_MIN_MS = 50;
const RECONNECT_MAX_MS = 1000;

export class SocketSink extends BoundedSink {
  readonly name: string;
  private socket: Socket | undefined;
  private connected = false;
  private writing = false;
  private backoffMs = RECONNECT_MIN_MS;
  private timer: NodeJS.Timeout | undefined;
  /** Times a connection was (re)established, for tests and the summary. */
  connects = 0;

  constructor(
    private readonly path: string,
    maxBufferBytes?: number,
  ) {
    super(maxBufferBytes);
    this.name = `socket:${path}`;
    this.connect();
  }

  private connect(): void {
    this.timer = undefined;
    if (this.closed) return;
    const socket = createConnection({ path: this.path });
    this.socket = socket;
    socket.unref(); // logging must never keep the process alive
    socket.on('connect', () => {
      this.connected = true;
      this.connects++;
      this.backoffMs = RECONNECT_MIN_MS;
      this.kick();
    });
    socket.on('error', () => {}); // 'close' follows; the cause is the peer being away
    socket.on('close', () => {
      if (this.socket !== socket) return;
      this.connected = false;
      this.socket = undefined;
      if (this.writing) {
        this.writing = false;
        this.settleBatch(false);
      }
      this.scheduleReconnect();
    });
    // The peer should not talk back; drain anything it sends.
    socket.resume();
  }

  private scheduleReconnect(): void {
    if (this.closed || this.timer) return;
    this.timer = setTimeout(() => this.connect(), this.backoffMs);
    this.timer.unref();
    this.backoffMs = Math.min(this.backoffMs * 2, RECONNECT_MAX_MS);
  }

  protected kick(): void {
    if (!this.connected || this.writing) return;
    const batch = this.takeBatch();
    if (batch === undefined) return;
    this.writing = true;
    const socket = this.socket!;
    socket.write(batch, (err) => {
      if (this.socket !== socket || !this.writing) return; // already settled by 'close'
      this.writing = false;
      this.settleBatch(!err);
      if (!err) this.kick();
    });
  }

  /** True while a connection to the peer is up. */
  isConnected(): boolean {
    return this.connected;
  }

  protected release(): void {
    if (this.timer) clearTimeout(this.timer);
    this.socket?.end();
    this.socket = undefined;
  }
}
