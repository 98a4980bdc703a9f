/**
 * `earshot repro` end to end on one short configuration: a real `earshot run`
 * fed by the source emulator, with its stdout on the emulated console; the
 * outputs carry DESIGN.md's repro.json fields and the HTML timeline.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CLI } from '../src/paths';

const FIELDS = [
  'name', 'realtimeThread', 'logSink', 'stress', 'rtNice', 'rtCpus', 'groundTruthDroppedMs', 'groundTruthDropEvents',
  'deadlineMisses', 'dropouts', 'detectedPops', 'eventLoopDelayMaxMs', 'logRecordsWritten', 'logRecordsDropped',
];

test('earshot repro --only "earshot default": repro.json, table and timeline', () => {
  const work = mkdtempSync(join(tmpdir(), 'earshot-repro-test-'));
  try {
    const r = spawnSync(process.execPath, [CLI, 'repro', '--duration', '3s', '--only', 'earshot default', '--work', work], { encoding: 'utf8', timeout: 120_000 });
    assert.is(r.status, 0, r.stderr);
    const report = JSON.parse(readFileSync(join(work, 'repro.json'), 'utf8'));
    const names = report.runs.map((x: { name: string }) => x.name);
    assert.ok(names.includes('earshot default'), names.join(', '));
    const run = report.runs.find((x: { name: string }) => x.name === 'earshot default');
    for (const f of FIELDS) assert.ok(f in run, `repro.json lacks ${f}`);
    assert.is(run.realtimeThread, 'worker');
    assert.is(run.logSink, 'file');
    assert.type(run.groundTruthDroppedMs, 'number');
    assert.ok(run.logRecordsWritten > 0, 'the chatty module logged through the file sink');
    assert.match(r.stdout, /configuration\s+dropped ms/);
    const html = readFileSync(join(work, 'repro.html'), 'utf8');
    assert.ok(html.includes('<svg') && html.includes('earshot default'));
    assert.ok(existsSync(join(work, 'earshot-default', 'console.txt')), 'stdout went to the emulated console');
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

test('earshot repro: flag errors are one line with the fix', () => {
  const r = spawnSync(process.execPath, [CLI, 'repro', '--only', 'nothing-like-this', '--duration', '3s'], { encoding: 'utf8' });
  assert.is(r.status, 2);
  assert.match(r.stderr, /^earshot: --only "nothing-like-this" matches no configuration/);
  const d = spawnSync(process.execPath, [CLI, 'repro', '--duration', '1s'], { encoding: 'utf8' });
  assert.is(d.status, 2);
  assert.match(d.stderr, /too short/);
});

test.run();
