/**
 * The benchmark's source recordings, decoded once by ffmpeg to mono float at their own rate
 * (8 kHz telephone prompts stay at 8 kHz, 44.1 kHz loops stay at 44.1 kHz) and cached under
 * the OS temp folder so that a second run starts at once.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { ROOT } from '../src/paths';
import { ALSA_SOUNDS, asteriskSounds } from '../test/fixtures/system-sounds';

export interface Source {
  /** Short name: `<set>/<file>`. */
  name: string;
  set: 'drums' | 'music' | 'speech8k' | 'alsa';
  path: string;
  sampleRate: number;
  samples: Float32Array;
  /** Whether events are injected into it (pink noise is not a human recording: clean-only). */
  inject: boolean;
}

const SCSYNTH = join(ROOT, 'node_modules', 'supersonic-scsynth-samples', 'samples');
const ASTERISK = asteriskSounds();
const ALSA = ALSA_SOUNDS;

/** Drum loops: the hardest clean material (sharp transients that a naive detector calls clicks). */
const DRUM_LOOPS = [
  'loop_amen', 'loop_amen_full', 'loop_breakbeat', 'loop_compus', 'loop_industrial', 'loop_mika',
  'loop_safari', 'loop_tabla', 'loop_perc1', 'loop_perc2', 'loop_garzul', 'loop_mehackit1',
  'loop_mehackit2', 'loop_electric', 'loop_weirdo', 'loop_3d_printer',
  'arovane_beat_a', 'arovane_beat_b', 'arovane_beat_c', 'arovane_beat_d', 'arovane_beat_e',
];
/** Tonal music: predictable signals where a splice or repeat is audible. */
const MUSIC = ['ambi_piano', 'guit_em9', 'guit_e_fifths', 'guit_harmonics', 'ambi_choir', 'tbd_pad_1', 'loop_drone_g_97'];

const CACHE = join(tmpdir(), 'earshot-bench-detect-cache-v2');

function decode(path: string, rate?: number): { sampleRate: number; samples: Float32Array } {
  mkdirSync(CACHE, { recursive: true });
  const key = `${basename(path).replace(/\W/g, '_')}${rate ? `@${rate}` : ''}.f32`;
  const cached = join(CACHE, key);
  let sampleRate = rate ?? 0;
  if (!rate) {
  }
  const probe = execFileSync('ffprobe', ['-v', 'error', '-select_streams', 'a:0', '-show_entries',
    'stream=sample_rate,channels', '-of', 'csv=p=0', path], { encoding: 'utf8' }).trim().split(',');
  if (!rate) sampleRate = Number(probe[0]);
  const channels = Number(probe[1]);
  if (!existsSync(cached)) {
    // Stereo to mono as the average of the channels (ffmpeg's default -ac 1 matrix adds +3 dB
    // and would push full-scale masters past 1.0).
    const args = ['-v', 'error', '-i', path, '-af', channels === 2 ? 'pan=mono|c0=0.5*c0+0.5*c1' : 'anull', '-ac', '1'];
    if (rate) args.push('-ar', String(rate));
    args.push('-f', 'f32le', '-acodec', 'pcm_f32le', cached);
    execFileSync('ffmpeg', ['-y', ...args]);
  }
  const buf = readFileSync(cached);
  const samples = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  return { sampleRate, samples };
}

export interface CorpusOptions {
  /** Take every n-th speech prompt (1 = all); the quick dev loop uses a subset. */
  speechStride: number;
}

export function loadCorpus(opts: CorpusOptions): Source[] {
  const out: Source[] = [];
  for (const name of DRUM_LOOPS) {
    const path = join(SCSYNTH, `${name}.flac`);
    if (existsSync(path)) out.push({ name: `drums/${name}`, set: 'drums', path, inject: true, ...decode(path) });
  }
  for (const name of MUSIC) {
    const path = join(SCSYNTH, `${name}.flac`);
    if (existsSync(path)) out.push({ name: `music/${name}`, set: 'music', path, inject: true, ...decode(path) });
  }
  if (ASTERISK) {
    const files = readdirSync(ASTERISK).filter((f) => f.endsWith('.wav')).sort();
    files.forEach((f, i) => {
      if (i % opts.speechStride !== 0) return;
      const path = join(ASTERISK, f);
      out.push({ name: `speech8k/${f}`, set: 'speech8k', path, inject: true, ...decode(path) });
    });
  }
  if (existsSync(ALSA)) {
    for (const f of readdirSync(ALSA).filter((x) => x.endsWith('.wav')).sort()) {
      const path = join(ALSA, f);
      out.push({ name: `alsa/${f}`, set: 'alsa', path, inject: f !== 'Noise.wav', ...decode(path) });
    }
  }
  return out;
}

/** The drum loops and music at 48 kHz, joined: the one-thread speed figure's input. */
export function speedSignal48k(): Float32Array {
  const parts: Float32Array[] = [];
  for (const name of [...DRUM_LOOPS, ...MUSIC]) {
    const path = join(SCSYNTH, `${name}.flac`);
    if (existsSync(path)) parts.push(decode(path, 48000).samples);
  }
  let n = 0;
  for (const p of parts) n += p.length;
  const all = new Float32Array(n);
  let o = 0;
  for (const p of parts) { all.set(p, o); o += p.length; }
  return all;
}

export function writeF32(path: string, x: Float32Array): void {
  writeFileSync(path, Buffer.from(x.buffer, x.byteOffset, x.byteLength));
}
