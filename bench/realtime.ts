/**
 * npm run bench:realtime -- [--duration 30] [--cpu 1]
 *
 * Frame lateness of the audio worker (p50/p99/p99.9/max and deadline misses)
 * for a real `earshot run`, idle and with 3 CPU hogs pinned to the audio core,
 * with and without --rt-nice -10; beside cyclictest (Debian rt-tests) run
 * with the same period (20 ms), core, policy, nice and load: the floor of
 * what any thread on this host can get.
 *
 * The input is raw PCM on stdin from bench/pacer.ts, a SCHED_FIFO writer on
 * another CPU that releases each 20 ms period on time (a sound card's DMA),
 * so the lateness measured is the audio worker's own. (Through ffmpeg's
 * arealtime pacing, the source's own jitter under load would dominate.)
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CLI, OUT } from '../src/paths';
import type { RunSummary } from '../src/run/summary';
import { fmt, have, quantile, startHogs, table } from './lib';

const { values } = parseArgs({ options: { duration: { type: 'string', default: '30' }, cpu: { type: 'string', default: '1' } } });
const SEC = Number(values.duration);
const CPU = Number(values.cpu);

async function earshot(nice: number | undefined): Promise<RunSummary> {
  const dir = mkdtempSync(join(tmpdir(), 'earshot-bench-rt-'));
  const sourceCpu = CPU === 0 ? 1 : 0;
  const pacer = spawn(process.execPath, [join(OUT, 'bench', 'pacer.js'), String(SEC), String(sourceCpu)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const args = [CLI, 'run', '--input', '-', '--duration', `${SEC}s`, '--record', dir, '--rt-cpus', String(CPU), '--log-sink', 'null'];
  if (nice !== undefined) args.push('--rt-nice', String(nice));
  const run = spawn(process.execPath, args, { stdio: [pacer.stdout!, 'ignore', 'pipe'] });
  let stderr = '';
  run.stderr!.on('data', (d) => (stderr += d));
  const code = await new Promise((resolve) => run.on('close', resolve));
  pacer.kill();
  if (code !== 0) throw new Error(`earshot run failed: ${stderr}`);
  const s = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as RunSummary;
  rmSync(dir, { recursive: true, force: true });
  return s;
}

/** cyclictest's wake-up latency on the same core and period, in ms. */
function cyclictest(nice: number | undefined): { p50: number; p99: number; p999: number; max: number } | undefined {
  if (!have('cyclictest')) return undefined;
  const args = ['-q', '-m', '-D', `${SEC}s`, '-i', '20000', '-a', String(CPU), '-t', '1', '--policy=other', '-p', '0', '-h', '100000'];
  const cmd = nice === undefined ? 'cyclictest' : 'nice';
  const r = spawnSync(cmd, nice === undefined ? args : ['-n', String(nice), 'cyclictest', ...args], { encoding: 'utf8' });
  const samples: number[] = [];
  for (const line of r.stdout.split('\n')) {
    const m = /^(\d{6})\s+(\d+)/.exec(line);
    if (m) for (let i = 0; i < Number(m[2]); i++) samples.push(Number(m[1]) / 1000);
  }
  const max = Number(/# Max Latencies:\s+(\d+)/.exec(r.stdout)?.[1] ?? NaN) / 1000;
  samples.sort((a, b) => a - b);
  return { p50: quantile(samples, 0.5), p99: quantile(samples, 0.99), p999: quantile(samples, 0.999), max };
}

async function main(): Promise<void> {
const rows: Array<Record<string, string | number>> = [];
for (const load of ['idle', '3 hogs on cpu ' + CPU]) {
  for (const nice of [undefined, -10]) {
    const stop = load === 'idle' ? () => {} : startHogs(3, CPU, SEC * 3 + 30);
    try {
      const s = await earshot(nice);
      const c = cyclictest(nice);
      rows.push({
        load,
        'rt-nice': nice ?? 0,
        'earshot p50': fmt(s.latenessMs.p50),
        p99: fmt(s.latenessMs.p99),
        'p99.9': fmt(s.latenessMs.p999),
        max: fmt(s.latenessMs.max),
        misses: s.deadlineMisses,
        dropouts: s.dropouts,
        'cyclictest p50': c ? fmt(c.p50) : 'n/a',
        'ct p99': c ? fmt(c.p99) : 'n/a',
        'ct p99.9': c ? fmt(c.p999) : 'n/a',
        'ct max': c ? fmt(c.max) : 'n/a',
        'p99 ratio': c ? fmt(s.latenessMs.p99 / Math.max(c.p99, 0.001), 2) : 'n/a',
      });
    } finally {
      stop();
    }
  }
}
console.log(`frame lateness (ms) over ${SEC} s runs; audio thread and cyclictest on cpu ${CPU}, 20 ms period, SCHED_OTHER; source: SCHED_FIFO pacer on the other cpu`);
console.log(table(rows));
const target = rows.filter((r) => r['rt-nice'] === -10);
const ok = target.every((r) => r.misses === 0 && (r['p99 ratio'] === 'n/a' || Number(r['p99 ratio']) <= 2));
console.log(`target (rt-nice -10: p99 within 2x of cyclictest, no deadline miss): ${ok ? 'MET' : 'NOT MET'}`);
}

void main();
