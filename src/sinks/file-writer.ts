/**
 * Positional, asynchronous file writes for the main thread: `write()` only
 * queues; libuv's thread pool does the I/O, one request at a time, with
 * contiguous queued buffers coalesced into one writev. `pendingBytes` is what
 * the disk has not taken yet, so the owner can cap it. The queue is FIFO, so a
 * header rewrite queued after some data lands only once that data is on disk.
 */
import { closeSync, fsync, close, openSync, write, writev } from 'node:fs';

/** Linux IOV_MAX is 1024; stay well under it. */
const MAX_COALESCE = 64;

interface Pending {
  buf: Uint8Array;
  position: number;
  done?: () => void;
}

export class AsyncFileWriter {
  /** Bytes queued but not yet written. */
  pendingBytes = 0;
  /** Bytes the kernel has accepted. */
  bytesWritten = 0;
  /** The first write error (e.g. ENOSPC); later writes are discarded and counted. */
  error: NodeJS.ErrnoException | null = null;
  bytesDiscarded = 0;

  private readonly fd: number;
  private readonly queue: Pending[] = [];
  private busy = false;
  private closed = false;
  private idleWaiters: Array<() => void> = [];

  /**
   * Opens (creating or truncating) `path` synchronously: call at start-up, never per frame.
   * `onError` hears of the first write error the moment it happens.
   */
  constructor(
    readonly path: string,
    private readonly onError?: (err: NodeJS.ErrnoException) => void,
  ) {
    this.fd = openSync(path, 'w');
  }

  /** Queues `buf` for `position`. `buf` must stay untouched until `done` runs. */
  write(buf: Uint8Array, position: number, done?: () => void): void {
    if (this.closed) throw new Error(`AsyncFileWriter: write after close (${this.path})`);
    if (this.error || buf.length === 0) {
      if (this.error) this.bytesDiscarded += buf.length;
      done?.();
      return;
    }
    this.queue.push({ buf, position, done });
    this.pendingBytes += buf.length;
    this.kick();
  }

  /** Resolves once everything queued so far is written (or discarded after an error). */
  drained(): Promise<void> {
    if (!this.busy && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Drains, fsyncs and closes. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.drained();
    this.closed = true;
    await new Promise<void>((resolve) => fsync(this.fd, () => resolve())); // best effort: the data is already written
    await new Promise<void>((resolve, reject) => close(this.fd, (err) => (err ? reject(err) : resolve())));
  }

  /** For a process that is exiting without awaiting `close()`. */
  closeSync(): void {
    if (!this.closed) closeSync(this.fd);
    this.closed = true;
  }

  private kick(): void {
    if (this.busy) return;
    const first = this.queue[0];
    if (!first) {
      for (const wake of this.idleWaiters.splice(0)) wake();
      return;
    }
    this.busy = true;
    let count = 1;
    let end = first.position + first.buf.length;
    while (count < this.queue.length && count < MAX_COALESCE && this.queue[count]!.position === end) {
      end += this.queue[count]!.buf.length;
      count++;
    }
    const onWritten = (err: NodeJS.ErrnoException | null, written: number) => this.written(err, written);
    if (count === 1) write(this.fd, first.buf, 0, first.buf.length, first.position, onWritten);
    else writev(this.fd, this.queue.slice(0, count).map((p) => p.buf), first.position, onWritten);
  }

  private written(err: NodeJS.ErrnoException | null, written: number): void {
    this.busy = false;
    if (err) {
      const first = !this.error;
      this.error ??= err;
      for (const p of this.queue.splice(0)) {
        this.bytesDiscarded += p.buf.length;
        p.done?.();
      }
      this.pendingBytes = 0;
      if (first) this.onError?.(err);
      this.kick();
      return;
    }
    this.bytesWritten += written;
    this.pendingBytes -= written;
    // A short write leaves the rest of a buffer queued at its new position.
    while (written > 0) {
      const p = this.queue[0]!;
      if (written >= p.buf.length) {
        written -= p.buf.length;
        this.queue.shift();
        p.done?.();
      } else {
        p.buf = p.buf.subarray(written);
        p.position += written;
        written = 0;
      }
    }
    this.kick();
  }
}
