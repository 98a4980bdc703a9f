/**
 * npm run bench:encode
 *
 * Opus encode cost per 20 ms frame through the encoder the audio worker uses
 * (the system libopus via native/, else @discordjs/opus; both when both are
 * there, the first is the worker's), and concurrent 48 kHz mono streams per
 * core, beside ffmpeg's libopus encoding the same audio with the same settings
 * (64 kb/s, 20 ms, complexity 10, application audio), as a ratio. Then the
 * same paced at real time, one frame per 20 ms wake as in a meeting: a thread
 * that slept 20 ms finds its caches cold, and each frame costs more than in a
 * tight loop (ffmpeg's paced figure is `-af arealtime` with libopus minus the
 * same without the encoder).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createStreamEncoder, OPUS_COMPLEXITY, systemOpus } from '../src/opus';
import { ROOT } from '../src/paths';
import { FRAME_SAMPLES } from '../src/realtime/frame';
import { fmt, table } from './lib';

const REPEAT = 40; // ~9 minutes of speech: amortises ffmpeg's start-up
const speech = execFileSync('ffmpeg', ['-v', 'error', '-i', join(ROOT, 'samples', 'speech.wav'), '-f', 's16le', '-ac', '1', '-ar', '48000', '-'], { maxBuffer: 1 << 26 });
const frameBytes = FRAME_SAMPLES * 2;
const frames = Math.floor(speech.length / frameBytes);
const audioSec = (frames * REPEAT * FRAME_SAMPLES) / 48000;

// ---- ours: the system libopus through native/ (what the audio worker uses), and the @discordjs/opus fallback ----
const frame = Buffer.alloc(frameBytes);
const packet = new Uint8Array(1280); // the ring's Opus slot
const encoders = [createStreamEncoder(1, 64000), ...(systemOpus() ? [createStreamEncoder(1, 64000, true)] : [])];
const tight = encoders.map((enc) => {
  for (let i = 0; i < 200; i++) enc.encodeInto(speech.subarray(0, frameBytes), packet); // warm-up
  const cpu0 = process.cpuUsage();
  let bytes = 0;
  for (let r = 0; r < REPEAT; r++) {
    for (let k = 0; k < frames; k++) {
      speech.copy(frame, 0, k * frameBytes, (k + 1) * frameBytes);
      bytes += enc.encodeInto(frame, packet);
    }
  }
  const cpu = process.cpuUsage(cpu0);
  return { us: (cpu.user + cpu.system) / (frames * REPEAT), kbps: (bytes * 8) / audioSec / 1000 };
});
const oursUs = tight[0]!.us;

// ---- ffmpeg libopus, same audio and settings ----
const dir = mkdtempSync(join(tmpdir(), 'earshot-bench-enc-'));
const raw = join(dir, 'speech.raw');
writeFileSync(raw, Buffer.concat(new Array(REPEAT).fill(speech.subarray(0, frames * frameBytes))));
const ff = spawnSync('ffmpeg', ['-hide_banner', '-benchmark', '-f', 's16le', '-ar', '48000', '-ac', '1', '-i', raw,
  '-c:a', 'libopus', '-b:a', '64k', '-frame_duration', '20', '-compression_level', String(OPUS_COMPLEXITY), '-application', 'audio', '-f', 'null', '-'], { encoding: 'utf8' });
rmSync(dir, { recursive: true, force: true });
const m = /bench: utime=([\d.]+)s stime=([\d.]+)s/.exec(ff.stderr);
if (!m) throw new Error(`ffmpeg -benchmark printed no times: ${ff.stderr.slice(-500)}`);
const ffUs = ((Number(m[1]) + Number(m[2])) * 1e6) / (frames * REPEAT);

console.log(`Opus encode, 48 kHz mono, 20 ms frames, 64 kb/s, complexity 10, ${fmt(audioSec, 0)} s of real speech`);
const row = (encoder: string, us: number, kbps: string) => ({ encoder, 'µs/frame': fmt(us, 1), 'streams/core': Math.floor(20000 / us), 'x real time': fmt(20000 / us, 0), 'kb/s out': kbps });
console.log(
  table([
    ...encoders.map((enc, i) => row(`${enc.library}${i === 0 ? ' (earshot worker)' : ' (fallback)'}`, tight[i]!.us, fmt(tight[i]!.kbps, 1))),
    row('ffmpeg libopus', ffUs, ''),
  ]),
);
const ratio = oursUs / ffUs;
console.log(`ratio earshot/ffmpeg: ${fmt(ratio, 2)} (target <= 1.3); streams per core: ${Math.floor(20000 / oursUs)} (target >= 50)`);
console.log(`targets: ${ratio <= 1.3 && 20000 / oursUs >= 50 ? 'MET' : 'NOT MET'}`);

// ---- paced at real time: one frame per 20 ms wake ----
const PACED_FRAMES = Math.min(frames, 500); // 10 s
const sleeper = new Int32Array(new SharedArrayBuffer(4));
const paced = encoders.map((enc) => {
  let us = 0;
  for (let k = 0; k < PACED_FRAMES; k++) {
    Atomics.wait(sleeper, 0, 0, 20);
    speech.copy(frame, 0, k * frameBytes, (k + 1) * frameBytes);
    const c0 = process.cpuUsage();
    enc.encodeInto(frame, packet);
    const c = process.cpuUsage(c0);
    us += c.user + c.system;
  }
  return us / PACED_FRAMES;
});
const pacedSec = (PACED_FRAMES * FRAME_SAMPLES) / 48000;
const ffPaced = (codec: string[]) => {
  const r = spawnSync('ffmpeg', ['-hide_banner', '-benchmark', '-i', join(ROOT, 'samples', 'speech.wav'), '-t', String(pacedSec), '-af', 'arealtime', '-ac', '1', '-ar', '48000',
    ...codec, '-f', 'null', '-'], { encoding: 'utf8' });
  const b = /bench: utime=([\d.]+)s stime=([\d.]+)s/.exec(r.stderr);
  if (!b) throw new Error(`ffmpeg -benchmark printed no times: ${r.stderr.slice(-500)}`);
  return (Number(b[1]) + Number(b[2])) * 1e6;
};
const ffPacedUs = (ffPaced(['-c:a', 'libopus', '-b:a', '64k', '-frame_duration', '20', '-compression_level', String(OPUS_COMPLEXITY), '-application', 'audio']) - ffPaced(['-c:a', 'pcm_s16le'])) / PACED_FRAMES;
console.log(`paced at real time (one frame per 20 ms wake, ${fmt(pacedSec, 0)} s): ffmpeg libopus ${fmt(ffPacedUs, 1)} µs/frame`);
encoders.forEach((enc, i) => console.log(`  ${enc.library}: ${fmt(paced[i]!, 1)} µs/frame (${fmt((paced[i]! / 20000) * 100, 2)} % of a core); ratio to ffmpeg ${fmt(paced[i]! / ffPacedUs, 2)}`));
