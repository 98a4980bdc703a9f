/**
 * Behaviour of the per-channel analysis on real recordings (decoded by the real ffmpeg):
 * each kind of injected defect is found at its place and with its kind, the untouched
 * recordings give nothing, and the block size the caller pushes does not change the result.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ChannelAnalyzer, type DetectEvent, type DetectKind } from '../src/detect/analyze';
import { ROOT } from '../src/paths';
import { speech8k, voice48k } from './fixtures/system-sounds';

const SAMPLES = join(ROOT, 'node_modules', 'supersonic-scsynth-samples', 'samples');
const GUITAR = join(SAMPLES, 'guit_em9.flac');
const AMEN = join(SAMPLES, 'loop_amen.flac');

function decode(path: string): Float32Array {
  const out = execFileSync('ffmpeg', ['-v', 'error', '-i', path, '-af', 'pan=mono|c0=c0', '-f', 'f32le', '-acodec', 'pcm_f32le', 'pipe:1'],
    { maxBuffer: 1 << 28 });
  return new Float32Array(out.buffer.slice(out.byteOffset, out.byteOffset + out.byteLength));
}

/** The recording resampled to 48 kHz (the rate Opus codes at). */
function decode48k(path: string): Float32Array {
  const out = execFileSync('ffmpeg', ['-v', 'error', '-i', path, '-af', 'pan=mono|c0=c0', '-ar', '48000', '-f', 'f32le', '-acodec', 'pcm_f32le', 'pipe:1'],
    { maxBuffer: 1 << 28 });
  return new Float32Array(out.buffer.slice(out.byteOffset, out.byteOffset + out.byteLength));
}

function analyze(x: Float32Array, fs: number, block = 4096, sensitivity = 1): DetectEvent[] {
  const a = new ChannelAnalyzer(fs, 0, { sensitivity });
  for (let i = 0; i < x.length; i += block) a.push(x.subarray(i, Math.min(x.length, i + block)));
  return a.finish();
}

/** The loudest 10 ms-aligned position in [from, to) seconds: somewhere the audio is active. */
function activeAt(x: Float32Array, fs: number, from: number, to: number): number {
  const w = Math.round(fs * 0.01);
  let best = 0;
  let at = Math.round(from * fs);
  for (let i = Math.round(from * fs); i + w < Math.round(to * fs); i += w) {
    let s = 0;
    for (let k = 0; k < w; k++) s += x[i + k] * x[i + k];
    if (s > best) { best = s; at = i; }
  }
  return at;
}

function found(events: DetectEvent[], kind: DetectKind, atSec: number, tolSec: number): boolean {
  return events.some((e) => e.kind === kind && Math.abs(e.startSec - atSec) <= tolSec);
}

/**
 * Scales x[at, at+n) so its peak reaches `overdrive` times full scale and clamps it at full
 * scale (a burst too hot for the converter); returns the first clipped sample.
 */
function driveIntoClipping(x: Float32Array, at: number, n: number, overdrive: number): number {
  const full = 32767 / 32768;
  let peak = 0;
  for (let i = at; i < at + n; i++) peak = Math.max(peak, Math.abs(x[i]));
  let first = -1;
  for (let i = at; i < at + n; i++) {
    x[i] = Math.max(-full, Math.min(full, (x[i] * overdrive) / peak));
    if (first < 0 && Math.abs(x[i]) >= full) first = i;
  }
  return first;
}

const speech = decode(speech8k());
const voice = decode(voice48k());

test('clean real recordings give no events (8 kHz speech, 48 kHz voice)', () => {
  assert.equal(analyze(speech, 8000), []);
  assert.equal(analyze(voice, 48000), []);
});

test('a dropout (20 ms of zeros) is found where it starts, as a dropout', () => {
  const x = voice.slice();
  const at = activeAt(x, 48000, 0.3, 1.0);
  x.fill(0, at, at + 960);
  const ev = analyze(x, 48000);
  assert.ok(found(ev, 'dropout', at / 48000, 0.01), JSON.stringify(ev));
  assert.is(ev.filter((e) => e.kind !== 'dropout').length, 0, JSON.stringify(ev));
});

