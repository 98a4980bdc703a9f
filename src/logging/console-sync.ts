/**
 * `console-sync`: the LEGACY path, kept only to reproduce the serial-console
 * stall. Each record is written synchronously to fd 1, as console.log does to
 * a TTY: when fd 1 is a serial console at 115200 baud, the writer (and with it
 * the event loop) waits for the UART. It never drops, so it never protects
 * anything. Do not use it in production.
 */
import { writeSync } from 'node:fs';
import type { LogSink, SinkCounts } from './sink';

const sleeper = new Int32Array(new SharedArrayBuffer(4));

export class ConsoleSyncSink implements LogSink {
  readonly name = 'console-sync';
  readonly maxBufferBytes = 0;
  private written = 0;
  private dropped = 0;
  private broken = false;

  constructor(private readonly fd = 1) {}

  write(line: string): boolean {
    if (this.broken) {
      this.dropped++;
      return false;
    }
    let buf = Buffer.from(line);
    for (;;) {
      try {
        const n = writeSync(this.fd, buf);
        if (n === buf.length) break;
        buf = buf.subarray(n);
      } catch (err) {
        // A non-blocking fd (a pipe libuv opened) says EAGAIN: wait like a blocking write would.
        if ((err as NodeJS.ErrnoException).code === 'EAGAIN') {
          Atomics.wait(sleeper, 0, 0, 1);
          continue;
        }
        this.broken = true;
        this.dropped++;
        return false;
      }
    }
    this.written++;
    return true;
  }

  counts(): SinkCounts {
    return { written: this.written, dropped: this.dropped, bufferedBytes: 0, peakBufferedBytes: 0 };
  }
  async flush(): Promise<void> {}
  async close(): Promise<void> {}
}
