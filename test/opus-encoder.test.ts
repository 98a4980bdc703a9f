/**
 * A meeting stream's Opus encoder (src/opus.ts): the system libopus through
 * native/earshot_opus.c where libopus-dev is installed, @discordjs/opus
 * otherwise. Both write a packet into the caller's memory (a ring slot over a
 * SharedArrayBuffer) that another libopus decodes back to the speech it got.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { createOpusEncoder, createStreamEncoder, systemOpus } from '../src/opus';
import { ROOT } from '../src/paths';
import { FRAME_SAMPLES, MAX_OPUS_BYTES } from '../src/realtime/frame';

const FRAMES = 100; // 2 s
const speech = execFileSync('ffmpeg', ['-v', 'error', '-i', join(ROOT, 'samples', 'speech.wav'), '-t', '3', '-f', 's16le', '-ac', '1', '-ar', '48000', '-'], { maxBuffer: 1 << 24 });

/** Encodes FRAMES frames into a slot of shared memory, decodes each with @discordjs/opus; returns the SNR in dB (Opus delays 312 samples at 48 kHz). */
function roundTrip(fallback: boolean): { snrDb: number; meanBytes: number } {
  const enc = createStreamEncoder(1, 64000, fallback);
  const dec = createOpusEncoder(48000, 1);
  const slot = new Uint8Array(new SharedArrayBuffer(4096), 512, MAX_OPUS_BYTES);
  const frame = Buffer.alloc(FRAME_SAMPLES * 2);
  const out: Buffer[] = [];
  let bytes = 0;
  for (let k = 0; k < FRAMES; k++) {
    speech.copy(frame, 0, k * frame.length, (k + 1) * frame.length);
    const n = enc.encodeInto(frame, slot);
    assert.ok(n > 2 && n <= MAX_OPUS_BYTES, `packet of ${n} bytes`);
    bytes += n;
    out.push(dec.decode(Buffer.from(slot.subarray(0, n))));
  }
  const decoded = Buffer.concat(out);
  const DELAY = 312;
  let sig = 0;
  let err = 0;
  for (let i = 4800; i < FRAMES * FRAME_SAMPLES - DELAY; i++) {
    const a = speech.readInt16LE(i * 2);
    const b = decoded.readInt16LE((i + DELAY) * 2);
    sig += a * a;
    err += (a - b) * (a - b);
  }
  return { snrDb: 10 * Math.log10(sig / err), meanBytes: bytes / FRAMES };
}

test('the system libopus is built where libopus-dev is installed (pkg-config finds opus)', () => {
  let hasDev = true;
  try {
    execFileSync('pkg-config', ['--exists', 'opus']);
  } catch {
    hasDev = false;
  }
  assert.is(systemOpus() !== null, hasDev, hasDev ? 'libopus-dev is installed but native/build has no earshot_opus.node: run npm install' : 'no libopus-dev, yet an encoder loaded');
  if (hasDev) assert.match(createStreamEncoder(1, 64000).library, /^system libopus \d/);
});

test('the stream encoder writes into shared memory a 64 kb/s packet that decodes back to the speech', () => {
  const { snrDb, meanBytes } = roundTrip(false);
  assert.ok(snrDb > 10, `SNR ${snrDb.toFixed(1)} dB`);
  assert.ok(meanBytes > 120 && meanBytes < 200, `${meanBytes} bytes per 20 ms at 64 kb/s`);
});

test('the @discordjs/opus fallback does the same through the same interface', () => {
  const enc = createStreamEncoder(1, 64000, true);
  assert.is(enc.library, '@discordjs/opus');
  const { snrDb, meanBytes } = roundTrip(true);
  assert.ok(snrDb > 10, `SNR ${snrDb.toFixed(1)} dB`);
  assert.ok(meanBytes > 120 && meanBytes < 200, `${meanBytes} bytes per 20 ms at 64 kb/s`);
});

test('a frame shorter than 20 ms is refused with a clear error, not read past its end', () => {
  const enc = createStreamEncoder(1, 64000);
  assert.throws(() => enc.encodeInto(Buffer.alloc(100), new Uint8Array(MAX_OPUS_BYTES)), /20 ms|frame|invalid/i);
});

test.run();
