/**
 * Moves everything the ingest pipe holds into the audio loop, then lets the
 * loop's clock conceal what is still missing. Reading *before* concealing
 * matters: audio that is late but present is late, not lost.
 */
import { closeSync, constants, openSync } from 'node:fs';
import { native } from '../native';
import type { AudioLoop } from './audio-loop';

/** ~10 s of 48 kHz mono s16le: a stalled reader leaves input waiting, not lost. */
const PIPE_BYTES = 1 << 20;

export class InputPump {
  readonly fd: number;
  private readonly buf = Buffer.alloc(64 * 1024);
  private readonly pollIn = native().pollIn;
  private readonly readIn = native().readIn;

  /** `path` is the ingest FIFO, or '-' for our stdin (a pipe, socket or file), used as it is. */
  constructor(path: string) {
    if (path === '-') {
      // stdin's pipe belongs to the producer: a capture device's buffer is the device's size.
      this.fd = 0;
      return;
    }
    // Our FIFO is held open read-write, so that an ingest restart never shows us EOF.
    this.fd = openSync(path, constants.O_RDWR);
    native().setPipeSize(this.fd, PIPE_BYTES);
  }

  /**
   * Drains the input into `loop`; returns false at end of input (stdin closed).
   * Every read follows a poll that said readable, so a read never blocks. A read
   * that did not fill the buffer emptied the pipe: asking poll(2) again would
   * only cost a syscall per frame to hear "nothing more".
   */
  pump(loop: AudioLoop, nowNs: number): boolean {
    let n: number;
    do {
      n = this.readIn(this.fd, this.buf); // fs.readSync's checks and error context cost more than the read
      if (n === 0) return false; // only stdin can reach EOF
      if (n < 0) return true; // a non-blocking stdin with nothing after all
      loop.input(this.buf, n, nowNs);
    } while (n === this.buf.length && this.pollIn(this.fd, 0));
    return true;
  }

  close(): void {
    if (this.fd !== 0) closeSync(this.fd);
  }
}
