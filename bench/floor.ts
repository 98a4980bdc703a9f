/**
 * npm run bench:floor -- [--counts 1,10] [--duration 40s]
 *
 * Where the floor of earshot's design lies, in CPU per meeting-minute, beside the record-only
 * baseline and the target (1.5x that baseline), all in one run. For each N (separate
 * processes, staggered starts as in bench:density, speech paced at real time), one batch each:
 * - baseline: `ffmpeg -af arealtime ... -c:a libopus -b:a 64k out.ogg` (as bench:density);
 * - floor: the architecture doing nothing (bench/floor-meeting.ts): the ingest's ffmpeg pacing
 *   20 ms packets into a FIFO, node's main thread waking per 100 ms, the audio worker waking per
 *   20 ms in poll(2) and reading each packet - no framing, encode, recording or partner;
 * - floor + encode: the same, the worker also encoding each frame (system libopus, complexity 10);
 * - earshot record-only, and earshot recording + one Deepgram emulator partner (the target's case).
 * CPU is the process and its children (ffmpeg), steady state: from 5 s after the last start to
 * 2 s before the first end. What the target leaves for the encode, the recorder and the partner
 * is 1.5 x baseline minus the floor. Run it alone: `flock /work/locks/cpu npm run bench:floor`.
 */
import { spawn } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT } from '../src/paths';
import { parseDuration } from '../src/util/duration';
import { tempDir } from '../test/tmp';
import { fmt, quantile, table } from './lib';
import { startChildEmulator, stopChild } from './partners-child';
import { childrenOf, cpuSec } from './procstat';

const EARSHOT = join(ROOT, 'bin', 'earshot');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => quantile([...xs].sort((a, b) => a - b), 0.5);

/** bin/earshot's first line as argv: node with earshot's flags and env (`#!/usr/bin/env -S ...`). */
function nodeAsEarshot(script: string, args: string[]): [string, string[]] {
  const [interp, ...rest] = readFileSync(EARSHOT, 'utf8').split('\n')[0]!.slice(2).trim().split(' ');
  return [interp!, [...(rest.length ? [rest.join(' ')] : []), script, ...args]];
}

/** CPU s of a process and its children (found at the first snapshot). */
function cpuTree(pid: number, kids: number[]): number {
  return (cpuSec(pid) ?? NaN) + kids.reduce((a, k) => a + (cpuSec(k) ?? 0), 0);
}

/** Spawns n copies staggered; returns each one's steady CPU s per minute. */
async function batch(n: number, stagger: number, window: [number, number], cmd: (i: number) => [string, string[]]): Promise<number[]> {
  const t0 = performance.now();
  const procs = [];
  for (let i = 0; i < n; i++) {
    const [file, args] = cmd(i);
    const p = spawn(file, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-500)));
    procs.push({ p, exited: new Promise<void>((r) => p.on('exit', (code) => (code ? process.stderr.write(`floor: ${file} #${i} exited ${code}: ${err.trim()}\n`) : 0, r()))) });
    if (i < n - 1) await sleep(stagger);
  }
  await sleep(window[0] - (performance.now() - t0));
  const kids = childrenOf(new Set(procs.map((x) => x.p.pid!)));
  const at0 = procs.map((x) => cpuTree(x.p.pid!, kids.get(x.p.pid!) ?? []));
  await sleep(window[1] - (performance.now() - t0));
  const at1 = procs.map((x) => cpuTree(x.p.pid!, kids.get(x.p.pid!) ?? []));
  await Promise.all(procs.map((x) => x.exited));
  return at0.map((c, i) => ((at1[i]! - c) / (window[1] - window[0])) * 60_000);
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { counts: { type: 'string', default: '1,10' }, duration: { type: 'string', default: '40s' } } });
  const durationMs = parseDuration(values.duration!);
  const sec = String(durationMs / 1000);
  const root = tempDir('earshot-bench-floor-');
  const input = join(root, 'speech-long.wav');
  execFileSync('ffmpeg', ['-v', 'error', '-stream_loop', '-1', '-i', join(ROOT, 'samples', 'speech.wav'), '-t', String(durationMs / 1000 + 10), '-c', 'copy', '-y', input]);
  const emu = await startChildEmulator('deepgram');
  process.env.BENCH_PARTNER_KEY = 'bench-key-not-secret';
  const floorScript = join(__dirname, 'floor-meeting.js');
  const rows: Array<Record<string, string | number>> = [];
  for (const n of values.counts!.split(',').map(Number)) {
    const stagger = Math.min(500, 20_000 / n);
    const window: [number, number] = [stagger * (n - 1) + 5000, durationMs - 2000];
    const run = (cmd: (i: number) => [string, string[]]) => batch(n, stagger, window, cmd).then(median);
    const base = await run((i) => ['ffmpeg', ['-hide_banner', '-nostdin', '-loglevel', 'error', '-i', input, '-t', sec,
      '-af', 'arealtime', '-ac', '1', '-ar', '48000', '-c:a', 'libopus', '-b:a', '64k', '-y', join(root, `b${n}-${i}.ogg`)]]);
    const floor = await run(() => nodeAsEarshot(floorScript, ['--input', input, '--duration', sec]));
    const floorEnc = await run(() => nodeAsEarshot(floorScript, ['--input', input, '--duration', sec, '--encode']));
    const rec = await run((i) => [EARSHOT, ['run', '--input', `file:${input}`, '--duration', `${sec}s`, '--record', join(root, `r${n}-${i}`), '--log-sink', 'null']]);
    const partner = await run((i) => [EARSHOT, ['run', '--input', `file:${input}`, '--duration', `${sec}s`, '--record', join(root, `p${n}-${i}`), '--log-sink', 'null',
      '--partner', 'deepgram', '--partner-url', emu.url, '--partner-key-env', 'BENCH_PARTNER_KEY']]);
    const x = (v: number) => `${fmt(v, 3)} (${fmt(v / base, 2)}x)`;
    rows.push({
      N: n,
      'ffmpeg record-only': fmt(base, 3),
      'target 1.5x': fmt(1.5 * base, 3),
      'floor: ingest + node + waking worker': x(floor),
      'floor + encode': x(floorEnc),
      'earshot record-only': x(rec),
      'earshot + partner': x(partner),
      'target minus floor (left for encode, recorder, partner)': fmt(1.5 * base - floor, 3),
    });
    process.stderr.write(`floor: N=${n} done\n`);
  }
  await stopChild(emu);
  console.log(`bench:floor - CPU s per meeting-minute, steady state, median of N (x: ratio to ffmpeg record-only in the same run); ${durationMs / 1000} s of speech paced at real time`);
  console.log(table(rows));
}

void main();
