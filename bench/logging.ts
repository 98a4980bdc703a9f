/**
 * `npm run bench:logging`: records/s and event-loop delay max for each log
 * sink, against the emulated 115200-baud serial console and against /dev/null.
 * Each measurement is a child process whose stdout is the target (as in
 * production), producing records as fast as its event loop allows for a few
 * seconds, in turns of 100 records.
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createLogging } from '../src/logging';
import { SerialConsole } from '../src/repro/serial';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);

interface Result {
  offered: number;
  written: number;
  dropped: number;
  loopMaxMs: number;
  seconds: number;
}

async function child(sink: string): Promise<void> {
  const logging = createLogging({ sink, level: 'info' });
  const log = logging.logger.child({ module: 'partners' });
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  const start = performance.now();
  let offered = 0;
  while (performance.now() - start < SECONDS * 1000) {
    for (let i = 0; i < 100; i++) log.info({ seq: offered++, bytes: 1920, partner: 'raw', state: 'streaming' }, 'sent audio chunk to transcription partner');
    await new Promise((r) => setImmediate(r));
  }
  const seconds = (performance.now() - start) / 1000;
  loop.disable();
  const s = logging.stats();
  const result: Result = { offered, written: s.written, dropped: s.dropped, loopMaxMs: loop.max / 1e6, seconds };
  process.stderr.write(JSON.stringify(result) + '\n');
  // Do not wait for a slow console to drain: the figures are taken.
  process.exit(0);
}

function measure(sink: string, stdoutFd: number): Promise<Result> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [__filename, '--child', sink], { stdio: ['ignore', stdoutFd, 'pipe'] });
    let err = '';
    c.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
    c.once('exit', (code) => {
      const line = err.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve(JSON.parse(line) as Result);
      else reject(new Error(`bench child for ${sink} exited ${code}: ${err}`));
    });
  });
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'earshot-bench-log-'));
  const sockPath = join(dir, 'sink.sock');
  const server = createServer((c) => c.resume()).listen(sockPath);
  const rows: string[][] = [['sink', 'target', 'records/s offered', 'records/s written', 'dropped', 'loop delay max ms']];
  const targets: Array<{ name: string; open: () => Promise<{ fd: number; path: string; done: () => Promise<void> }> }> = [
    {
      name: 'serial console 115200',
      open: async () => {
        const serial = await SerialConsole.open({ baud: 115200 });
        const fd = serial.openWriter();
        return { fd, path: serial.path, done: async () => { closeSync(fd); await serial.finish({ fast: true }); } };
      },
    },
    {
      name: '/dev/null',
      open: async () => {
        const fd = openSync('/dev/null', 'w');
        return { fd, path: '/dev/null', done: async () => closeSync(fd) };
      },
    },
  ];
  for (const target of targets) {
    // socket and null do not write to the target: measured once.
    const sinks = target === targets[0] ? ['console-sync', 'stdout', 'file', 'socket', 'null'] : ['console-sync', 'stdout', 'file'];
    for (const sinkName of sinks) {
      const t = await target.open();
      // file:PATH writes to the same device the target names; socket goes to a local listener that discards.
      const sink = sinkName === 'file' ? `file:${t.path}` : sinkName === 'socket' ? `socket:${sockPath}` : sinkName;
      const r = await measure(sink, t.fd);
      await t.done();
      const targetName = sinkName === 'socket' ? 'unix listener' : sinkName === 'null' ? '-' : target.name;
      rows.push([sinkName, targetName, (r.offered / r.seconds).toFixed(0), (r.written / r.seconds).toFixed(0), String(r.dropped), r.loopMaxMs.toFixed(1)]);
      process.stderr.write(`  ${sinkName} -> ${targetName}: done\n`);
    }
  }
  server.close();
  rmSync(dir, { recursive: true, force: true });
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  console.log(`logging sinks, ${SECONDS} s each, records of ~190 B, 100 per event-loop turn`);
  for (const r of rows) console.log(r.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '));
}

if (process.argv[2] === '--child') void child(process.argv[3]!);
else main().catch((err) => {
  console.error(err);
  process.exit(1);
});
