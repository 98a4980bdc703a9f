/**
 * The capture watchdog on a plain stream of frames (what a Pulse monitor delivers through the
 * audio worker): real speech keeps it quiet, a monitor gone digitally silent is capture_silent
 * after the configured time and unhealthy until sound returns; concealment is not sound.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { MeetingEvent } from '../src/events';
import { SilenceWatchdog, silenceSink } from '../src/ingest/silence';
import { CONCEALED, FRAME_SAMPLES, type Frame } from '../src/realtime/frame';
import { decode, SPEECH } from './fixtures/audio';

function run(frames: Array<{ pcm: Int16Array; flags?: number }>) {
  let nowMs = 0;
  const events: MeetingEvent[] = [];
  const health: string[][] = [];
  const dog = new SilenceWatchdog({ afterMs: 1000, report: (e) => events.push(e), timelineSec: (ms) => ms / 1000, onChange: (s) => health.push(s), now: () => nowMs });
  const sink = silenceSink(dog);
  frames.forEach((f, seq) => {
    sink.write({ seq, pcm: f.pcm, flags: f.flags ?? 0, channels: 1, captureNs: 0, latenessUs: 0, opus: new Uint8Array() } as Frame);
    nowMs += 20;
    dog.check();
  });
  return { events, health, silent: dog.silent() };
}

const speech = decode(SPEECH);
const frameOf = (i: number) => speech.subarray(i * FRAME_SAMPLES, (i + 1) * FRAME_SAMPLES);
const zeros = new Int16Array(FRAME_SAMPLES);

test('real speech, pauses included, never reads as a silent capture', () => {
  const frames = Array.from({ length: Math.floor(speech.length / FRAME_SAMPLES) }, (_, i) => ({ pcm: frameOf(i) }));
  assert.equal(run(frames).events, []);
});

test('a monitor gone digitally silent is capture_silent after the configured time, and recovers with sound', () => {
  const frames = [...Array.from({ length: 100 }, (_, i) => ({ pcm: frameOf(i) })), ...Array.from({ length: 100 }, () => ({ pcm: zeros })), { pcm: frameOf(150) }];
  const r = run(frames);
  assert.is(r.events.length, 1);
  assert.is(r.events[0]!.kind, 'capture_silent');
  assert.ok(Math.abs(r.events[0]!.t - 2.0) <= 0.04, `silence began at ${r.events[0]!.t} s (the last frame with sound, handed over at 1.98 s)`);
  assert.ok(r.events[0]!.durationMs >= 1000 && r.events[0]!.durationMs <= 1040);
  assert.equal(r.health, [['input'], []], 'unhealthy, then healthy again when sound came back');
});

test('concealment is not sound: a source that only conceals goes silent', () => {
  const loud = new Int16Array(FRAME_SAMPLES).fill(3000);
  const frames = [{ pcm: frameOf(20) }, ...Array.from({ length: 60 }, () => ({ pcm: loud, flags: CONCEALED }))];
  assert.equal(run(frames).events.map((e) => e.kind), ['capture_silent']);
});

test.run();
