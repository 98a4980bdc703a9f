/**
 * The benchmark's source recordings, decoded once by ffmpeg to mono float at their own rate
 * (8 kHz telephone prompts stay at 8 kHz, 44.1 kHz loops stay at 44.1 kHz) and cached under
 * the OS temp folder so that a second run starts at once.
 *
 * Two parts. The tuning part: drum loops, tonal music, the English telephone prompts (one
 * speaker), alsa's voices, degraded copies of half the prompts (a narrow-band channel with
 * hiss, GSM, Speex, low-rate Opus) and half of the short percussive hits. The held-out part,
 * never used to set a threshold and printed apart: the Canadian French prompts (another
 * speaker, another language), degraded copies of half of them, and the other half of the hits.
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
  set: string;
  /** Kept out of all tuning: scored only in the bench's held-out rows. */
  heldOut: boolean;
  path: string;
  sampleRate: number;
  samples: Float32Array;
  /** Whether events are injected into it (pink noise is not a human recording: clean-only). */
  inject: boolean;
}

const SCSYNTH = join(ROOT, 'node_modules', 'supersonic-scsynth-samples', 'samples');
const ASTERISK = asteriskSounds();
/** Debian's asterisk-core-sounds-fr-wav: Canadian French prompts by another speaker (the held-out speech). */
const ASTERISK_FR = '/usr/share/asterisk/sounds/fr_CA_f_June';
/** Short percussive hits (single drum, percussion and electronic hits, 0.1-2 s). */
const HIT_PREFIXES = ['drum_', 'elec_', 'perc_', 'bd_', 'sn_', 'hat_'];

/**
 * Degraded channels a meeting's audio really comes through, as ffmpeg filter/codec chains
 * (Debian's ffmpeg has libgsm, libspeex and libopus encoders; no AMR encoder).
 */
export const DEGRADATIONS: Record<string, { encode: string[]; format: string; rate: number; filter?: string }> = {
  'narrowband-hiss': { encode: ['-c:a', 'pcm_f32le'], format: 'f32le', rate: 8000, filter: 'highpass=f=300,lowpass=f=3400,aresample=8000' },
  gsm: { encode: ['-ar', '8000', '-c:a', 'libgsm'], format: 'gsm', rate: 8000 },
  speex: { encode: ['-ar', '16000', '-c:a', 'libspeex', '-b:a', '16k'], format: 'ogg', rate: 16000 },
  'opus-voip-12k': { encode: ['-ar', '48000', '-c:a', 'libopus', '-b:a', '12k', '-application', 'voip'], format: 'ogg', rate: 16000 },
};
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

/**
 * Decoded sources, keyed by their full path: keyed by file name (v2), the held-out French prompts,
 * which share 352 of their 353 names with the English ones, were read back as the English audio.
 */
const CACHE = join(tmpdir(), 'earshot-bench-detect-cache-v3');
const cacheKey = (path: string): string => path.replace(/\W/g, '_');

function decode(path: string, rate?: number): { sampleRate: number; samples: Float32Array } {
  mkdirSync(CACHE, { recursive: true });
  const cached = join(CACHE, `${cacheKey(path)}${rate ? `@${rate}` : ''}.f32`);
  let sampleRate = rate ?? 0;
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
    if (existsSync(path)) out.push({ name: `drums/${name}`, set: 'drums', heldOut: false, path, inject: true, ...decode(path) });
  }
  for (const name of MUSIC) {
    const path = join(SCSYNTH, `${name}.flac`);
    if (existsSync(path)) out.push({ name: `music/${name}`, set: 'music', heldOut: false, path, inject: true, ...decode(path) });
  }
  if (ASTERISK) {
    const files = readdirSync(ASTERISK).filter((f) => f.endsWith('.wav')).sort();
    files.forEach((f, i) => {
      if (i % opts.speechStride !== 0) return;
      const path = join(ASTERISK, f);
      out.push({ name: `speech8k/${f}`, set: 'speech8k', heldOut: false, path, inject: true, ...decode(path) });
    });
  }
  // Degraded copies of every 2nd prompt, each through one channel in turn (tuning part).
  const prompts = out.filter((x) => x.set === 'speech8k');
  prompts.forEach((p, i) => { if (i % 2 === 0) out.push(degraded(p, 'degraded', false, i / 2)); });
  if (!existsSync(ASTERISK_FR)) {
    console.error(`bench:detect: no held-out speech at ${ASTERISK_FR} - apt-get install asterisk-core-sounds-fr-wav (the held-out rows then lack it)`);
  } else {
    const files = readdirSync(ASTERISK_FR).filter((f) => f.endsWith('.wav')).sort();
    const fr: Source[] = [];
    files.forEach((f, i) => {
      if (i % (2 * opts.speechStride) !== 0) return;
      const path = join(ASTERISK_FR, f);
      fr.push({ name: `fr8k/${f}`, set: 'fr8k', heldOut: true, path, inject: true, ...decode(path) });
    });
    out.push(...fr);
    fr.forEach((p, i) => { if (i % 2 === 0) out.push(degraded(p, 'fr-degraded', true, i / 2)); });
  }
  const hits = readdirSync(SCSYNTH).filter((f) => HIT_PREFIXES.some((h) => f.startsWith(h)) && f.endsWith('.flac')).sort();
  hits.forEach((f, i) => {
    const path = join(SCSYNTH, f);
    const heldOut = i % 2 === 1;
    out.push({ name: `hits/${f}`, set: heldOut ? 'hits-held' : 'hits', heldOut, path, inject: true, ...decode(path) });
  });
  if (existsSync(ALSA)) {
    for (const f of readdirSync(ALSA).filter((x) => x.endsWith('.wav')).sort()) {
      const path = join(ALSA, f);
      out.push({ name: `alsa/${f}`, set: 'alsa', heldOut: false, path, inject: f !== 'Noise.wav', ...decode(path) });
    }
  }
  return out;
}

/** `src` through the k-th degradation (in turn), decoded back to float at the channel's rate; cached. */
function degraded(src: Source, set: string, heldOut: boolean, k: number): Source {
  const names = Object.keys(DEGRADATIONS);
  const how = names[k % names.length]!;
  const d = DEGRADATIONS[how]!;
  const cached = join(CACHE, `${cacheKey(src.path)}-${set}-${how}.f32`);
  if (!existsSync(cached)) {
    const input = ['-f', 'f32le', '-ar', String(src.sampleRate), '-ac', '1', '-i', 'pipe:0'];
    // Hiss: white noise 50 dB below full scale, after the band limit (a line's own noise).
    const filter = d.filter ? ['-af', `${d.filter},aeval='val(0)+0.0032*(random(0)*2-1)'`] : [];
    const coded = execFileSync('ffmpeg', ['-v', 'error', ...input, ...filter, ...d.encode, '-f', d.format, 'pipe:1'],
      { input: Buffer.from(src.samples.buffer, src.samples.byteOffset, src.samples.byteLength), maxBuffer: 1 << 28 });
    const decoded = d.format === 'f32le' ? coded : execFileSync('ffmpeg', ['-v', 'error', ...(d.format === 'gsm' ? ['-f', 'gsm', '-ar', '8000'] : []), '-i', 'pipe:0',
      '-ar', String(d.rate), '-ac', '1', '-f', 'f32le', '-acodec', 'pcm_f32le', 'pipe:1'], { input: coded, maxBuffer: 1 << 28 });
    writeFileSync(cached, decoded);
  }
  const buf = readFileSync(cached);
  const samples = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  return { name: `${set}/${how}/${basename(src.path)}`, set, heldOut, path: src.path, inject: true, sampleRate: d.rate, samples };
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