test('inserted silence (15 ms pushing content later) in 8 kHz speech is a dropout', () => {
  const at = activeAt(speech, 8000, 0.5, 2.5);
  const gap = 120;
  const x = new Float32Array(speech.length + gap);
  x.set(speech.subarray(0, at), 0);
  x.set(speech.subarray(at), at + gap);
  const ev = analyze(x, 8000);
  assert.ok(found(ev, 'dropout', at / 8000, 0.01), JSON.stringify(ev));
});

test('a replayed 20 ms frame is a repeat at the copy', () => {
  const at = activeAt(speech, 8000, 0.5, 2.5);
  const L = 160;
  const x = new Float32Array(speech.length + L);
  x.set(speech.subarray(0, at), 0);
  x.set(speech.subarray(at - L, at), at);
  x.set(speech.subarray(at), at + L);
  const ev = analyze(x, 8000);
  assert.ok(found(ev, 'repeat', at / 8000, 0.01), JSON.stringify(ev));
});

test('a burst driven past full scale is clipping', () => {
  const x = voice.slice();
  const at = activeAt(x, 48000, 0.3, 1.0);
  const first = driveIntoClipping(x, at, 960, 2.5);
  const ev = analyze(x, 48000);
  assert.ok(found(ev, 'clipping', first / 48000, 0.01), JSON.stringify(ev));
});

test('a 1-sample click at +20 dB re local RMS is a click within 5 ms', () => {
  const x = voice.slice();
  const at = activeAt(x, 48000, 0.3, 1.0) + 301;
  let s = 0;
  for (let i = at - 480; i < at + 480; i++) s += x[i] * x[i];
  const amp = 10 * Math.sqrt(s / 960);
  x[at] += amp;
  const ev = analyze(x, 48000);
  assert.ok(found(ev, 'click', at / 48000, 0.005), JSON.stringify(ev));
  // Its score is its level in dB re the 20 ms before it: about +20 here (the RMS above spans both sides).
  let b = 0;
  for (let i = at - 960; i < at; i++) b += x[i] * x[i];
  const expected = 20 * Math.log10(amp / Math.sqrt(b / 960));
  const click = ev.find((e) => e.kind === 'click')!;
  assert.ok(Math.abs(click.score - expected) < 1.5, `score ${click.score} dB, injected ${expected.toFixed(1)} dB`);
});

test('--sensitivity is monotonic: every event at one setting is still there at every higher one', () => {
  const x = speech.slice();
  // Clicks from invisible to plain (the quiet spot at 1.2 s makes its 0.064 a +21 dB click), and a dropout.
  for (const [t, amp] of [[0.4, 0.004], [0.8, 0.016], [1.2, 0.064], [1.6, 0.25]] as const) x[Math.round(t * 8000) + 3] += amp;
  x.fill(0, 2000, 2040);
  const levels = [0.25, 0.5, 1, 2, 4, 10];
  const runs = levels.map((s) => analyze(x, 8000, 4096, s));
  for (let i = 0; i + 1 < runs.length; i++) {
    for (const e of runs[i]!) {
      const kept = runs[i + 1]!.some((f) => f.startSec <= e.endSec + 0.003 && f.endSec >= e.startSec - 0.003);
      assert.ok(kept, `${e.kind} at ${e.startSec} found at sensitivity ${levels[i]} but not at ${levels[i + 1]}`);
    }
  }
  assert.ok(runs[runs.length - 1]!.length > runs[0]!.length, `more at 10 than at 0.25: ${runs.map((r) => r.length)}`);
});

