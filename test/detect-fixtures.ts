/**
 * Test fixtures for `earshot detect`: WAV files built byte by byte (so every
 * header variant the reader must handle can be produced), ffmpeg decodes to
 * compare against, and a seeded PRNG for the fuzzer.
 */
import { execFileSync } from 'node:child_process';
import { mulberry32 } from '../src/util/prng';
import { tempDir } from './tmp';

export type Enc = 'u8' | 's16' | 's24' | 's32' | 's64' | 'f32' | 'f64';
export const BYTES: Record<Enc, number> = { u8: 1, s16: 2, s24: 3, s32: 4, s64: 8, f32: 4, f64: 8 };

export interface WavSpec {
  container?: 'RIFF' | 'RIFX' | 'RF64';
  enc: Enc;
  extensible?: boolean;
  channels: number;
  rate: number;
  /** Interleaved samples in [-1, 1). */
  samples: Float64Array | number[];
  /** Chunks written between fmt and data (id, body). */
  before?: Array<[string, Buffer]>;
  /** Chunks written after data. */
  after?: Array<[string, Buffer]>;
  /** Override the data chunk's size field (e.g. 0xffffffff for a streaming writer). */
  dataSizeField?: number;
}

export function tmpDir(prefix = 'earshot-detect-'): string {
  return tempDir(prefix);
}

/** Integer value of a sample in [-1, 1) for an integer encoding (as a BigInt for 64-bit). */
function writeSample(buf: Buffer, at: number, enc: Enc, le: boolean, x: number): void {
  switch (enc) {
    case 'u8':
      buf.writeUInt8(Math.max(0, Math.min(255, Math.round(x * 128) + 128)), at);
      break;
    case 's16': {
      const v = Math.max(-32768, Math.min(32767, Math.round(x * 32768)));
      le ? buf.writeInt16LE(v, at) : buf.writeInt16BE(v, at);
      break;
    }
    case 's24': {
      const v = Math.max(-8388608, Math.min(8388607, Math.round(x * 8388608)));
      le ? buf.writeIntLE(v, at, 3) : buf.writeIntBE(v, at, 3);
      break;
    }
    case 's32': {
      const v = Math.max(-2147483648, Math.min(2147483647, Math.round(x * 2147483648)));
      le ? buf.writeInt32LE(v, at) : buf.writeInt32BE(v, at);
      break;
    }
    case 's64': {
      const v = BigInt(Math.max(-2147483648, Math.min(2147483647, Math.round(x * 2147483648)))) << 32n;
      le ? buf.writeBigInt64LE(v, at) : buf.writeBigInt64BE(v, at);
      break;
    }
    case 'f32':
      le ? buf.writeFloatLE(x, at) : buf.writeFloatBE(x, at);
      break;
    case 'f64':
      le ? buf.writeDoubleLE(x, at) : buf.writeDoubleBE(x, at);
      break;
  }
}

function chunk(id: string, body: Buffer, le: boolean, sizeField = body.length): Buffer {
  const head = Buffer.alloc(8);
  head.write(id, 0, 'latin1');
  le ? head.writeUInt32LE(sizeField >>> 0, 4) : head.writeUInt32BE(sizeField >>> 0, 4);
  return Buffer.concat([head, body, body.length & 1 ? Buffer.alloc(1) : Buffer.alloc(0)]);
}

