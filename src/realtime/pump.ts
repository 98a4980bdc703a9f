/**
 * Moves everything the ingest pipe holds into the audio loop, then lets the
 * loop's clock conceal what is still missing. Reading *before* concealing
 * matters: audio that is late but present is late, not lost.
 */
import { closeSync, constants, openSync, readSync } from 'node:fs';
import { native } from '../native';
import type { AudioLoop } from './audio-loop';

/** ~10 s of 48 kHz mono s16le: a stalled reader leaves input waiting, not lost. */
const PIPE_BYTES = 1 << 20;

export class InputPump {
  readonly fd: number;
  private readonly buf = Buffer.alloc(64 * 1024);
  private readonly isFifo: boolean;

  constructor(path: string, isFifo: boolean) {
    // A FIFO is held open read-write so that an ingest restart never shows us EOF.
    this.fd = openSync(path, (isFifo ? constants.O_RDWR : constants.O_RDONLY) | constants.O_NONBLOCK);
    this.isFifo = isFifo;
    try {
      native().setPipeSize(this.fd, PIPE_BYTES);
    } catch {
      /* not a pipe (a file on stdin), or over pipe-max-size: the default size still works */
    }
  }

  /** Drains the pipe into `loop`; returns false at end of input (stdin closed). */
  pump(loop: AudioLoop, nowNs: number): boolean {
    for (;;) {
      let n: number;
      try {
        n = readSync(this.fd, this.buf, 0, this.buf.length, null);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EAGAIN') return true;
        throw err;
      }
      if (n === 0) return this.isFifo;
      loop.input(this.buf, n, nowNs);
      if (n < this.buf.length) return true;
    }
  }

  close(): void {
    closeSync(this.fd);
  }
}
