/**
 * npm run bench:density -- [--counts 1,10,20,40] [--max] [--duration 60s] [--codec linear16|opus]
 *                          [--run-args "--rt-nice -10"]
 *
 * The cost of a meeting at fleet density, as production runs it: N meetings as N separate
 * `earshot run` processes (bin/earshot, its ffmpeg child each), each recording and streaming to
 * one Deepgram emulator on loopback (one emulator process for all; its CPU is shown apart), fed
 * by a real-time source (a long speech file paced at real time). Beside each N, the same N of
 * the record-only path other bots run: `ffmpeg -af arealtime ... -c:a libopus out.ogg` on the
 * same input. Starts are staggered (at most 500 ms apart, the ramp at most 20 s), as a fleet's
 * meetings do not all start in the same second. That baseline paces the file as ffmpeg decodes
 * it (speech.wav's 256 ms packets: 4 wakes a second), where a live capture delivers every 20 ms
 * and earshot wakes for each frame; so a second baseline paces the same command per 20 ms
 * (`aresample=48000,asetnsamples=n=960,arealtime`: 50 wakes a second), as ffmpeg recording a
 * live 20 ms source would. Per N:
 * - CPU per meeting-minute in the steady state (from 5 s after the last start to 2 s before the
 *   first end; earshot = node + its ffmpeg), and the start-up CPU (until the first frame was
 *   recorded; ffmpeg: until its first output packet, measured on a probe copy);
 * - RSS per meeting (node: peak VmRSS, and the largest VmRSS sampled as anonymous + file-backed; PSS
 *   in the steady state, shared pages divided), beside the floor under it: node with one worker
 *   isolate that loaded libopus (bench/node-floor.ts), started as bin/earshot starts node;
 * - deadline misses and dropouts (all meetings; and how many fell in the start ramp);
 * - capture -> send p99 of the partner (median and worst meeting);
 * - start to first frame recorded (median, worst) against ffmpeg's own start to first packet.
 * `--max` goes on past the last count (+10 each) until a run has a deadline miss or a dropout:
 * the largest clean N is what this machine holds. Run it alone: `flock /work/locks/cpu npm run bench:density`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT } from '../src/paths';
import type { RunSummary } from '../src/run/summary';
import { parseDuration } from '../src/util/duration';
import { tempDir } from '../test/tmp';
import { fmt, quantile, table } from './lib';
import { startChildEmulator, stopChild } from './partners-child';
import { childrenOf, cpuSec, pssMb, rssMb, threadCpuSec } from './procstat';

const SAMPLE_MS = 500;
const EARSHOT = join(ROOT, 'bin', 'earshot');

interface Run {
  pid: number;
  proc: ChildProcess;
  spawnedAt: number;
  dir: string;
  /** [ms since the batch began, CPU s of the process and its children, of its children alone] */
  samples: Array<[number, number, number]>;
  children: Map<number, number>;
  rssPeak: number;
  /** The largest VmRSS sampled, with its anonymous and file-backed parts. */
  rssTop?: { rss: number; anon: number; file: number };
  pss?: number;
  /** CPU s by thread (and 'ffmpeg') at the steady window's start and end. */
  threads: Array<Map<string, number>>;
  exited: Promise<void>;
}

const median = (xs: number[]) => quantile([...xs].sort((a, b) => a - b), 0.5);
const max = (xs: number[]) => (xs.length ? Math.max(...xs) : NaN);

