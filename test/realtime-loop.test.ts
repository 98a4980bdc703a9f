/** The audio loop with a synthetic clock: deadlines, dropouts, concealment and overruns. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AudioLoop } from '../src/realtime/audio-loop';
import { CONCEALED, DEADLINE_MISSED, FRAME_NS, FRAME_SAMPLES, type Frame } from '../src/realtime/frame';
import { FrameRing } from '../src/realtime/ring';
import { RtStats, Stat } from '../src/realtime/stats';
import { Concealer } from '../src/realtime/conceal';

const BYTES = FRAME_SAMPLES * 2;

function setup(slots = 256) {
  const ring = FrameRing.create({ slots, channels: 1 });
  const stats = RtStats.create();
  const loop = new AudioLoop(ring, stats, { channels: 1, bitrate: 32000, conceal: 'fade', paced: true });
  const frames: Frame[] = [];
  const drain = () => {
    const f = {} as Frame;
    while (ring.peek(f)) {
      frames.push({ ...f, pcm: f.pcm.slice(), opus: f.opus.slice() });
      ring.release();
    }
  };
  return { ring, stats, loop, frames, drain };
}

function tone(n: number, start: number): Buffer {
  const b = Buffer.alloc(n * 2);
  for (let i = 0; i < n; i++) b.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 440 * (start + i)) / 48000)), i * 2);
  return b;
}

test('on-time input: frames in order, no flags, encoded', () => {
  const { loop, frames, drain, stats } = setup();
  const t0 = 1e12;
  for (let k = 0; k < 10; k++) loop.input(tone(FRAME_SAMPLES, k * FRAME_SAMPLES), BYTES, t0 + k * FRAME_NS);
  drain();
  assert.equal(frames.map((f) => f.seq), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.ok(frames.every((f) => f.flags === 0 && f.opus.length > 0));
  assert.is(stats.get(Stat.DeadlineMisses), 0);
  assert.is(stats.get(Stat.TotalSamplesDuration), 0.2);
});

test('a stall of the consumer shows as deadline misses, not lost audio', () => {
  const { loop, frames, drain, stats } = setup();
  const t0 = 1e12;
  for (let k = 0; k < 60; k++) loop.input(tone(FRAME_SAMPLES, 0), BYTES, t0 + k * FRAME_NS);
  // 300 ms stall: the next 15 frames are all read at once, late.
  const late = t0 + 75 * FRAME_NS;
  for (let k = 60; k < 75; k++) loop.input(tone(FRAME_SAMPLES, 0), BYTES, late);
  drain();
  assert.is(frames.length, 75);
  const missed = frames.filter((f) => f.flags & DEADLINE_MISSED).map((f) => f.seq);
  assert.ok(missed.length >= 13 && missed[0] === 60, `missed ${missed}`);
  assert.is(stats.get(Stat.ConcealedSamples), 0);
});

test('missing input is concealed after 100 ms, counted once per gap, and late audio after it is dropped', () => {
  const { loop, frames, drain, stats } = setup();
  const t0 = 1e12;
  for (let k = 0; k < 60; k++) loop.input(tone(FRAME_SAMPLES, k * FRAME_SAMPLES), BYTES, t0 + k * FRAME_NS);
  // Nothing arrives for 400 ms: the clock conceals what is overdue.
  loop.tick(t0 + 80 * FRAME_NS);
  drain();
  const concealed = frames.filter((f) => f.flags & CONCEALED);
  assert.ok(concealed.length >= 14 && concealed.length <= 16, `concealed ${concealed.length}`);
  assert.is(stats.get(Stat.ConcealmentEvents), 1);
  assert.is(stats.get(Stat.ConcealedSamples), concealed.length * FRAME_SAMPLES);
  // Now 400 ms of old audio shows up at once. What arrives after a gap is placed where the wall clock
  // says (concealment fills up to it), and the rest of the burst, ahead of the clock, is dropped.
  const n = frames.length;
  for (let k = 0; k < 20; k++) loop.input(tone(FRAME_SAMPLES, 0), BYTES, t0 + 80 * FRAME_NS);
  drain();
  const after = frames.slice(n);
  assert.equal(after.filter((f) => f.flags & CONCEALED).map((f) => f.seq), [75, 76, 77, 78, 79]);
  assert.equal(after.filter((f) => !(f.flags & CONCEALED)).map((f) => f.seq), [80, 81]); // due now, or within 30 ms
  assert.is(stats.get(Stat.InputOverruns), 18);
  assert.is(stats.get(Stat.ConcealmentEvents), 1, 'one gap, one concealment event');
});

test('live input resuming after a device overrun lands at its wall-clock place', () => {
  const { loop, frames, drain } = setup();
  const t0 = 1e12;
  for (let k = 0; k < 100; k++) loop.input(tone(FRAME_SAMPLES, 0), BYTES, t0 + k * FRAME_NS);
  // The reader stalls 1 s; the device dropped what it could not buffer. Live audio resumes at frame 150's time.
  loop.tick(t0 + 150 * FRAME_NS);
  for (let k = 150; k < 160; k++) loop.input(tone(FRAME_SAMPLES, 0), BYTES, t0 + k * FRAME_NS);
  drain();
  const concealed = frames.filter((f) => f.flags & CONCEALED).map((f) => f.seq);
  assert.is(concealed[0], 100);
  assert.is(concealed[concealed.length - 1], 149, 'the gap ends where live audio resumes, not 100 ms early');
  assert.ok(frames.slice(-10).every((f) => f.latenessUs === 0));
});

test('a full ring is an egress overrun: counted, never waited on', () => {
  const { loop, stats, ring } = setup(4);
  const t0 = 1e12;
  for (let k = 0; k < 10; k++) loop.input(tone(FRAME_SAMPLES, 0), BYTES, t0 + k * FRAME_NS);
  assert.is(ring.fill(), 4);
  assert.is(stats.get(Stat.EgressOverruns), 6);
  assert.is(stats.get(Stat.Frames), 10);
});

test('fade concealment does not click: no sample step larger than the signal makes', () => {
  const c = new Concealer('fade', 1);
  const real = new Int16Array(FRAME_SAMPLES).fill(20000); // worst case: a DC level cut off
  c.real(real);
  const gap = new Int16Array(FRAME_SAMPLES);
  c.fill(gap, 0);
  const resumed = new Int16Array(FRAME_SAMPLES).fill(-20000);
  c.real(resumed);
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
