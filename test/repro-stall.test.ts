/**
 * The serial-console stall, as `earshot repro` reproduces it: the legacy
 * configuration (audio on the event loop, synchronous logs to an emulated
 * 115200-baud console) still pops, and earshot still says where, within
 * ±20 ms of the audio the capture device really lost; the default
 * configuration, under the same log volume, has no deadline miss.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CLI } from '../src/paths';
import type { ReproRun } from '../src/repro/scenario';

const SECONDS = 6;

function repro(only: string): ReproRun {
  const work = mkdtempSync(join(tmpdir(), 'earshot-repro-stall-'));
  try {
    const r = spawnSync(process.execPath, [CLI, 'repro', '--duration', `${SECONDS}s`, '--only', only, '--work', work], { encoding: 'utf8', timeout: 120_000 });
    assert.is(r.status, 0, r.stderr);
    return (JSON.parse(readFileSync(join(work, 'repro.json'), 'utf8')) as { runs: ReproRun[] }).runs[0]!;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

test('legacy: the console stall loses audio, and every loss has a deadline miss or dropout within ±20 ms', () => {
  const run = repro('legacy');
  const drops = run.marks.groundTruth;
  assert.ok(drops.length > 0, 'the stall made the capture device overrun');
  assert.ok((run.deadlineMisses ?? 0) > 0, 'deadline misses: the event loop was late');
  // A loss still running in the last half second has no decision before the meeting ends (the jitter buffer holds
  // what follows it); the deadline miss where our stall began marks it, 40 ms (the device buffer) earlier.
  const decided = drops.filter((d) => d.t + d.durationMs / 1000 < SECONDS - 0.6);
  const near = (t: number) => run.marks.runtime.some((e) => (e.kind === 'dropout' || e.kind === 'deadline_miss') && Math.round(Math.abs(e.t - t) * 1000) <= 20);
  assert.ok(decided.length > 0);
  for (const d of decided) assert.ok(near(d.t), `a runtime event within ±20 ms of the loss at ${d.t} s: ${JSON.stringify(run.marks.runtime)}`);
});

test('earshot default: the same log volume, no loss and no deadline miss', () => {
  const run = repro('earshot default');
  assert.is(run.groundTruthDroppedMs, 0);
  assert.is(run.deadlineMisses, 0, JSON.stringify(run.marks.runtime));
  assert.is(run.dropouts, 0);
});

test.run();