test('a splice (5 ms removed on the 10 ms grid) in a sustained guitar chord is a discontinuity', () => {
  const g = decode(GUITAR);
  const fs = 44100;
  const at = 441 * 30; // 0.3 s: inside the chord, on the grid
  const cut = 220;
  const x = new Float32Array(g.length - cut);
  x.set(g.subarray(0, at), 0);
  x.set(g.subarray(at + cut), at);
  const ev = analyze(x, fs);
  assert.ok(found(ev, 'discontinuity', at / fs, 0.01), JSON.stringify(ev));
  assert.equal(analyze(g, fs).filter((e) => Math.abs(e.startSec - at / fs) < 0.05), []);
});

test('5 ms cut from 8 kHz speech where the join nearly lines up is still a discontinuity (the wide step shape)', () => {
  const fs = 8000;
  const cut = 40;
  // Two joins the 3-sample step test misses (their evidence is spread over the model's memory).
  for (const from of [0.2, 2.0]) {
    const at = activeAt(speech, fs, from, from + 0.2) + 80;
    const x = new Float32Array(speech.length - cut);
    x.set(speech.subarray(0, at), 0);
    x.set(speech.subarray(at + cut), at);
    const ev = analyze(x, fs);
    assert.ok(found(ev, 'discontinuity', at / fs, 0.01), `join at ${at}: ${JSON.stringify(ev)}`);
  }
});

test('a click between drum hits is a click, and the hits themselves are not', () => {
  const amen = decode(AMEN);
  const fs = 44100;
  assert.equal(analyze(amen, fs), [], 'the clean loop has sharp transients but no clicks');
  const x = amen.slice();
  const at = activeAt(x, fs, 0.4, 1.2) + 137;
  let s = 0;
  for (let i = at - 441; i < at + 441; i++) s += x[i] * x[i];
  // +10 dB re the local RMS, two samples wide, on the loudest hit of the stretch: weaker clicks
  // right on a decaying hit are partly masked by it (the bench's recall-by-level shows how much).
  const amp = 10 ** (10 / 20) * Math.sqrt(s / 882);
  x[at] += amp;
  x[at + 1] += 0.7 * amp;
  const ev = analyze(x, fs);
  assert.ok(found(ev, 'click', at / fs, 0.005), JSON.stringify(ev));
  assert.is(ev.length, 1, JSON.stringify(ev));
});

test('8 kHz speech driven into clipping (peaks two samples wide) is clipping', () => {
  const x = speech.slice();
  const at = activeAt(x, 8000, 0.5, 2.5);
  const first = driveIntoClipping(x, at, 160, 1.5);
  const ev = analyze(x, 8000);
  assert.ok(found(ev, 'clipping', first / 8000, 0.01), JSON.stringify(ev));
});

/** `x` through libopus at `kbps` and back (ffmpeg), at 48 kHz: what a recording or an archive holds. */
function opusRoundTrip(x: Float32Array, kbps: number): Float32Array {
  const ogg = execFileSync('ffmpeg', ['-v', 'error', '-f', 'f32le', '-ar', '48000', '-ac', '1', '-i', 'pipe:0', '-c:a', 'libopus', '-b:a', `${kbps}k`, '-f', 'ogg', 'pipe:1'],
    { input: Buffer.from(x.buffer, x.byteOffset, x.byteLength), maxBuffer: 1 << 26 });
  const out = execFileSync('ffmpeg', ['-v', 'error', '-i', 'pipe:0', '-f', 'f32le', '-acodec', 'pcm_f32le', 'pipe:1'], { input: ogg, maxBuffer: 1 << 26 });
  return new Float32Array(out.buffer.slice(out.byteOffset, out.byteOffset + out.byteLength));
}

/** A copy of x with the 20 ms frame before every 250 ms (from 0.3 s) played again over the next one, wherever the audio is active (RMS over -40 dBFS). */
function replayFrames(src: Float32Array): Float32Array {
  const x = src.slice();
  for (let t = 0.3; t < x.length / 48000 - 0.3; t += 0.25) {
    const at = Math.round(t * 48000);
    let e = 0;
    for (let k = at - 960; k < at; k++) e += x[k] * x[k];
    if (e / 960 >= 1e-4) x.copyWithin(at, at - 960, at);
  }
  return x;
}

