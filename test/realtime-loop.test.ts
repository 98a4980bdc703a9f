/**
 * The audio loop and its jitter buffer on a synthetic clock: a source's uneven
 * delivery costs nothing, our own lateness is a deadline miss, audio really
 * missing is concealed where it was missing, late audio is dropped only where
 * it overlaps concealment.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AudioLoop } from '../src/realtime/audio-loop';
import { Concealer } from '../src/realtime/conceal';
import { CONCEALED, DEADLINE_MISSED, FRAME_SAMPLES, type Frame } from '../src/realtime/frame';
import { FrameRing } from '../src/realtime/ring';
import { RtStats, Stat } from '../src/realtime/stats';

const MS = 1e6;
const T0 = 1e12;

function setup(slots = 4096) {
  const ring = FrameRing.create({ slots, channels: 1 });
  const stats = RtStats.create();
  const loop = new AudioLoop(ring, stats, { channels: 1, bitrate: 32000, conceal: 'fade', paced: true, maxJitterMs: 500 });
  const frames: Frame[] = [];
  const drain = () => {
    const f = {} as Frame;
    while (ring.peek(f)) {
      frames.push({ ...f, pcm: f.pcm.slice(), opus: f.opus.slice() });
      ring.release();
    }
    return frames;
  };
  return { ring, stats, loop, frames, drain };
}

/** Source sample i: a counter, so the recording can be checked sample by sample. */
const value = (i: number) => (((i % 30000) + 30000) % 30000) - 15000;
function pcm(from: number, n: number): Buffer {
  const b = Buffer.alloc(n * 2);
  for (let i = 0; i < n; i++) b.writeInt16LE(value(from + i), i * 2);
  return b;
}

interface Delivery {
  ms: number;
  from: number;
  samples: number;
  /** Our thread's lateness at the wake that reads it. */
  lateMs?: number;
}

/** Runs the loop as a driver would: a wake at every delivery, and timer wakes every 10 ms between. */
function drive(loop: AudioLoop, deliveries: Delivery[], endMs: number): void {
  let d = 0;
  for (let ms = 0; ms <= endMs; ms += 1) {
    const due = [];
    while (d < deliveries.length && deliveries[d]!.ms <= ms) due.push(deliveries[d++]!);
    if (!due.length && ms % 10) continue;
    const now = T0 + ms * MS;
    loop.wake(Math.max(0, ...due.map((x) => (x.lateMs ?? 0) * MS)));
    for (const x of due) loop.input(pcm(x.from, x.samples), x.samples * 2, now);
    loop.tick(now);
  }
}

/** A source delivering `chunkMs` chunks at real time, each when its last sample is captured. */
function chunked(chunkMs: number, totalMs: number, opts: { startMs?: number; lostFromMs?: number; lostMs?: number } = {}): Delivery[] {
  const out: Delivery[] = [];
  const n = (chunkMs * 48000) / 1000;
  for (let k = 0; (k + 1) * chunkMs <= totalMs; k++) {
    const at = k * chunkMs;
    if (opts.lostFromMs !== undefined && at >= opts.lostFromMs && at < opts.lostFromMs + opts.lostMs!) continue;
    out.push({ ms: (opts.startMs ?? 0) + (k + 1) * chunkMs, from: k * n, samples: n });
  }
  return out;
}

function exact(frames: Frame[], fromFrame = 0): boolean {
  for (const f of frames.slice(fromFrame)) for (let i = 0; i < FRAME_SAMPLES; i++) if (f.pcm[i] !== value(f.seq * FRAME_SAMPLES + i)) return false;
  return true;
}

test('a source pushing 20, 60, 150 or 400 ms chunks loses nothing: no concealment, no miss, sample-exact', () => {
  for (const chunk of [20, 60, 150, 400]) {
    const { loop, stats, drain } = setup();
    drive(loop, chunked(chunk, 6000), 6100);
    const frames = drain();
    assert.is(frames.length, 300, `${chunk} ms chunks`);
    assert.is(stats.get(Stat.ConcealedSamples), 0, `${chunk} ms chunks concealed nothing`);
    assert.is(stats.get(Stat.LateAudioDropped), 0);
    assert.is(stats.get(Stat.DeadlineMisses), 0);
    assert.ok(exact(frames), `${chunk} ms chunks recorded sample-exact`);
    assert.ok(stats.sourceJitter.maxUs >= (chunk - 20) * 1000, `the source's jitter is measured (${stats.sourceJitter.maxUs} µs)`);
  }
});

