/**
 * npm run bench:realtime -- [--duration 30] [--cpu 1]
 *
 * Frame lateness of the audio worker (p50/p99/p99.9/max and deadline misses)
 * for a real `earshot run`, idle and with 3 CPU hogs pinned to the audio core,
 * with and without --rt-nice -10; beside cyclictest (Debian rt-tests) run
 * with the same period (20 ms), core, policy, nice and load: the floor of
 * what any thread on this host can get.
 *
 * The input is raw PCM on stdin from bench/pacer.c (compiled here with cc), a
 * SCHED_FIFO writer on the other CPU using cyclictest's own timing method, so
 * that the lateness measured is the audio worker's: through ffmpeg's arealtime
 * pacing, or a pacer in JS, the source's own jitter would dominate. The
 * pacer's lateness is printed too: the worker cannot be earlier than its input.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CLI, ROOT } from '../src/paths';
import type { RunSummary } from '../src/run/summary';
import { fmt, have, quantile, startHogs, table } from './lib';

const { values } = parseArgs({ options: { duration: { type: 'string', default: '30' }, cpu: { type: 'string', default: '1' } } });
const SEC = Number(values.duration);
const CPU = Number(values.cpu);

/** Compiles one of the bench's C helpers into the temp folder. */
function build(name: string): string {
  const bin = join(tmpdir(), `earshot-bench-${name}`);
  const r = spawnSync('cc', ['-O2', '-o', bin, join(ROOT, 'bench', `${name}.c`), '-lm'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`bench:realtime needs a C compiler for bench/${name}.c: ${r.stderr || r.error}`);
  return bin;
}

/** The same pacer into the bare C poll reader: the floor for a pipe-woken thread here. */
async function pollReader(pacer: string, reader: string, nice: number | undefined): Promise<Quantiles> {
  const source = spawn(pacer, [String(SEC), String(CPU === 0 ? 1 : 0)], { stdio: ['ignore', 'pipe', 'ignore'] });
  const cmd = nice === undefined ? [reader, String(SEC), String(CPU)] : ['nice', '-n', String(nice), reader, String(SEC), String(CPU)];
  const run = spawn(cmd[0]!, cmd.slice(1), { stdio: [source.stdout!, 'pipe', 'inherit'] });
  source.stdout!.destroy();
  let out = '';
  run.stdout!.on('data', (d) => (out += d));
  await new Promise((resolve) => run.on('close', resolve));
  source.kill();
  return JSON.parse(out) as Quantiles;
}

type Quantiles = { p50: number; p99: number; p999: number; max: number };
type SourceFigures = Quantiles & { drops: number };

async function earshot(pacer: string, nice: number | undefined): Promise<{ s: RunSummary; source: SourceFigures }> {
  const dir = mkdtempSync(join(tmpdir(), 'earshot-bench-rt-'));
  const sourceCpu = CPU === 0 ? 1 : 0;
  const source = spawn(pacer, [String(SEC), String(sourceCpu)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let jitter = '';
  source.stderr!.on('data', (d) => (jitter += d));
  const sourceDone = new Promise((resolve) => source.on('close', resolve));
  const args = [CLI, 'run', '--input', '-', '--duration', `${SEC}s`, '--record', dir, '--rt-cpus', String(CPU), '--log-sink', 'null'];
  if (nice !== undefined) args.push('--rt-nice', String(nice));
  const run = spawn(process.execPath, args, { stdio: [source.stdout!, 'ignore', 'pipe'] });
  source.stdout!.destroy(); // the child has the read end now; ours would keep the pipe open after it exits
  let stderr = '';
  run.stderr!.on('data', (d) => (stderr += d));
  const code = await new Promise((resolve) => run.on('close', resolve));
  await sourceDone; // it stops at its first failed write
  if (code !== 0) throw new Error(`earshot run failed: ${stderr}`);
  const s = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as RunSummary;
  rmSync(dir, { recursive: true, force: true });
  return { s, source: JSON.parse(jitter.trim().split('\n').pop()!) as SourceFigures };
}

/** cyclictest's wake-up latency on the same core and period, in ms. */
function cyclictest(nice: number | undefined): Quantiles | undefined {
  if (!have('cyclictest')) return undefined;
  const args = ['-q', '-m', '-D', `${SEC}s`, '-i', '20000', '-a', String(CPU), '-t', '1', '--policy=other', '-p', '0', '-h', '100000'];
  const cmd = nice === undefined ? 'cyclictest' : 'nice';
  // The histogram alone is ~1.4 MB of text: spawnSync's default 1 MB buffer would cut off the summary.
  const r = spawnSync(cmd, nice === undefined ? args : ['-n', String(nice), 'cyclictest', ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });
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
const pacer = build('pacer');
const reader = build('poll-reader');
const rows: Array<Record<string, string | number>> = [];
for (const load of ['idle', '3 hogs on cpu ' + CPU]) {
  for (const nice of [undefined, -10]) {
    const stop = load === 'idle' ? () => {} : startHogs(3, CPU, SEC * 3 + 30);
    try {
      const { s, source } = await earshot(pacer, nice);
      const floor = await pollReader(pacer, reader, nice);
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
        'source p99': fmt(source.p99),
        'source drops': source.drops,
        'C reader p99': fmt(floor.p99),
        'vs C': fmt(s.latenessMs.p99 / Math.max(floor.p99, 0.001), 2),
        'cyclictest p50': c ? fmt(c.p50) : 'n/a',
        'ct p99': c ? fmt(c.p99) : 'n/a',
        'ct p99.9': c ? fmt(c.p999) : 'n/a',
        'ct max': c ? fmt(c.max) : 'n/a',
        'vs ct': c ? fmt(s.latenessMs.p99 / Math.max(c.p99, 0.001), 2) : 'n/a',
      });
    } finally {
      stop();
    }
  }
}
console.log(`frame lateness (ms) over ${SEC} s runs; audio thread and cyclictest on cpu ${CPU}, 20 ms period, SCHED_OTHER; source: SCHED_FIFO C pacer on the other cpu (its own write lateness: source p99)`);
console.log(table(rows));
const target = rows.filter((r) => r['rt-nice'] === -10);
const met = (col: string) => target.every((r) => r.misses === 0 && (r[col] === 'n/a' || Number(r[col]) <= 2));
console.log(`vs C: earshot p99 / the bare C poll reader's p99 on the same pipe, CPU, nice and load (the like-for-like floor);`);
console.log(`vs ct: earshot p99 / cyclictest's p99 (timer wake-ups, which in this VM are far tighter than pipe wake-ups)`);
console.log(`target (rt-nice -10: p99 within 2x of cyclictest, no deadline miss): ${met('vs ct') ? 'MET' : 'NOT MET'}`);
console.log(`like-for-like (rt-nice -10: p99 within 2x of the C poll reader, no deadline miss): ${met('vs C') ? 'MET' : 'NOT MET'}`);
}

void main();