export function buildWav(spec: WavSpec): Buffer {
  const container = spec.container ?? 'RIFF';
  const le = container !== 'RIFX';
  const bytes = BYTES[spec.enc];
  const float = spec.enc === 'f32' || spec.enc === 'f64';
  const tag = float ? 3 : 1;
  const blockAlign = bytes * spec.channels;
  const fmt = Buffer.alloc(spec.extensible ? 40 : 16);
  const u16 = (v: number, at: number) => (le ? fmt.writeUInt16LE(v, at) : fmt.writeUInt16BE(v, at));
  const u32 = (v: number, at: number) => (le ? fmt.writeUInt32LE(v, at) : fmt.writeUInt32BE(v, at));
  u16(spec.extensible ? 0xfffe : tag, 0);
  u16(spec.channels, 2);
  u32(spec.rate, 4);
  u32(spec.rate * blockAlign, 8);
  u16(blockAlign, 12);
  u16(bytes * 8, 14);
  if (spec.extensible) {
    u16(22, 16);
    u16(bytes * 8, 18);
    u32(0, 20);
    u32(tag, 24);
    u16(0, 28);
    u16(0x10, 30);
    Buffer.from([0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71]).copy(fmt, 32);
  }
  const data = Buffer.alloc(spec.samples.length * bytes);
  for (let i = 0; i < spec.samples.length; i++) writeSample(data, i * bytes, spec.enc, le, spec.samples[i]!);

  const rf64 = container === 'RF64';
  const parts: Buffer[] = [chunk('fmt ', fmt, le)];
  for (const [id, body] of spec.before ?? []) parts.push(chunk(id, body, le));
  parts.push(chunk('data', data, le, rf64 ? 0xffffffff : spec.dataSizeField ?? data.length));
  for (const [id, body] of spec.after ?? []) parts.push(chunk(id, body, le));
  let body = Buffer.concat(parts);
  if (rf64) {
    const ds64 = Buffer.alloc(28);
    ds64.writeBigUInt64LE(BigInt(body.length + 4 + 36), 0);
    ds64.writeBigUInt64LE(BigInt(data.length), 8);
    ds64.writeBigUInt64LE(BigInt(spec.samples.length / spec.channels), 16);
    body = Buffer.concat([chunk('ds64', ds64, true), body]);
  }
  const head = Buffer.alloc(12);
  head.write(container, 0, 'latin1');
  const riffSize = rf64 ? 0xffffffff : body.length + 4;
  le ? head.writeUInt32LE(riffSize, 4) : head.writeUInt32BE(riffSize, 4);
  head.write('WAVE', 8, 'latin1');
  return Buffer.concat([head, body]);
}

/** A few sines and a little noise: content whose every sample differs, interleaved. */
export function testSignal(frames: number, channels: number, rate: number, seed = 1): Float64Array {
  const rnd = mulberry32(seed);
  const out = new Float64Array(frames * channels);
  for (let i = 0; i < frames; i++) {
    for (let c = 0; c < channels; c++) {
      const t = i / rate;
      out[i * channels + c] = 0.5 * Math.sin(2 * Math.PI * (220 + 110 * c) * t) + 0.2 * Math.sin(2 * Math.PI * 3001 * t) + 0.05 * (rnd() * 2 - 1);
    }
  }
  return out;
}

export { mulberry32 as prng };

/** ffmpeg's decoding of a file as interleaved 32-bit floats, or null when ffmpeg refuses it. */
export function ffmpegDecode(inputArgs: string[], stdin?: Buffer): Float32Array | null {
  try {
    const out = execFileSync('ffmpeg', ['-nostdin', '-v', 'error', ...inputArgs, '-f', 'f32le', '-c:a', 'pcm_f32le', '-'], {
      input: stdin,
      stdio: [stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
      maxBuffer: 256 * 1024 * 1024,
    });
    const copy = new Uint8Array(out.length);
    copy.set(out);
    return new Float32Array(copy.buffer);
  } catch {
    return null;
  }
}

/** Collects an AudioSource's blocks into one interleaved Float32Array. */
export async function readAll(src: { info: { channels: number }; blocks(): AsyncGenerator<Float32Array[]> }): Promise<Float32Array> {
  const parts: Float32Array[] = [];
  const ch = src.info.channels;
  for await (const block of src.blocks()) {
    const n = block[0]!.length;
    const il = new Float32Array(n * ch);
    for (let c = 0; c < ch; c++) {
      const b = block[c]!;
      if (b.length !== n) throw new Error(`channel ${c} block has ${b.length} frames, channel 0 has ${n}`);
      for (let i = 0; i < n; i++) il[i * ch + c] = b[i]!;
    }
    parts.push(il);
  }
  const all = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    all.set(p, o);
    o += p.length;
  }
  return all;
}

/** Index of the first differing sample, or -1 when equal (lengths included). */
export function firstDifference(a: Float32Array, b: Float32Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i] && !(Number.isNaN(a[i]) && Number.isNaN(b[i]))) return i;
  return a.length === b.length ? -1 : n;
}
