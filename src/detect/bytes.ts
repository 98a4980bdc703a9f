/**
 * Sequential byte readers over a file or a stream (ffmpeg's stdout), so that
 * one WAV parser serves both. Reads are into caller-owned buffers: memory stays
 * constant whatever the input's size.
 */
import { open, type FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';

export interface ByteReader {
  /** Total bytes when known (files); undefined for streams. */
  readonly size: number | undefined;
  /** Bytes consumed so far (read or skipped). */
  readonly position: number;
  /** Fills `buf[0, len)`; returns fewer than `len` only at end of input. */
  read(buf: Buffer, len: number): Promise<number>;
  /** Advances by `n` bytes; returns how many were actually skipped (fewer at end of input). */
  skip(n: number): Promise<number>;
  close(): Promise<void>;
}

export class FileByteReader implements ByteReader {
  position = 0;
  private constructor(
    private readonly fh: FileHandle,
    readonly size: number,
  ) {}

  static async open(path: string): Promise<FileByteReader> {
    const fh = await open(path, 'r');
    try {
      const st = await fh.stat();
      if (!st.isFile()) throw Object.assign(new Error('not a regular file'), { code: 'EISDIR' });
      return new FileByteReader(fh, st.size);
    } catch (err) {
      await fh.close();
      throw err;
    }
  }

  async read(buf: Buffer, len: number): Promise<number> {
    let got = 0;
    while (got < len) {
      const { bytesRead } = await this.fh.read(buf, got, len - got, this.position);
      if (bytesRead === 0) break;
      got += bytesRead;
      this.position += bytesRead;
    }
    return got;
  }

  async skip(n: number): Promise<number> {
    // Seeking is free on a file; never read what we are told to skip.
    const step = Math.max(0, Math.min(n, this.size - this.position));
    this.position += step;
    return step;
  }

  close(): Promise<void> {
    return this.fh.close();
  }
}

/** Reads a Readable sequentially through its async iterator (pull-based, so backpressure holds). */
export class StreamByteReader implements ByteReader {
  readonly size = undefined;
  position = 0;
  private readonly it: AsyncIterator<Buffer>;
  private pending: Buffer | null = null;
  private ended = false;

  constructor(private readonly stream: Readable) {
    this.it = stream[Symbol.asyncIterator]();
  }

  private async chunk(): Promise<Buffer | null> {
    if (this.pending && this.pending.length > 0) return this.pending;
    if (this.ended) return null;
    const r = await this.it.next();
    if (r.done) {
      this.ended = true;
      return null;
    }
    this.pending = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value);
    return this.pending;
  }

  async read(buf: Buffer, len: number): Promise<number> {
    let got = 0;
    while (got < len) {
      const c = await this.chunk();
      if (!c) break;
      const n = Math.min(len - got, c.length);
      c.copy(buf, got, 0, n);
      this.pending = c.subarray(n);
      got += n;
    }
    this.position += got;
    return got;
  }

  async skip(n: number): Promise<number> {
    let done = 0;
    while (done < n) {
      const c = await this.chunk();
      if (!c) break;
      const k = Math.min(n - done, c.length);
      this.pending = c.subarray(k);
      done += k;
    }
    this.position += done;
    return done;
  }

  async close(): Promise<void> {
    this.ended = true;
    this.pending = null;
    this.stream.destroy();
  }
}
