/** Shared by the partner tests and benches: real speech as 20 ms frames, and a driver. */
import { execFileSync } from 'node:child_process';
import pino from 'pino';
import { voice48k } from './fixtures/system-sounds';
import { FRAME_SAMPLES, type Frame } from '../src/realtime/frame';
import type { FrameSink } from '../src/sinks/sink';
import type { TranscriptSegment } from '../src/partners/status';

let cached: Int16Array | undefined;

/** Front_Center.wav ("front centre", 1.4 s), decoded by ffmpeg to 48 kHz s16le mono. */
export function speech48k(): Int16Array {
  if (cached) return cached;
  const buf = execFileSync('ffmpeg', ['-v', 'error', '-i', voice48k(), '-f', 's16le', '-ac', '1', '-ar', '48000', '-'], {
    maxBuffer: 64 << 20,
  });
  cached = new Int16Array(buf.buffer, buf.byteOffset, buf.length >> 1).slice();
  return cached;
}

/**
 * A meeting of `seconds`: the recording repeated with `gapSec` of silence
 * between takes (the first take after `leadSec`).
 */
export function meeting(seconds: number, gapSec = 1.2, leadSec = 0.6): Int16Array {
  const total = Math.round(seconds * 48_000 / FRAME_SAMPLES) * FRAME_SAMPLES;
  const out = new Int16Array(total);
  const take = speech48k();
  let at = Math.round(leadSec * 48_000);
  while (at < total) {
    out.set(take.subarray(0, Math.min(take.length, total - at)), at);
    at += take.length + Math.round(gapSec * 48_000);
  }
  return out;
}

const opusCache = new WeakMap<Int16Array, Uint8Array[]>();

/** The meeting's frames as Opus packets, encoded as the audio thread does (libopus, 48 kHz, --bitrate). */
export function opusPackets(pcm: Int16Array, bitrate = 64_000): Uint8Array[] {
  let packets = opusCache.get(pcm);
  if (packets) return packets;
  const { OpusEncoder } = require('@discordjs/opus') as typeof import('@discordjs/opus');
  const enc = new OpusEncoder(48_000, 1);
  enc.setBitrate(bitrate);
  packets = [];
  for (let i = 0; i + FRAME_SAMPLES <= pcm.length; i += FRAME_SAMPLES) {
    const frame = pcm.subarray(i, i + FRAME_SAMPLES);
    packets.push(new Uint8Array(enc.encode(Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength))));
  }
  opusCache.set(pcm, packets);
  return packets;
}

export function frameAt(pcm: Int16Array, seq: number, channels = 1, opus?: Uint8Array[]): Frame {
  const mono = pcm.subarray(seq * FRAME_SAMPLES, (seq + 1) * FRAME_SAMPLES);
  let data = mono;
  if (channels === 2) {
    data = new Int16Array(FRAME_SAMPLES * 2);
    for (let i = 0; i < FRAME_SAMPLES; i++) data[2 * i] = data[2 * i + 1] = mono[i]!;
  }
  return { seq, captureNs: Number(process.hrtime.bigint()), latenessUs: 0, flags: 0, channels, pcm: data, opus: opus?.[seq] ?? new Uint8Array(0) };
}

const tick = () => new Promise<void>((r) => setImmediate(r));
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Writes frames [from, to) to the sinks: `speed` x real time (Infinity: as
 * fast as the loop allows, yielding every 10 frames so sockets can work).
 */
export async function drive(
  sinks: FrameSink[],
  pcm: Int16Array,
  opts: { from?: number; to?: number; speed?: number; channels?: number; opus?: Uint8Array[] } = {},
): Promise<void> {
  const from = opts.from ?? 0;
  const to = opts.to ?? pcm.length / FRAME_SAMPLES;
  const speed = opts.speed ?? Infinity;
  const t0 = performance.now();
  for (let seq = from; seq < to; seq++) {
    if (speed !== Infinity) {
      const due = ((seq - from) * 20) / speed;
      const wait = due - (performance.now() - t0);
      if (wait > 1) await sleep(wait);
    } else if (seq % 10 === 0) await tick();
    const f = frameAt(pcm, seq, opts.channels ?? 1, opts.opus);
    for (const s of sinks) s.write(f);
  }
}

export function quietLogger(lines?: string[]) {
  return pino({ level: lines ? 'trace' : 'silent', base: undefined }, { write: (s: string) => void lines?.push(s) });
}

export type Line = TranscriptSegment;

export function readLines(path: string): Line[] {
  const { readFileSync, existsSync } = require('node:fs') as typeof import('node:fs');
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Line);
}

/**
 * For each true speech segment, the final transcript lines whose words span
 * it within `tol` seconds. Returns the segments matched by no line or by more than one.
 */
export function unmatched(truth: { start: number; end: number }[], lines: Line[], tol = 0.02): string[] {
  const problems: string[] = [];
  for (const seg of truth) {
    // Words when the provider times them, else the segment itself (OpenAI times turns, not words).
    const span = (l: Line) => (l.words?.length ? { start: l.words[0]!.start, end: l.words[l.words.length - 1]!.end } : { start: l.start, end: l.end });
    const hits = lines.filter((l) => {
      const s = span(l);
      return l.final && !!l.text && Math.abs(s.start - seg.start) <= tol && Math.abs(s.end - seg.end) <= tol;
    });
    if (hits.length !== 1) {
      const near = lines.filter((l) => l.end > seg.start - 1 && l.start < seg.end + 1).map((l) => `${l.words?.[0]?.start}-${l.words?.[l.words.length - 1]?.end}`);
      problems.push(`${seg.start.toFixed(3)}-${seg.end.toFixed(3)}: ${hits.length} lines (near: ${near.join(', ')})`);
    }
  }
  return problems;
}

/**
 * Speech segments as a provider's emulator finds them (its endpointing
 * hangover): the truth a transcript is checked against.
 */
export function truthFor(provider: string, pcm: Int16Array): { start: number; end: number }[] {
  const { segmentAll } = require('../src/partners/emulator/segmenter') as typeof import('../src/partners/emulator/segmenter');
  const hangoverMs = provider === 'assemblyai' ? 400 : provider === 'openai' ? 500 : 300;
  const segs = segmentAll(pcm, 48_000, { hangoverMs });
  // OpenAI: a turn still open at the final commit ends where the audio ends (no VAD stop to time it).
  const end = pcm.length / 48_000;
  const last = segs[segs.length - 1];
  if (provider === 'openai' && last && last.end + hangoverMs / 1000 > end) last.end = end;
  return segs;
}
