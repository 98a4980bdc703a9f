/**
 * A serial-console emulator: a pseudo-terminal whose master side is drained
 * at a UART's pace (default 115200 baud, 8N1 -> 11,520 B/s, token bucket with
 * a 16-byte burst like the 8250's FIFO). A process whose stdout is the slave
 * sees exactly what a VM's serial console does: Node writes to TTYs
 * synchronously, so console.log blocks once the tty buffer is full.
 *
 * The pty is held by a small python3 child (its `pty`/`os.openpty` are in the
 * standard library), so no native code is needed. It never opens the host's
 * /dev/ttyS* or /dev/console.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { constants, openSync } from 'node:fs';
import { createInterface } from 'node:readline';

const DRAINER = String.raw`
import json, os, select, sys, time, tty
rate = float(sys.argv[1]) / 10.0          # 8N1: ten bits on the wire per byte
capture = open(sys.argv[2], 'wb') if len(sys.argv) > 2 and sys.argv[2] else None
burst = 16.0                                # an 8250 UART's transmit FIFO
master, slave = os.openpty()
tty.setraw(slave)
print(os.ttyname(slave), flush=True)
total = lines = 0
tokens, last = 0.0, time.monotonic()
stdin_open, fast = True, False
while True:
    now = time.monotonic()
    tokens = min(tokens + (now - last) * rate, burst)
    last = now
    if not fast and tokens < 1.0:
        time.sleep((1.0 - tokens) / rate)
        continue
    watch = [master] + ([0] if stdin_open else [])
    r, _, _ = select.select(watch, [], [], 0.05)
    if 0 in r:
        cmd = os.read(0, 64)
        if b'fast' in cmd:
            fast = True
        if not cmd or b'close' in cmd:
            stdin_open = False
            if slave is not None:
                os.close(slave)
                slave = None
    if master in r:
        try:
            data = os.read(master, 65536 if fast else max(1, int(tokens)))
        except OSError:
            break                             # EIO: every writer closed and the buffer is empty
        if not data:
            break
        tokens -= len(data)
        total += len(data)
        lines += data.count(b'\n')
        if capture:
            capture.write(data)
if capture:
    capture.close()                           # before the report: the reader opens it next
print(json.dumps({"bytes": total, "lines": lines}), flush=True)
`;

export interface SerialConsoleOptions {
  /** Line rate in baud (8N1: baud / 10 bytes per second). Default 115200. */
  baud?: number;
  /** Save what the console displayed into this file. */
  capturePath?: string;
}

export interface SerialDrained {
  bytes: number;
  lines: number;
}

export class SerialConsole {
  private constructor(
    private readonly child: ChildProcess,
    /** The slave side, e.g. /dev/pts/3: open it and give it to a process as stdout. */
    readonly path: string,
    readonly baud: number,
    private readonly result: Promise<SerialDrained>,
  ) {}

  static async open(opts: SerialConsoleOptions = {}): Promise<SerialConsole> {
    const baud = opts.baud ?? 115200;
    const child = spawn('python3', ['-c', DRAINER, String(baud), opts.capturePath ?? ''], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const lines = createInterface({ input: child.stdout! });
    const it = lines[Symbol.asyncIterator]();
    const failed = new Promise<never>((_, reject) => {
      child.once('error', (err) => reject(new Error(`cannot start the serial-console emulator (python3): ${err.message}`)));
      child.once('exit', (code) => reject(new Error(`the serial-console emulator exited early (code ${code})`)));
    });
    failed.catch(() => {});
    const first = await Promise.race([it.next(), failed]);
    if (first.done || !first.value.startsWith('/dev/')) throw new Error('the serial-console emulator did not report its pty');
    const result = (async () => {
      for (;;) {
        const next = await Promise.race([it.next(), failed]);
        if (next.done) throw new Error('the serial-console emulator ended without a report');
        if (next.value.startsWith('{')) return JSON.parse(next.value) as SerialDrained;
      }
    })();
    result.catch(() => {});
    return new SerialConsole(child, first.value, baud, result);
  }

  /** Bytes per second the console drains. */
  get bytesPerSec(): number {
    return this.baud / 10;
  }

  /** Opens the slave side for writing (not as a controlling terminal). Caller closes it. */
  openWriter(): number {
    return openSync(this.path, constants.O_WRONLY | constants.O_NOCTTY);
  }

  /**
   * Stops holding the pty open; the emulator exits once every writer has
   * closed it and the buffer drained. `fast` drains what is left at full speed.
   */
  finish(opts: { fast?: boolean; timeoutMs?: number } = {}): Promise<SerialDrained> {
    if (this.child.stdin?.writable) {
      if (opts.fast) this.child.stdin.write('fast\n');
      this.child.stdin.end('close\n');
    }
    const timeoutMs = opts.timeoutMs ?? 30_000;
    return Promise.race([
      this.result,
      new Promise<SerialDrained>((_, reject) => {
        const t = setTimeout(() => {
          this.child.kill('SIGKILL');
          reject(new Error(`the serial console did not drain within ${timeoutMs} ms (a writer still holds it open?)`));
        }, timeoutMs);
        t.unref();
        this.result.finally(() => clearTimeout(t)).catch(() => {});
      }),
    ]);
  }

  kill(): void {
    this.child.kill('SIGKILL');
  }
}
