/**
 * Sequential byte readers over a file or a stream (ffmpeg's stdout), so that
 * one WAV parser serves both. Reads are into caller-owned buffers: memory stays
 * constant whatever the input's size.
 */
import type { Stats } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
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

/**
 * Why a path is not something the detector can read as a file (undefined when it is a regular
 * file): one line naming what it is and the fix. FIFOs and devices are refused rather than
 * read, since a pipe may never end and /dev/zero never does.
 */
export function notRegularFile(st: Stats): string | undefined {
  if (st.isFile()) return undefined;
  const what = st.isDirectory() ? 'a directory'
    : st.isFIFO() ? 'a FIFO (named pipe)'
    : st.isCharacterDevice() ? 'a character device'
    : st.isBlockDevice() ? 'a block device'
    : st.isSocket() ? 'a socket'
    : 'not a regular file';
  const fix = st.isDirectory() ? 'give the folder itself as PATH to search it'
    : 'earshot detect reads recorded files; save the stream to a file first (e.g. ffmpeg -i SOURCE out.wav)';
  return `is ${what}, not a file - ${fix}`;
}

export class FileByteReader implements ByteReader {
  position = 0;
  private constructor(
    private readonly fh: FileHandle,
    readonly size: number,
  ) {}

  static async open(path: string): Promise<FileByteReader> {
    // Look before opening: open(2) on a FIFO blocks until a writer comes, which may be never.
    const problem = notRegularFile(await stat(path));
    if (problem) throw Object.assign(new Error(problem), { code: 'ENOTREGULAR' });
    const fh = await open(path, 'r');
    try {
      const st = await fh.stat();
      const swapped = notRegularFile(st);
      if (swapped) throw Object.assign(new Error(swapped), { code: 'ENOTREGULAR' });
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
