/** Stressors are real child processes that stop by themselves at their deadline. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseStress, startStress } from '../src/repro/stress';
import { UserError } from '../src/util/duration';

test('parseStress: cpu:N[@CPUS] and irq-like[@CPU]', () => {
  assert.equal(parseStress('cpu:3'), { kind: 'cpu', count: 3, cpus: undefined, busyMs: 0, periodMs: 0 });
  assert.equal(parseStress('cpu:2@1').cpus, [1]);
  assert.equal(parseStress('irq-like'), { kind: 'irq-like', count: 1, cpus: [0], busyMs: 30, periodMs: 100 });
  assert.equal(parseStress('irq-like:60/200@1'), { kind: 'irq-like', count: 1, cpus: [1], busyMs: 60, periodMs: 200 });
  assert.throws(() => parseStress('irq-like:200/100'), /BUSY_MS\/PERIOD_MS/);
  assert.throws(() => parseStress('cpu'), (e: unknown) => e instanceof UserError);
  assert.throws(() => parseStress('disk:2'), /cpu:N, cpu:N@CPUS or irq-like/);
});

test('stressors stop by themselves at the deadline', async () => {
  for (const spec of ['cpu:1@0', 'irq-like']) {
    const s = await startStress(parseStress(spec), 600);
    assert.is(s.notes.length, 1);
    // Either it applied SCHED_FIFO, or it says it was refused and did not run.
    if (spec === 'irq-like') assert.ok(s.effective ? /fifo:50 30ms\/100ms/.test(s.notes[0]!) : /refused/.test(s.notes[0]!), s.notes[0]);
    else assert.match(s.notes[0]!, /cpu other cpus 0/);
    const t0 = Date.now();
    // No stop(): the children leave on their own once the deadline passes.
    await Promise.race([s.done, new Promise((_, reject) => setTimeout(() => reject(new Error(`${spec} still running`)), 5000).unref())]);
    assert.ok(Date.now() - t0 < 5000);
    s.stop();
  }
});

test.run();