/** Spawns `n` copies of a command, staggered, samples them until all exit. */
async function batch(n: number, stagger: number, cmd: (i: number, dir: string) => [string, string[]], root: string, window: [number, number]) {
  mkdirSync(root, { recursive: true });
  const t0 = performance.now();
  const runs: Run[] = [];
  const scan = { last: -Infinity };
  const sampler = setInterval(() => sampleAll(runs, t0, window, scan), SAMPLE_MS);
  for (let i = 0; i < n; i++) {
    const dir = join(root, String(i));
    const [file, args] = cmd(i, dir);
    const proc = spawn(file, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    proc.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
    const exited = new Promise<void>((resolve) =>
      proc.on('exit', (code) => {
        if (code !== 0) process.stderr.write(`density: ${file} #${i} exited ${code}: ${stderr.trim().split('\n').pop()}\n`);
        resolve();
      }),
    );
    runs.push({ pid: proc.pid!, proc, spawnedAt: performance.now() - t0, dir, samples: [], children: new Map(), rssPeak: 0, threads: [], exited });
    if (i < n - 1) await sleep(stagger);
  }
  await Promise.all(runs.map((r) => r.exited));
  clearInterval(sampler);
  return runs;
}

/** `scan.last`: when this batch last looked for the runs' children (ms since it began). */
function sampleAll(runs: Run[], t0: number, window: [number, number], scan: { last: number }): void {
  const t = performance.now() - t0;
  if (t - scan.last > 1000 && runs.some((r) => r.children.size === 0)) {
    scan.last = t;
    for (const [parent, kids] of childrenOf(new Set(runs.map((r) => r.pid)))) {
      const r = runs.find((x) => x.pid === parent)!;
      for (const k of kids) if (!r.children.has(k)) r.children.set(k, 0);
    }
  }
  for (const r of runs) {
    const own = cpuSec(r.pid);
    if (own === undefined) continue;
    for (const k of r.children.keys()) {
      const c = cpuSec(k);
      if (c !== undefined) r.children.set(k, c);
    }
    const kids = [...r.children.values()].reduce((a, b) => a + b, 0);
    r.samples.push([t, own + kids, kids]);
    const m = rssMb(r.pid);
    if (m) r.rssPeak = Math.max(r.rssPeak, m.peak);
    if (m && m.rss > (r.rssTop?.rss ?? 0)) r.rssTop = m;
    // At the steady window's start and end: the per-thread split; PSS once inside it.
    if (r.threads.length === 0 ? t >= window[0] : r.threads.length === 1 && t >= window[1] - SAMPLE_MS) {
      const th = threadCpuSec(r.pid);
      for (const k of r.children.keys()) th.set('ffmpeg', (th.get('ffmpeg') ?? 0) + (cpuSec(k) ?? 0));
      r.threads.push(th);
    }
    if (r.pss === undefined && t > window[0] + 1000 && t < window[1]) r.pss = pssMb(r.pid);
  }
}

/** CPU s at time t (ms), from the nearest sample; `col` 1: the process and its children, 2: its children. */
function cpuAt(r: Run, t: number, col: 1 | 2): number {
  let best = r.samples[0]!;
  for (const s of r.samples) if (Math.abs(s[0] - t) < Math.abs(best[0] - t)) best = s;
  return best[col];
}

/** CPU seconds per minute between window[0] and window[1] (`col` as in cpuAt). */
function steadyPerMin(r: Run, window: [number, number], col: 1 | 2 = 1): number {
  return ((cpuAt(r, window[1], col) - cpuAt(r, window[0], col)) / (window[1] - window[0])) * 60_000;
}

/** CPU s at the first sample at or after `t` (ms since the batch began). */
function cpuAfter(r: Run, t: number): number {
  return (r.samples.find((s) => s[0] >= t) ?? r.samples[r.samples.length - 1]!)[1];
}

/** ms from spawn to the first audio page of an ffmpeg writing 20 ms Ogg pages to stdout: its own start to first packet. */
function ffmpegFirstPacket(input: string): Promise<number> {
  const t0 = performance.now();
  const p = spawn('ffmpeg', ['-hide_banner', '-nostdin', '-loglevel', 'error', '-i', input, '-t', '3', '-af', 'arealtime', '-ac', '1', '-ar', '48000',
    '-c:a', 'libopus', '-b:a', '64k', '-page_duration', '20000', '-flush_packets', '1', '-f', 'ogg', 'pipe:1'], { stdio: ['ignore', 'pipe', 'ignore'] });
  return new Promise((resolve) => {
    let pages = 0;
    p.stdout!.on('data', (d: Buffer) => {
      for (let i = d.indexOf('OggS'); i >= 0; i = d.indexOf('OggS', i + 4)) pages++;
      // OpusHead, OpusTags, then the first audio page.
      if (pages >= 3 && p.exitCode === null) {
        resolve(performance.now() - t0);
        p.kill('SIGKILL');
      }
    });
    p.on('exit', () => resolve(NaN));
  });
}

function summaryOf(dir: string): RunSummary | undefined {
  const f = join(dir, 'summary.json');
  return existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8')) as RunSummary) : undefined;
}

/** Deadline misses and dropouts whose time on the meeting's timeline fell in the start ramp (batch ms). */
function rampEvents(dir: string, spawnedAt: number, rampEndMs: number): number {
  const f = join(dir, 'events.jsonl');
  if (!existsSync(f)) return 0;
  const lines = readFileSync(f, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { kind: string; t: number });
  return lines.filter((e) => (e.kind === 'deadline_miss' || e.kind === 'dropout') && spawnedAt + e.t * 1000 < rampEndMs).length;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Starts bench/node-floor.js as bin/earshot's first line starts node (its env and flags), once it is ready. */
async function startFloor(): Promise<ChildProcess> {
  const [interp, ...rest] = readFileSync(EARSHOT, 'utf8').split('\n')[0]!.slice(2).trim().split(' ');
  const script = join(__dirname, 'node-floor.js');
  // As the kernel runs an interpreter line: what follows the interpreter is one argument, then the script.
  const proc = spawn(interp!, rest.length ? [rest.join(' '), script] : [script], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    proc.stdout!.once('data', () => resolve());
    proc.once('exit', (code) => reject(new Error(`bench/node-floor exited ${code}`)));
  });
  return proc;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      counts: { type: 'string', default: '1,10,20,40' },
      max: { type: 'boolean', default: false },
      duration: { type: 'string', default: '60s' },
      codec: { type: 'string', default: 'linear16' },
      'run-args': { type: 'string', default: '' },
    },
  });
  const durationMs = parseDuration(values.duration!);
  const root = tempDir('earshot-bench-density-');
  const input = join(root, 'speech-long.wav');
  execFileSync('ffmpeg', ['-v', 'error', '-stream_loop', '-1', '-i', join(ROOT, 'samples', 'speech.wav'), '-t', String(durationMs / 1000 + 10), '-c', 'copy', '-y', input]);
  const emu = await startChildEmulator('deepgram');
  process.env.BENCH_PARTNER_KEY = 'bench-key-not-secret'; // the meetings inherit it
  const runArgs = values['run-args']!.split(' ').filter(Boolean);
  const rows: Array<Record<string, string | number>> = [];
  const details: string[] = [];
  const idle = await ffmpegFirstPacket(input);
  const floor = await startFloor();
  const counts = values.counts!.split(',').map(Number);
  let clean = 0;
  for (let k = 0; k < counts.length || values.max; k++) {
    const n = counts[k] ?? counts[counts.length - 1]! + 10 * (k - counts.length + 1);
    const stagger = Math.min(500, 20_000 / n);
    const rampMs = stagger * (n - 1);
    const window: [number, number] = [rampMs + 5000, durationMs - 2000];
    if (window[1] - window[0] < 10_000) process.stderr.write(`density: N=${n}: steady window only ${(window[1] - window[0]) / 1000} s - give a longer --duration\n`);

    // ---- earshot: N meetings ----
    const emu0 = cpuSec(emu.proc.pid!) ?? 0;
    // The floor's memory when the meetings' PSS is taken (PSS depends on how many processes share the pages).
    const floorMem = sleep(window[0] + 1500).then(() => ({ ...rssMb(floor.pid!), pss: pssMb(floor.pid!) }));
    const ours = await batch(n, stagger, (_i, dir) => [EARSHOT, ['run', '--input', `file:${input}`, '--duration', `${durationMs / 1000}s`, '--record', dir,
      '--log-sink', 'null', '--partner', 'deepgram', '--partner-url', emu.url, '--partner-key-env', 'BENCH_PARTNER_KEY', '--partner-codec', values.codec!, ...runArgs]],
      join(root, `n${n}`), window);
    const emuSec = (cpuSec(emu.proc.pid!) ?? 0) - emu0;
    const fm = await floorMem;
    const top = ours.map((r) => r.rssTop);
    const sums = ours.map((r) => summaryOf(r.dir));
    const ok = sums.filter((s): s is RunSummary => !!s);
    const misses = ok.reduce((a, s) => a + s.deadlineMisses, 0);
    const dropouts = ok.reduce((a, s) => a + s.dropouts, 0);
    const inRamp = ours.reduce((a, r) => a + rampEvents(r.dir, r.spawnedAt, rampMs + 1000), 0);
    const p99s = ok.map((s) => s.partners[0]?.sendLatencyMs?.p99 ?? NaN);
    const firstFrame = ok.map((s) => s.startup.processMs + (s.startup.firstFrameMs ?? NaN));
    const ffOwn = ok.map((s) => (s.startup.firstAudioMs ?? NaN) - (s.startup.ingestSpawnedMs ?? NaN));
    const startCpu = ours.map((r, i) => cpuAfter(r, r.spawnedAt + (firstFrame[i] ?? 0)));
    const steady = ours.map((r) => steadyPerMin(r, window));
    const steadyFfmpeg = ours.map((r) => steadyPerMin(r, window, 2));

    // ---- baseline: N ffmpeg record-only, and one probe for ffmpeg's own start under the same load ----
    const probe = sleep(rampMs / 2).then(() => ffmpegFirstPacket(input));
    const base = await batch(n, stagger, (_i, dir) => ['ffmpeg', ['-hide_banner', '-nostdin', '-loglevel', 'error', '-i', input, '-t', String(durationMs / 1000),
      '-af', 'arealtime', '-ac', '1', '-ar', '48000', '-c:a', 'libopus', '-b:a', '64k', '-y', `${dir}.ogg`]], join(root, `b${n}`), window);
    const ffStart = await probe;
    const baseSteady = base.map((r) => steadyPerMin(r, window));
    const baseStartCpu = base.map((r) => cpuAfter(r, r.spawnedAt + ffStart));
    const base20 = await batch(n, stagger, (_i, dir) => ['ffmpeg', ['-hide_banner', '-nostdin', '-loglevel', 'error', '-i', input, '-t', String(durationMs / 1000),
      '-af', 'aresample=48000,asetnsamples=n=960:p=0,arealtime', '-ac', '1', '-ar', '48000', '-c:a', 'libopus', '-b:a', '64k', '-y', `${dir}.ogg`]], join(root, `c${n}`), window);
    const base20Steady = base20.map((r) => steadyPerMin(r, window));

    const ratio = median(steady) / median(baseSteady);
    rows.push({
      N: n,
      'earshot CPU s/meeting-min (steady; its ffmpeg)': `${fmt(median(steady), 3)} (${fmt(median(steadyFfmpeg), 3)})`,
      'ffmpeg CPU s/min': fmt(median(baseSteady), 3),
      ratio: fmt(ratio, 2),
      'ffmpeg paced 20 ms CPU s/min (ratio)': `${fmt(median(base20Steady), 3)} (${fmt(median(steady) / median(base20Steady), 2)})`,
      'start-up CPU s (earshot / ffmpeg)': `${fmt(median(startCpu), 3)} / ${fmt(median(baseStartCpu), 3)}`,
      'RSS MB peak / PSS (ffmpeg)': `${fmt(median(ours.map((r) => r.rssPeak)), 1)} / ${fmt(median(ours.map((r) => r.pss ?? NaN)), 1)} (${fmt(median(base.map((r) => r.rssPeak)), 1)})`,
      'RSS MB at peak: anon + file': `${fmt(median(top.map((m) => m?.anon ?? NaN)), 1)} + ${fmt(median(top.map((m) => m?.file ?? NaN)), 1)}`,
      'node floor RSS (anon + file) / PSS': `${fmt(fm.rss ?? NaN, 1)} (${fmt(fm.anon ?? NaN, 1)} + ${fmt(fm.file ?? NaN, 1)}) / ${fmt(fm.pss ?? NaN, 1)}`,
      'deadline misses (in ramp)': `${misses} (${inRamp})`,
      dropouts,
      'capture->send p99 ms (median / worst)': `${fmt(median(p99s), 1)} / ${fmt(max(p99s), 1)}`,
      'first frame ms (median / worst)': `${fmt(median(firstFrame), 0)} / ${fmt(max(firstFrame), 0)}`,
      'ffmpeg first packet ms (alone / in earshot)': `${fmt(ffStart, 0)} / ${fmt(median(ffOwn), 0)}`,
      'emulator CPU %': fmt((emuSec / (durationMs / 1000 + rampMs / 1000)) * 100, 1),
    });
    const [th0, th1] = ours[0]?.threads ?? [];
    if (th0 && th1) {
      const min = (window[1] - window[0]) / 60_000;
      const split = [...th1].map(([c, s]) => [c, (s - (th0.get(c) ?? 0)) / min] as const).filter(([, s]) => s > 0.0005).sort((a, b) => b[1] - a[1]);
      details.push(`N=${n}: meeting #0, steady CPU s/min by thread: ${split.map(([c, s]) => `${c} ${fmt(s, 3)}`).join(', ')}; ${ok.length}/${n} summaries, ${ok.filter((s) => s.partners[0]?.outcome.delivered).length} partners delivered`);
    }
    process.stderr.write(`density: N=${n} done (${misses} misses, ${dropouts} dropouts)\n`);
    const cleanRun = misses === 0 && dropouts === 0 && ok.length === n;
    if (cleanRun) clean = n;
    if (k >= counts.length - 1 && (!values.max || !cleanRun)) break;
  }
  await stopChild(emu);
  floor.kill();
  console.log(`bench:density - ${cpus().length} CPUs; each meeting: ${durationMs / 1000} s of speech paced at real time, recorded + 1 deepgram emulator partner (${values.codec}); baseline: ffmpeg arealtime -> libopus 64k .ogg`);
  console.log(`ffmpeg's own start to first packet, idle machine: ${fmt(idle, 0)} ms`);
  console.log(table(rows));
  console.log(
    "RSS: file-backed pages (node's own text ~38 MB, libraries) are shared by every node process on the host and, through the page cache, by every container of one image; " +
      "PSS divides them among the processes mapping them; anon is each meeting's own. node floor: node + one worker isolate with libopus loaded, nothing else (bench/node-floor.ts).",
  );
  for (const d of details) console.log(d);
  if (values.max) console.log(`largest N with 0 deadline misses and 0 dropouts: ${clean}`);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
