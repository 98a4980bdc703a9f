/**
 * Memory check for `earshot detect`: writes a 2-hour 48 kHz mono 16-bit WAV
 * (691 MB) to os.tmpdir() in chunks, analyses it through the CLI in a child
 * process, and prints that process's peak RSS (target: under 150 MB, i.e.
 * flat: the file is streamed, never loaded). The file is deleted afterwards.
 *
 *   npx tsc -p . && node dist/bench/detect-memory.js [--hours 2] [--keep]
 */
import { spawn } from 'node:child_process';
import { createWriteStream, rmSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI } from '../src/paths';
import { wavHeader } from '../src/sinks/wav';

const RATE = 48000;
const LIMIT_MB = 150;

/**
 * Speech-like content: drifting partials at syllable rate with pauses, synthesised
 * once for a 61-second stretch (the costly part), then written over and over with
 * a slowly changing gain and fresh noise, so that no two seconds are identical.
 * The pause gate switches the level by 34 dB from one sample to the next: a real
 * discontinuity, and what the discontinuity events this prints are (in a 6-minute
 * run all 17 fell on gate switches).
 */
async function writeWav(path: string, seconds: number): Promise<void> {
  const frames = seconds * RATE;
  const out = createWriteStream(path);
  out.write(wavHeader(1, frames * 2)); // mono s16le
  let seed = 12345;
  const noise = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296) * 2 - 1;
  const base = new Float32Array(61 * RATE);
  let p1 = 0;
  let p2 = 0;
  for (let i = 0; i < base.length; i++) {
    const t = i / RATE;
    const f0 = 140 + 30 * Math.sin(2 * Math.PI * 0.3 * t);
    p1 += (2 * Math.PI * f0) / RATE;
    p2 += (2 * Math.PI * f0 * 3.1) / RATE;
    const syllable = Math.max(0, Math.sin(2 * Math.PI * 4 * t)) * (Math.sin(2 * Math.PI * 0.07 * t) > -0.6 ? 1 : 0.02);
    base[i] = syllable * (0.3 * Math.sin(p1) + 0.12 * Math.sin(p2));
  }
  const CHUNK = RATE; // one second per write
  for (let start = 0; start < frames; start += CHUNK) {
    const n = Math.min(CHUNK, frames - start);
    const buf = Buffer.allocUnsafe(n * 2);
    const gain = 0.7 + 0.3 * Math.sin(start / RATE / 97);
    for (let i = 0; i < n; i++) {
      const x = gain * base[(start + i) % base.length]! + 0.003 * noise();
      buf.writeInt16LE(Math.max(-32768, Math.min(32767, Math.round(x * 32767))), i * 2);
    }
    if (!out.write(buf)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

/** Runs `earshot detect` in a child that reports its own peak RSS (process.resourceUsage().maxRSS) on exit. */
async function runDetect(path: string): Promise<{ code: number; maxRssMb: number; wallSec: number; stdout: string; stderr: string }> {
  const wrapper =
    `const m=require(${JSON.stringify(CLI)});` +
    `m.main(['detect','--json',${JSON.stringify(path)}]).then(c=>{process.exitCode=c},e=>{console.error(e);process.exitCode=70})` +
    `.finally(()=>process.on('exit',()=>process.stderr.write('MAXRSS_KB '+process.resourceUsage().maxRSS+'\\n')));`;
  const t0 = performance.now();
  const child = spawn(process.execPath, ['-e', wrapper], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c) => (stdout += c));
  child.stderr.on('data', (c) => (stderr += c));
  const [code] = (await once(child, 'close')) as [number];
  const m = /MAXRSS_KB (\d+)/.exec(stderr);
  return { code, maxRssMb: m ? Number(m[1]) / 1024 : NaN, wallSec: (performance.now() - t0) / 1000, stdout, stderr: stderr.replace(/MAXRSS_KB \d+\n/, '') };
}

async function main(): Promise<void> {
  const hoursArg = process.argv.indexOf('--hours');
  const hours = hoursArg > 0 ? Number(process.argv[hoursArg + 1]) : 2;
  const keep = process.argv.includes('--keep');
  const path = join(tmpdir(), `earshot-detect-memory-${process.pid}.wav`);
  try {
    const g0 = performance.now();
    await writeWav(path, Math.round(hours * 3600));
    const size = statSync(path).size;
    console.log(`generated ${path}: ${hours} h, 48 kHz mono s16, ${(size / 2 ** 20).toFixed(0)} MiB in ${((performance.now() - g0) / 1000).toFixed(1)} s`);
    const r = await runDetect(path);
    const rec = JSON.parse(r.stdout.trim().split('\n')[0] ?? '{}') as { durationSec?: number; events?: unknown[]; error?: string };
    console.log(`earshot detect: exit ${r.code}, ${rec.durationSec} s of audio, ${rec.events?.length ?? '?'} events${rec.error ? `, error: ${rec.error}` : ''}`);
    console.log(`wall ${r.wallSec.toFixed(1)} s, ${(Number(rec.durationSec) / r.wallSec).toFixed(0)}x real time`);
    console.log(`peak RSS ${r.maxRssMb.toFixed(1)} MB (limit ${LIMIT_MB} MB): ${r.maxRssMb < LIMIT_MB ? 'PASS' : 'FAIL'}`);
    if (r.stderr.trim()) console.log(`stderr: ${r.stderr.trim()}`);
    if (!(r.maxRssMb < LIMIT_MB) || (r.code !== 0 && r.code !== 1)) process.exitCode = 1;
  } finally {
    if (!keep) rmSync(path, { force: true });
  }
}

void main();
