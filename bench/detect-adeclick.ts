/**
 * ffmpeg's adeclick as the reference detector. It only repairs, so its positions come from
 * diffing its output against its input: every run of changed samples (runs closer than
 * MERGE_MS fused) is one reported event.
 */
import { execFileSync } from 'node:child_process';

/** Changed samples closer than this belong to one repaired click. */
const MERGE_MS = 1;

export interface AdeclickRun {
  /** [start, end) sample ranges that adeclick changed. */
  ranges: [number, number][];
  /** Wall-clock seconds ffmpeg took. */
  seconds: number;
}

export function adeclick(x: Float32Array, sampleRate: number): AdeclickRun {
  const t0 = performance.now();
  const outBuf = execFileSync('ffmpeg', ['-v', 'error', '-f', 'f32le', '-ar', String(sampleRate), '-ac', '1',
    '-i', 'pipe:0', '-af', 'adeclick=m=s', '-f', 'f32le', '-acodec', 'pcm_f32le', 'pipe:1'],
  { input: Buffer.from(x.buffer, x.byteOffset, x.byteLength), maxBuffer: 1 << 30 });
  const seconds = (performance.now() - t0) / 1000;
  const y = new Float32Array(outBuf.buffer.slice(outBuf.byteOffset, outBuf.byteOffset + outBuf.byteLength));
  const merge = Math.max(1, Math.round((MERGE_MS * sampleRate) / 1000));
  const ranges: [number, number][] = [];
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) {
    if (Math.abs(x[i] - y[i]) <= 1e-7) continue;
    const last = ranges[ranges.length - 1];
    if (last && i - last[1] < merge) last[1] = i + 1;
    else ranges.push([i, i + 1]);
  }
  return { ranges, seconds };
}
