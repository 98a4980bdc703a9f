/**
 * The true positive of the gap detector, on the real scheduler: the audio thread pinned to one
 * CPU, and a SCHED_FIFO loop on that CPU taking it for 150 ms every second (the shape of work a
 * normal thread cannot preempt). The thread really starves, so every burst must be a deadline
 * miss, a second apart, as late as the burst was long - and nothing is lost, since ffmpeg (free
 * to run on the other CPU) keeps filling the pipe. The false-positive side (real sources, no
 * starvation, no miss) is test/run-pulse.test.ts and test/run-stdin-chunks.test.ts.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MeetingEvent } from '../src/events';
import { parseStress, startStress } from '../src/repro/stress';
import type { RunSummary } from '../src/run/summary';
import { decode, seconds, SPEECH } from './fixtures/audio';
import { runEarshot } from './fixtures/cli';

const BURST_MS = 150;
const PERIOD_MS = 1000;
const RUN_SEC = 6;
const dirs: string[] = [];

async function underHog(extra: string[]): Promise<{ misses: MeetingEvent[]; summary: RunSummary; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'earshot-starve-'));
  dirs.push(dir);
  const hog = await startStress(parseStress(`irq-like:${BURST_MS}/${PERIOD_MS}@1`), (RUN_SEC + 2) * 1000);
  assert.ok(hog.effective, `the hog needs SCHED_FIFO (root or CAP_SYS_NICE): ${hog.notes.join('; ')}`);
  const r = await runEarshot(['run', '--input', `file:${SPEECH}`, '--record', dir, '--duration', `${RUN_SEC}s`, '--log-sink', 'null', '--rt-cpus', '1', ...extra]);
  hog.stop();
  assert.is(r.code, 0, r.stderr);
  const events: MeetingEvent[] = readFileSync(join(dir, 'events.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
  return { misses: events.filter((e) => e.kind === 'deadline_miss'), summary: JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')), dir };
}

test("a SCHED_FIFO hog on the audio thread's CPU is a deadline miss at every burst, and loses nothing", async () => {
  const { misses, summary, dir } = await underHog([]);
  // Misses of one burst (consecutive late wakes) count once, at the burst's first.
  const bursts = misses.filter((e, i) => i === 0 || e.t - misses[i - 1]!.t > 0.3);
  const shown = JSON.stringify(misses.map((e) => [e.t, e.detail?.maxLatenessMs]));
  assert.ok(bursts.length >= RUN_SEC - 1, `a miss at each of the ~${RUN_SEC} bursts: ${shown}`);
  for (let i = 1; i < bursts.length; i++) {
    const gap = bursts[i]!.t - bursts[i - 1]!.t;
    assert.ok(Math.abs(gap - PERIOD_MS / 1000) <= 0.1, `bursts a second apart, not ${gap.toFixed(3)} s: ${shown}`);
  }
  const worst = Math.max(...misses.map((e) => e.detail!.maxLatenessMs as number));
  assert.ok(worst >= BURST_MS * 0.6 && worst <= BURST_MS + 60, `as late as a burst is long (${BURST_MS} ms), not ${worst} ms: ${shown}`);
  assert.is(summary.dropouts, 0, 'late, not lost: the pipe held the input');
  assert.ok(Math.abs(seconds(decode(join(dir, 'audio.opus'))) - RUN_SEC) <= 0.02);
});

test('the same thread at a SCHED_FIFO priority above the hog is never late: the misses were the starvation', async () => {
  const { misses, summary } = await underHog(['--rt-policy', 'fifo:60']);
  assert.is(misses.length, 0, JSON.stringify(misses));
  assert.is(summary.dropouts, 0);
});

test.after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

test.run();
