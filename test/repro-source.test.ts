/**
 * The capture-device emulator against a real consumer that stops reading for
 * a second: the lost span it reports is where and how long the consumer's
 * gap really was, and every period is either delivered or reported lost.
 */
import { spawn } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, readFileSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { native } from '../src/native';
import { decodeToPcm, PERIOD_BYTES, type SourceReport } from '../src/repro/source';
import { ROOT } from '../src/paths';
import { UserError } from '../src/util/duration';

test('source emulator: a consumer that stops reading for 1 s loses that span, reported exactly', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'earshot-source-'));
  try {
    const pcm = await decodeToPcm(join(ROOT, 'samples', 'speech.wav'), 3000);
    assert.is(pcm.length, 3 * 48000 * 2, '3 s of 48 kHz s16le mono');
    writeFileSync(join(dir, 'pcm'), pcm);
    const fifo = join(dir, 'capture.fifo');
    native().mkfifo(fifo);
    const reportPath = join(dir, 'source.json');
    const child = spawn(process.execPath, [join(__dirname, '..', 'src', 'repro', 'source.js'), '--pcm', join(dir, 'pcm'), '--fifo', fifo, '--buffer-ms', '160', '--report', reportPath], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const exited = new Promise((r) => child.once('exit', r));
    await new Promise((r) => child.once('message', r));
    const fd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    const buf = Buffer.alloc(65536);
    let received = 0;
    let stalledAt = -1;
    const readAll = () => {
      for (;;) {
        try {
          const n = readSync(fd, buf, 0, buf.length, null);
          if (n === 0) return false;
          received += n;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'EAGAIN') return true;
          throw err;
        }
      }
    };
    const start = Date.now();
    for (;;) {
      if (stalledAt < 0 && Date.now() - start > 1000) {
        stalledAt = received;
        await new Promise((r) => setTimeout(r, 1000)); // the consumer stalls
      }
      if (!readAll()) break;
      await new Promise((r) => setTimeout(r, 5));
    }
    closeSync(fd);
    await exited;
    const report = JSON.parse(readFileSync(reportPath, 'utf8')) as SourceReport;

    assert.is(report.periods, 150);
    assert.is(report.deliveredPeriods + report.droppedPeriods, report.periods);
    assert.is(received, report.deliveredPeriods * PERIOD_BYTES, 'what the consumer read is exactly what was delivered');
    assert.is(report.drops.length, 1, JSON.stringify(report.drops));
    const drop = report.drops[0]!;
    const bufferedMs = (report.bufferBytes / 4096) * 2 * 20; // two periods per page
    // Lost: the stall minus what the device buffer held, give or take the reader's own jitter.
    assert.ok(drop.durationMs >= 1000 - bufferedMs - 60 && drop.durationMs <= 1000 - bufferedMs + 100, `lost ${drop.durationMs} ms`);
    // It starts where the consumer stopped plus what the buffer held (timeline seconds = samples / 48 kHz).
    const expectedStart = stalledAt / 2 + (bufferedMs / 1000) * 48000;
    assert.ok(Math.abs(drop.startSample - expectedStart) <= 2 * 960, `drop at ${drop.startSample}, expected ~${expectedStart}`);
    assert.is(drop.t, drop.startSample / 48000);
    assert.ok(report.scheduling.length > 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('decodeToPcm: an unreadable sample is a user error naming the file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'earshot-source-'));
  const bad = join(dir, 'bad.wav');
  writeFileSync(bad, 'not audio');
  try {
    await decodeToPcm(bad, 1000);
    assert.unreachable();
  } catch (err) {
    assert.instance(err, UserError);
    assert.match((err as Error).message, /bad\.wav cannot be decoded/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