test('a source that is always uneven (100 ms bursts, up to 60 ms late) is learnt: not held, nothing concealed', () => {
  const { loop, stats, drain } = setup();
  const late = [0, 45, 10, 60, 5, 30, 55, 15, 40, 20];
  const d = chunked(100, 20000).map((x, k) => ({ ...x, ms: x.ms + late[k % late.length]! }));
  drive(loop, d, 20200);
  drain();
  assert.is(stats.get(Stat.ConcealedSamples), 0);
  assert.is(stats.get(Stat.LateAudioDropped), 0);
  assert.ok(stats.held.quantileUs(0.9) < 1000, `held p90 ${stats.held.quantileUs(0.9)} µs: once learnt, bursts go straight out`);
});

test('one read far ahead of the rest (a burst let out early, as ffmpeg -re does) makes no later read look late', () => {
  const { loop, stats, drain } = setup();
  // 256 ms chunks written as each one starts (ahead of real time); chunk 20 comes early, with chunk 19.
  const n = 12288;
  const d: Delivery[] = [];
  for (let k = 0; k < 40; k++) d.push({ ms: 5 + (k === 20 ? 19 : k) * 256, from: k * n, samples: n });
  drive(loop, d, 40 * 256 + 100); // the input ends there
  const frames = drain();
  assert.is(stats.get(Stat.ConcealedSamples), 0);
  assert.is(stats.get(Stat.LateAudioDropped), 0);
  assert.ok(exact(frames));
});

test('our own lateness is a deadline miss, on the frames that waited for us', () => {
  const { loop, stats, drain } = setup();
  const d = chunked(20, 3000);
  // Our thread is starved 300 ms at 1 s: the pipe keeps 15 frames, read at once by a wake 300 ms late.
  const stalled = d.filter((x) => x.ms > 1000 && x.ms <= 1300).map((x) => ({ ...x, ms: 1300, lateMs: 300 }));
  drive(loop, [...d.filter((x) => x.ms <= 1000), ...stalled, ...d.filter((x) => x.ms > 1300)], 3100);
  const frames = drain();
  const missed = frames.filter((f) => f.flags & DEADLINE_MISSED).map((f) => f.seq);
  assert.equal(missed, [50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64]);
  assert.is(stats.get(Stat.ConcealedSamples), 0, 'late, not lost');
  assert.ok(exact(frames));
});

test('a source that stops 300 ms and resumes live: one dropout where it stopped, nothing after it lost', () => {
  const { loop, stats, drain } = setup();
  drive(loop, chunked(20, 5000, { lostFromMs: 2000, lostMs: 300 }), 5100);
  const frames = drain();
  const concealed = frames.filter((f) => f.flags & CONCEALED).map((f) => f.seq);
  assert.equal(concealed, Array.from({ length: 15 }, (_, i) => 100 + i), 'frames 100-114: 2.0 s to 2.3 s');
  assert.is(stats.get(Stat.ConcealmentEvents), 1);
  assert.is(stats.get(Stat.DeadlineMisses), 0, 'the source stopped, not us');
  assert.is(frames.length, 250, 'the timeline stays on the wall clock');
  assert.ok(exact(frames, 116), 'every sample after the gap (and its 5 ms fade-in) is at its place');
  assert.ok(stats.held.maxUs >= 150_000 && stats.held.maxUs <= 520_000, `frames after the hole waited for the decision (${stats.held.maxUs} µs)`);
});

test('a source that stalls 300 ms and then catches up in a burst loses nothing', () => {
  const { loop, stats, drain } = setup();
  const d = chunked(20, 4000);
  const late = d.map((x) => (x.ms > 2000 && x.ms <= 2300 ? { ...x, ms: 2300 + (x.ms - 2000) / 20 } : x)); // 15 periods in 15 ms
  drive(loop, late, 4100);
  const frames = drain();
  assert.is(stats.get(Stat.ConcealedSamples), 0);
  assert.is(stats.get(Stat.DeadlineMisses), 0);
  assert.is(frames.length, 200);
  assert.ok(exact(frames));
});

test('input missing beyond --max-jitter is concealed; if it arrives after all, only the overlap is dropped', () => {
  const { loop, stats, drain } = setup();
  const d = chunked(20, 5000);
  // Nothing from 2 s to 3 s, then all of it at once (a source that stalled past the bound).
  const late = d.map((x) => (x.ms > 2000 && x.ms <= 3000 ? { ...x, ms: 3000 } : x));
  drive(loop, late, 5100);
  const frames = drain();
  const concealed = stats.get(Stat.ConcealedSamples);
  const dropped = stats.get(Stat.LateAudioDropped);
  // Concealment started 500 ms past due and ran to 2.5 s: its 500 ms were filled, and that overlap is dropped.
  assert.ok(concealed >= 0.47 * 48000 && concealed <= 0.5 * 48000, `concealed ${concealed}`);
  assert.is(dropped, concealed, 'dropped exactly what overlaps the concealed time');
  assert.is(frames.length, 250, 'the timeline stays on the wall clock');
  const drop = frames.find((f) => f.droppedBefore);
  assert.ok(drop && drop.droppedBefore === dropped, 'the frame after the drop says how much');
  assert.ok(exact(frames.filter((f) => f.seq >= 150)), 'what follows is at its place');
});

