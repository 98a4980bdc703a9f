/**
 * npm run bench:detect-jobs -- [--files 6] [--minutes 3]
 *
 * Batch scaling of `earshot detect`: the same folder of 48 kHz mono WAVs
 * (real speech, looped) swept with --jobs 1 and --jobs 2, wall time and
 * x real time for each, and the speed-up.
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
const rows: Array<Record<string, string | number>> = [];
let base = 0;
for (const jobs of [1, 2]) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [CLI, 'detect', dir, '--json', '--jobs', String(jobs)], { encoding: 'utf8', maxBuffer: 1 << 26 });
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0 && r.status !== 1) throw new Error(`earshot detect failed: ${r.stderr}`);
  if (jobs === 1) base = wall;
  rows.push({ jobs, files, 'audio min': fmt(audioSec / 60, 1), 'wall s': fmt(wall, 2), 'x real time': fmt(audioSec / wall, 0), 'speed-up': fmt(base / wall, 2) });
}
rmSync(dir, { recursive: true, force: true });
console.log(`earshot detect over ${files} files of 48 kHz mono speech (${cpus().length} CPUs)`);
console.log(table(rows));
