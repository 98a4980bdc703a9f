/**
 * A log sink: what pino writes each serialized record into. Every sink but
 * `console-sync` is asynchronous and bounded: `write()` only queues (or drops
 * and counts, when the queue already holds `maxBufferBytes`), and the bytes
 * move to the kernel off the caller's turn of the event loop.
 */
/** What a meeting's log sink did: records written and dropped (summary, metrics). */
export interface LogStats {
  sink: string;
  written: number;
  dropped: number;
}

export interface SinkCounts {
  /** Records handed to the kernel (file, tty, socket). */
  written: number;
  /** Records dropped because the sink was slower than the producer, or away. */
  dropped: number;
  /** Bytes queued or in flight right now (the bounded memory). */
  bufferedBytes: number;
  /** The most that was ever buffered; never above `maxBufferBytes` + one record. */
  peakBufferedBytes: number;
}

export interface LogSink {
  readonly name: string;
  readonly maxBufferBytes: number;
  /** Takes one serialized record (a line ending in "\n"). Never throws. */
  write(line: string): boolean;
  counts(): SinkCounts;
  /** Resolves once everything queued reached the kernel, or after `timeoutMs`. */
  flush(timeoutMs?: number): Promise<void>;
  close(timeoutMs?: number): Promise<void>;
}

/** 1 MiB: at 200 B a record, ~5,000 records, ~90 s of a 115200-baud console. */
export const DEFAULT_MAX_BUFFER_BYTES = 1 << 20;
/**
 * Bytes handed to one write(2)/socket write. Small enough that a write to a
 * 115200-baud console completes in ~3 s (records count as written per
 * batch), large enough that a fast file takes few syscalls.
 */
export const MAX_BATCH_BYTES = 32 * 1024;

/**
 * The queue every asynchronous sink shares: records in, batches out, and the
 * accounting (written, dropped, buffered) in one place.
 */
export abstract class BoundedSink implements LogSink {
  abstract readonly name: string;
  protected queue: string[] = [];
  protected queuedBytes = 0;
  /** The batch being written: its size still counts against the bound. */
  protected inflightBytes = 0;
  protected inflightRecords = 0;
  protected written = 0;
  protected dropped = 0;
  private peak = 0;
  private idleWaiters: Array<() => void> = [];
  protected closed = false;

  constructor(readonly maxBufferBytes = DEFAULT_MAX_BUFFER_BYTES) {}

  write(line: string): boolean {
    if (this.closed || this.queuedBytes + this.inflightBytes + line.length > this.maxBufferBytes) {
      this.dropped++;
      return false;
    }
    this.queue.push(line);
    this.queuedBytes += line.length;
    const buffered = this.queuedBytes + this.inflightBytes;
    if (buffered > this.peak) this.peak = buffered;
    this.kick();
    return true;
  }

  counts(): SinkCounts {
    return {
      written: this.written,
      dropped: this.dropped,
      bufferedBytes: this.queuedBytes + this.inflightBytes,
      peakBufferedBytes: this.peak,
    };
  }

  /** Starts moving bytes if the sink is idle and able; called after every enqueue. */
  protected abstract kick(): void;

  /** Takes up to MAX_BATCH_BYTES of queued records as one string, marking them in flight. */
  protected takeBatch(): string | undefined {
    if (this.queue.length === 0) return undefined;
    let n = 0;
    let bytes = 0;
    while (n < this.queue.length && (n === 0 || bytes + this.queue[n]!.length <= MAX_BATCH_BYTES)) {
      bytes += this.queue[n]!.length;
      n++;
    }
    const batch = this.queue.splice(0, n);
    this.queuedBytes -= bytes;
    this.inflightBytes = bytes;
    this.inflightRecords = n;
    return n === 1 ? batch[0] : batch.join('');
  }

  /** The batch in flight reached the kernel (ok) or was lost (not ok). */
  protected settleBatch(ok: boolean): void {
    if (ok) this.written += this.inflightRecords;
    else this.dropped += this.inflightRecords;
    this.inflightBytes = 0;
    this.inflightRecords = 0;
    if (this.queue.length === 0) this.notifyIdle();
  }

  /** Drops everything queued (the sink is gone for good). */
  protected dropQueued(): void {
    this.dropped += this.queue.length;
    this.queue = [];
    this.queuedBytes = 0;
  }

  protected isIdle(): boolean {
    return this.queue.length === 0 && this.inflightRecords === 0;
  }

  private notifyIdle(): void {
    if (!this.isIdle()) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  flush(timeoutMs = 5000): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      timer.unref();
      this.idleWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Waits at most `timeoutMs` (a slow console must not hold up the exit), then drops the rest. */
  async close(timeoutMs = 2000): Promise<void> {
    await this.flush(timeoutMs);
    this.closed = true;
    // Whatever is still queued after the timeout will never be written.
    this.dropQueued();
    this.release();
  }

  /** Frees the underlying fd/socket. */
  protected abstract release(): void;
}

/** `null`: every record is accepted and discarded (counted as written). */
export class NullSink implements LogSink {
  readonly name = 'null';
  readonly maxBufferBytes = 0;
  private n = 0;
  write(): boolean {
    this.n++;
    return true;
  }
  counts(): SinkCounts {
    return { written: this.n, dropped: 0, bufferedBytes: 0, peakBufferedBytes: 0 };
  }
  async flush(): Promise<void> {}
  async close(): Promise<void> {}
}
