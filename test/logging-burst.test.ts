/**
 * The property the whole logging domain exists for: a burst far beyond what
 * the sink drains (a 115200-baud serial console, emulated by a real pty) does
 * not stall the event loop, holds memory to the configured bound, and counts
 * exactly the records it could not write.
 */
import { closeSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createLogging, sinkOf } from '../src/logging';
import { ConsoleSyncSink } from '../src/logging/console-sync';
import { SerialConsole } from '../src/repro/serial';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/**
 * Time the calling thread spent asleep (blocked in a syscall) between two
 * readings: wall time minus time on CPU minus time waiting for a CPU. On a
 * loaded 2-core machine preemption makes wall time noisy; blocking is what a
 * sink can add, and it shows here regardless of load.
 */
function schedstat(): { wallNs: number; runNs: number; waitNs: number } {
  const [run, wait] = readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ').map(Number);
  return { wallNs: Number(process.hrtime.bigint()), runNs: run!, waitNs: wait! };
}
function blockedMs(a: ReturnType<typeof schedstat>, b: ReturnType<typeof schedstat>): number {
  return (b.wallNs - a.wallNs - (b.runNs - a.runNs) - (b.waitNs - a.waitNs)) / 1e6;
}

const RECORDS = 100_000;
const LIMIT = 32 * 1024;

test('100,000 records into an 11,520 B/s console: no stall, bounded memory, exact drop count', async () => {
  const capture = join(tmpdir(), `earshot-burst-${process.pid}.log`);
  const serial = await SerialConsole.open({ baud: 115200, capturePath: capture });
  try {
    await burst(serial, capture);
  } finally {
    serial.kill();
    rmSync(capture, { force: true });
  }
});

test('the legacy console-sync sink on the same console does block (the stall the test above rules out)', async () => {
  const serial = await SerialConsole.open({ baud: 115200 });
  const fd = serial.openWriter();
  try {
    const sink = new ConsoleSyncSink(fd);
    const line = JSON.stringify({ level: 10, msg: 'sent audio chunk to transcription partner', pad: 'x'.repeat(100) }) + '\n';
    const s0 = schedstat();
    // ~15 KB: more than the pty buffer holds, so the writes wait for the UART.
    for (let i = 0; i < 100; i++) sink.write(line);
    const blocked = blockedMs(s0, schedstat());
    assert.ok(blocked > 200, `console-sync blocked only ${blocked.toFixed(0)} ms`);
    console.log(`  console-sync: 100 records blocked the thread ${blocked.toFixed(0)} ms`);
  } finally {
    closeSync(fd);
    serial.kill();
  }
});

async function burst(serial: SerialConsole, capture: string): Promise<void> {
  const logging = createLogging({ sink: `file:${serial.path}`, maxBufferBytes: LIMIT, dropWarnIntervalMs: 1000 });
  const sink = sinkOf(logging)!;
  const log = logging.logger.child({ module: 'partners' });

  gc();
  const heapBefore = process.memoryUsage().heapUsed;
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  let slowestTurnMs = 0;
  let mostBlockedMs = 0;
  // The burst, 250 records per turn of the loop so that the loop keeps turning.
  for (let i = 0; i < RECORDS; i += 250) {
    const s0 = schedstat();
    const t0 = performance.now();
    for (let j = i; j < i + 250; j++) {
      log.info({ seq: j, bytes: 1920, partner: 'raw', state: 'streaming' }, 'sent audio chunk to transcription partner');
    }
    slowestTurnMs = Math.max(slowestTurnMs, performance.now() - t0);
    mostBlockedMs = Math.max(mostBlockedMs, blockedMs(s0, schedstat()));
    await new Promise((r) => setImmediate(r));
  }
  loop.disable();
  gc();
  const heapGrowth = process.memoryUsage().heapUsed - heapBefore;
  const counts = sink.counts();

  // The sink never put the thread to sleep: no stall over 20 ms that logging caused.
  assert.ok(mostBlockedMs < 20, `the event loop was blocked ${mostBlockedMs.toFixed(1)} ms in one turn`);
  const loopMaxMs = loop.max / 1e6;
  assert.ok(counts.peakBufferedBytes <= LIMIT, `buffered ${counts.peakBufferedBytes} B > limit ${LIMIT}`);
  // Heap growth: the bounded queue plus allocator noise, nowhere near the ~15 MB the burst produced.
  assert.ok(heapGrowth < LIMIT + 2 * 1024 * 1024, `heap grew ${heapGrowth} B`);
  assert.ok(counts.dropped > RECORDS * 0.9, `only ${counts.dropped} dropped`);

  // Let the console drain what was kept, so that the warning about the drops gets out too.
  while (sink.counts().bufferedBytes > LIMIT / 2) await new Promise((r) => setTimeout(r, 100));
  await new Promise((r) => setTimeout(r, 1200));
  await logging.close();
  const drained = await serial.finish({ fast: true });
  const final = logging.stats();
  const lines = readFileSync(capture, 'utf8').split('\n').filter(Boolean);
  const warnings = lines.filter((l) => l.includes('records dropped')).length;

  assert.is(drained.lines, final.written, 'every record counted as written reached the console');
  assert.is(final.written + final.dropped, RECORDS + warnings, 'drop count = records not written');
  assert.ok(warnings >= 1, 'a warning reported the drops once the sink recovered');
  const warn = JSON.parse(lines.find((l) => l.includes('records dropped'))!);
  assert.ok(warn.droppedTotal > 0);
  console.log(
    `  burst: ${RECORDS} records, written ${final.written}, dropped ${final.dropped}, peak buffer ${counts.peakBufferedBytes} B, ` +
      `heap +${(heapGrowth / 1024).toFixed(0)} KiB, blocked max ${mostBlockedMs.toFixed(1)} ms, ` +
      `loop delay max ${loopMaxMs.toFixed(1)} ms, slowest 250-record turn ${slowestTurnMs.toFixed(1)} ms (CPU, incl. preemption)`,
  );
}

test.run();
