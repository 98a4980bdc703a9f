/**
 * npm run bench:detect-jobs -- [--files 6] [--minutes 3]
 *
 * Batch scaling of `earshot detect`: the same folder of 48 kHz mono WAVs
 * (real speech, looped) swept with --jobs 1 and --jobs 2, wall time and
 * x real time for each, and the speed-up. Each sweep runs ROUNDS times,
 * alternating, and the best wall time counts: on a shared 2-vCPU VM a single
 * --jobs 1 sweep moved by 20% between two runs a minute apart.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CLI, ROOT } from '../src/paths';
import { fmt, table } from './lib';

const { values } = parseArgs({ options: { files: { type: 'string', default: '6' }, minutes: { type: 'string', default: '3' } } });
const files = Number(values.files);
const loops = Math.ceil((Number(values.minutes) * 60) / 14); // speech.wav is 14 s
const dir = mkdtempSync(join(tmpdir(), 'earshot-bench-jobs-'));
for (let i = 0; i < files; i++) {
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-stream_loop', String(loops - 1), '-i', join(ROOT, 'samples', 'speech.wav'),
    '-af', `volume=${0.4 + i * 0.1}`, '-ar', '48000', '-ac', '1', join(dir, `meeting${i}.wav`)]);
}
const audioSec = files * loops * 14.0225;
const ROUNDS = 3;
const JOBS = [1, 2];
const walls = new Map<number, number[]>(JOBS.map((j) => [j, []]));
for (let round = 0; round < ROUNDS; round++) {
  for (const jobs of JOBS) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(process.execPath, [CLI, 'detect', dir, '--json', '--jobs', String(jobs)], { encoding: 'utf8', maxBuffer: 1 << 26 });
    const wall = Number(process.hrtime.bigint() - t0) / 1e9;
    if (r.status !== 0 && r.status !== 1) throw new Error(`earshot detect failed: ${r.stderr}`);
    walls.get(jobs)!.push(wall);
  }
}
const best = (jobs: number) => Math.min(...walls.get(jobs)!);
const rows = JOBS.map((jobs) => ({
  jobs, files, 'audio min': fmt(audioSec / 60, 1), 'best wall s': fmt(best(jobs), 2),
  'all runs s': walls.get(jobs)!.map((w) => fmt(w, 2)).join(' '), 'x real time': fmt(audioSec / best(jobs), 0),
  'speed-up': fmt(best(1) / best(jobs), 2),
}));
rmSync(dir, { recursive: true, force: true });
console.log(`earshot detect over ${files} files of 48 kHz mono speech (${cpus().length} CPUs), best of ${ROUNDS} runs each`);
console.log(table(rows));
