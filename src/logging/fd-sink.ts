/**
 * `file:PATH` and `stdout`: asynchronous writes of bounded batches to a file
 * descriptor. fs.write runs on libuv's thread pool, so a write that blocks (a
 * TTY or pty drained at serial-console speed) holds one pool thread, never the
 * event loop; one batch in flight at a time keeps that to a single thread.
 */
import { close, openSync, write } from 'node:fs';
import { UserError } from '../errors';
import { BoundedSink } from './sink';

/** How long to wait before retrying a non-blocking fd that said EAGAIN. */
const EAGAIN_RETRY_MS = 10;

export class FdSink extends BoundedSink {
  private pending: Buffer | undefined;
  private writing = false;
  private broken = false;

  constructor(
    readonly name: string,
    private readonly fd: number,
    maxBufferBytes: number | undefined,
    private readonly ownsFd: boolean,
  ) {
    super(maxBufferBytes);
  }

  static openFile(path: string, maxBufferBytes?: number): FdSink {
    let fd: number;
    // No parent folders made here: a typo in the path must fail the start, not log into a new tree.
    // (A log inside the recording folder works: the meeting makes that folder first.)
    try {
      fd = openSync(path, 'a');
    } catch (err) {
      throw new UserError(
        `--log-sink file:${path} cannot be opened (${(err as NodeJS.ErrnoException).code}) - pick a writable path in an existing folder, or another sink`,
        2,
        'ERR_SERVICE',
      );
    }
    return new FdSink(`file:${path}`, fd, maxBufferBytes, true);
  }

  static stdout(maxBufferBytes?: number): FdSink {
    return new FdSink('stdout', 1, maxBufferBytes, false);
  }

  protected kick(): void {
    if (this.writing || this.broken) return;
    const batch = this.takeBatch();
    if (batch === undefined) return;
    this.writing = true;
    this.pending = Buffer.from(batch);
    this.writePending();
  }

  private writePending(): void {
    const buf = this.pending!;
    write(this.fd, buf, 0, buf.length, null, (err, n) => {
      if (err) {
        if (err.code === 'EAGAIN' && !this.closed) {
          setTimeout(() => this.writePending(), EAGAIN_RETRY_MS).unref();
          return;
        }
        // EPIPE, EBADF, EIO (the pty went away): the sink is gone for good.
        this.broken = true;
        this.writing = false;
        this.pending = undefined;
        this.settleBatch(false);
        this.dropQueued();
        return;
      }
      if (n < buf.length) {
        this.pending = buf.subarray(n);
        this.writePending();
        return;
      }
      this.pending = undefined;
      this.writing = false;
      this.settleBatch(true);
      this.kick();
    });
  }

  override write(line: string): boolean {
    if (this.broken) {
      this.dropped++;
      return false;
    }
    return super.write(line);
  }

  protected release(): void {
    if (this.ownsFd && !this.writing) close(this.fd, () => {});
  }
}