/** Zeroes `hole` samples every 200 ms (48 kHz) wherever the audio is active either side; returns `x`. */
function punchHoles(x: Float32Array, hole: number): Float32Array {
  const rms = (i: number) => { let s = 0; for (let k = i; k < i + 480; k++) s += x[k] * x[k]; return s / 480; };
  for (let t = 0.3; t < x.length / 48000 - 0.3; t += 0.2) {
    const at = Math.round(t * 48000);
    if (rms(at - 480) >= 1e-4 && rms(at + hole) >= 1e-4) x.fill(0, at, at + hole);
  }
  return x;
}

function analyzeLossy(x: Float32Array): DetectEvent[] {
  const a = new ChannelAnalyzer(48000, 0, { lossy: true });
  a.push(x);
  return a.finish();
}

test('after an Opus round trip (32 kb/s), a replayed 20 ms frame is a repeat and a 30 ms hole a dropout; the clean copy gives neither', () => {
  const x = voice.slice();
  // In the word's onset: inside a held vowel a replayed frame is the vowel again, neither heard nor found.
  const rep = Math.round(0.3 * 48000);
  x.copyWithin(rep, rep - 960, rep); // the frame before, played again over the next one
  const hole = activeAt(x, 48000, 0.8, 1.2);
  x.fill(0, hole, hole + 1440);
  const ev = analyzeLossy(opusRoundTrip(x, 32));
  assert.ok(found(ev, 'repeat', rep / 48000, 0.01), JSON.stringify(ev));
  assert.ok(found(ev, 'dropout', hole / 48000, 0.01), JSON.stringify(ev));
  const clean = analyzeLossy(opusRoundTrip(voice, 32));
  assert.not.ok(clean.some((e) => e.kind === 'repeat' || e.kind === 'dropout'), JSON.stringify(clean));
});

test('the block size does not change the result', () => {
  const x = speech.slice();
  const at = activeAt(x, 8000, 0.5, 2.5);
  x.fill(0, at, at + 100);
  x[at + 1234] += 0.3;
  const ref = analyze(x, 8000, x.length);
  assert.ok(ref.length >= 1);
  for (const block of [1, 7, 160, 4096, 8193]) assert.equal(analyze(x, 8000, block), ref, `block ${block}`);
});


test('after an Opus round trip (24 kb/s), a 12 ms hole in 8 kHz speech is a dropout where it starts, though the codec-filled hole falls twice', () => {
  // Holes every 200 ms wherever the speech is active either side (the codec's state depends on
  // them all); the one at 2.5 s is filled by the codec 20-30 dB down and then falls again.
  const x = punchHoles(decode48k(speech8k()), 576);
  const ev = analyzeLossy(opusRoundTrip(x, 24));
  assert.ok(found(ev, 'dropout', 2.5, 0.01), JSON.stringify(ev.filter((e) => Math.abs(e.startSec - 2.5) < 0.1)));
});

test('after an Opus round trip (16 kb/s), a voice normalised to just under full scale, which the codec returns a little over it, is not clipping; a burst driven into clipping still is', () => {
  let peak = 0;
  for (const v of voice) peak = Math.max(peak, Math.abs(v));
  const loud = voice.map((v) => (v * 0.99) / peak);
  const clean = analyzeLossy(opusRoundTrip(loud, 16));
  assert.not.ok(clean.some((e) => e.kind === 'clipping'), JSON.stringify(clean));
  const x = voice.slice();
  const first = driveIntoClipping(x, activeAt(x, 48000, 0.3, 1.0), 960, 2.5);
  const ev = analyzeLossy(opusRoundTrip(x, 16));
  assert.ok(found(ev, 'clipping', first / 48000, 0.01), JSON.stringify(ev));
});