test('a device that overran while our thread stalled: the gap goes after the audio the pipe kept', () => {
  const { loop, stats, drain } = setup();
  // 40 ms device buffer; our thread stalls 100 ms at 1 s: periods 1.04-1.10 s are lost, 1.00-1.04 s read late.
  const d = chunked(20, 3000, { lostFromMs: 1040, lostMs: 60 });
  const moved = d.map((x) => (x.ms > 1000 && x.ms <= 1100 ? { ...x, ms: 1100, lateMs: 100 } : x));
  drive(loop, moved, 3100);
  const frames = drain();
  const concealed = frames.filter((f) => f.flags & CONCEALED).map((f) => f.seq);
  assert.equal(concealed, [52, 53, 54], 'concealed 1.04-1.10 s, where the audio was lost');
  assert.ok(frames.filter((f) => f.flags & DEADLINE_MISSED).some((f) => f.seq === 50), 'and a deadline miss where we stalled');
  assert.is(stats.get(Stat.LateAudioDropped), 0);
  assert.ok(exact(frames, 56));
});

test("a source clock 0.1% off ours, either way, becomes neither gaps nor drops", () => {
  for (const ratio of [0.999, 1.001]) {
    const { loop, stats, drain } = setup();
    const d = chunked(20, 60000).map((x) => ({ ...x, ms: Math.round(x.ms / ratio) }));
    drive(loop, d, Math.round(60100 / ratio));
    drain();
    assert.is(stats.get(Stat.ConcealedSamples), 0, `ratio ${ratio}`);
    assert.is(stats.get(Stat.LateAudioDropped), 0, `ratio ${ratio}`);
  }
});

test('an early first phase is no dropout: without an arrival hole nothing is concealed', () => {
  const { loop, stats, drain } = setup();
  // A 300 ms read first (the best phase this source will ever show), then 2 s at 75% speed with no hole
  // (its phase slides 500 ms later), then real time.
  const d: Delivery[] = [{ ms: 5, from: 0, samples: 14400 }];
  let from = 14400;
  for (let k = 0; k < 100; k++, from += 720) d.push({ ms: 25 + 20 * k, from, samples: 720 });
  for (let k = 0; k < 100; k++, from += 960) d.push({ ms: 2025 + 20 * k, from, samples: 960 });
  drive(loop, d, 4100);
  const frames = drain();
  assert.is(stats.get(Stat.ConcealedSamples), 0);
  assert.is(stats.get(Stat.LateAudioDropped), 0);
  assert.ok(exact(frames));
});

test('a full ring is an egress overrun: counted, never waited on', () => {
  const { loop, stats, ring } = setup(4);
  drive(loop, chunked(20, 200), 200);
  assert.is(ring.fill(), 4);
  assert.is(stats.get(Stat.EgressOverruns), 6);
  assert.is(stats.get(Stat.Frames), 10);
});

test('fade concealment does not click: no sample step larger than the signal makes', () => {
  const c = new Concealer('fade', 1);
  const real = new Int16Array(FRAME_SAMPLES).fill(20000); // worst case: a DC level cut off
  c.real(real);
  const gap = new Int16Array(FRAME_SAMPLES);
  c.fill(gap, 0, 500);
  c.fill(gap, 500); // a gap may end in a later call, or frame
  const resumed = new Int16Array(FRAME_SAMPLES).fill(-20000);
  c.real(resumed, 0, 100);
  c.real(resumed, 100); // the fade-in carries over
  const all = [...real, ...gap, ...resumed];
  let maxStep = 0;
  for (let i = 1; i < all.length; i++) maxStep = Math.max(maxStep, Math.abs(all[i]! - all[i - 1]!));
  assert.ok(maxStep < 400, `max step ${maxStep}`); // a raised-cosine over 240 samples: < 20000*pi/480
  const silence = new Concealer('silence', 1);
  silence.real(real.slice());
  const g2 = new Int16Array(FRAME_SAMPLES);
  silence.fill(g2, 0);
  assert.is(g2[0], 0); // silence steps straight to zero: the click naive pipelines make
});

test.run();
