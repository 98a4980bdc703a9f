/**
 * The Opus round trip the bench scores every injected file through: the events are injected
 * first (as they happen in capture), then the audio is coded as earshot's recorder or a meeting
 * archive would hold it (libopus through ffmpeg, Ogg, 16-64 kb/s) and decoded back by ffmpeg at
 * Opus's 48 kHz. Timing is kept: ffmpeg applies the stream's pre-skip, so sample n at the
 * source rate is at n * 48000 / rate in the decoded copy. Cached like the corpus.
 */
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The bitrates a file is coded at, one per file in turn (kb/s). */
export const OPUS_KBPS = [16, 24, 32, 48, 64];
const CACHE = join(tmpdir(), 'earshot-bench-detect-opus-v1');

export function opusRoundTrip(x: Float32Array, rate: number, kbps: number): Float32Array {
  mkdirSync(CACHE, { recursive: true });
  const bytes = Buffer.from(x.buffer, x.byteOffset, x.byteLength);
  const key = createHash('sha1').update(bytes).update(`${rate}/${kbps}`).digest('hex');
  const cached = join(CACHE, `${key}.f32`);
  if (!existsSync(cached)) {
    const ogg = execFileSync('ffmpeg', ['-v', 'error', '-f', 'f32le', '-ar', String(rate), '-ac', '1', '-i', 'pipe:0',
      '-ar', '48000', '-c:a', 'libopus', '-b:a', `${kbps}k`, '-f', 'ogg', 'pipe:1'], { input: bytes, maxBuffer: 1 << 28 });
    const pcm = execFileSync('ffmpeg', ['-v', 'error', '-i', 'pipe:0', '-f', 'f32le', '-acodec', 'pcm_f32le', 'pipe:1'], { input: ogg, maxBuffer: 1 << 29 });
    writeFileSync(cached, pcm);
  }
  const buf = readFileSync(cached);
  return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}