test('after an Opus round trip at 16 kb/s, where the codec noise is loud, replayed 20 ms frames in 8 kHz speech are repeats; the clean copy gives none', () => {
  // A frame replayed every 250 ms wherever the speech is active; at 16 kb/s the copies at 1.05 s
  // and 1.30 s differ from their originals by more than -15 dB over the full band (not under 1.5 kHz).
  const src = decode48k(speech8k());
  const x = replayFrames(src);
  const ev = analyzeLossy(opusRoundTrip(x, 16));
  for (const t of [1.05, 1.3]) assert.ok(found(ev, 'repeat', t, 0.01), `${t}: ${JSON.stringify(ev.filter((e) => Math.abs(e.startSec - t) < 0.1))}`);
  const clean = analyzeLossy(opusRoundTrip(src, 16));
  assert.not.ok(clean.some((e) => e.kind === 'repeat'), JSON.stringify(clean));
});

test('after an Opus round trip (24 kb/s), a replayed 20 ms frame is a repeat, not also a dropout where the codec smears its join', () => {
  const ev = analyzeLossy(opusRoundTrip(replayFrames(voice), 24));
  assert.ok(found(ev, 'repeat', 0.3, 0.01), JSON.stringify(ev));
  assert.not.ok(ev.some((e) => e.kind === 'dropout' && Math.abs(e.startSec - 0.31) < 0.03), JSON.stringify(ev));
});

test('after an Opus round trip (32 kb/s), a 20 ms frame replayed inside a voiced vowel, where the voice also repeats itself at about that lag, is a repeat; the clean copy gives none', () => {
  // The copy at 1.05 s: a lag either side the vowel matches itself too (no "not earlier, not
  // later" dip), but far less closely than the copy matches its original.
  const ev = analyzeLossy(opusRoundTrip(replayFrames(voice), 32));
  assert.ok(found(ev, 'repeat', 1.05, 0.01), JSON.stringify(ev));
  const clean = analyzeLossy(opusRoundTrip(voice, 32));
  assert.not.ok(clean.some((e) => e.kind === 'repeat'), JSON.stringify(clean));
});

test('after an Opus round trip (24 kb/s), 20 ms holes the codec fills only 20-26 dB under 8 kHz speech are dropouts; the clean copy gives none', () => {
  // Holes every 200 ms wherever the speech is active either side; those at 0.5 s and 2.9 s come
  // back as a shallow, wandering fill in one ongoing sound (dips.ts's shallow tracker).
  const src = decode48k(speech8k());
  const x = punchHoles(src.slice(), 960);
  const ev = analyzeLossy(opusRoundTrip(x, 24));
  for (const t of [0.5, 2.9]) assert.ok(found(ev, 'dropout', t, 0.01), `${t}: ${JSON.stringify(ev.filter((e) => Math.abs(e.startSec - t) < 0.1))}`);
  const clean = analyzeLossy(opusRoundTrip(src, 24));
  assert.not.ok(clean.some((e) => e.kind === 'dropout'), JSON.stringify(clean));
});

test('after an Opus round trip (64 kb/s), the drum loop\'s own dips that touch bottom for a block or two are not dropouts; a 20 ms hole cut into it still is', () => {
  // arovane_beat_a's level falls 30-40 dB for a moment at 8.31, 9.91 and 10.28 s and climbs back
  // at once; a lost buffer's fill stays low (its median block as deep as the hole).
  const x = decode48k(join(SAMPLES, 'arovane_beat_a.flac'));
  const clean = analyzeLossy(opusRoundTrip(x, 64));
  for (const t of [8.308, 9.912, 10.282]) assert.not.ok(found(clean, 'dropout', t, 0.01), `${t}: ${JSON.stringify(clean.filter((e) => Math.abs(e.startSec - t) < 0.1))}`);
  x.fill(0, 6.2 * 48000, 6.2 * 48000 + 960);
  const ev = analyzeLossy(opusRoundTrip(x, 64));
  assert.ok(found(ev, 'dropout', 6.2, 0.01), JSON.stringify(ev.filter((e) => Math.abs(e.startSec - 6.2) < 0.1)));
});

test.run();
