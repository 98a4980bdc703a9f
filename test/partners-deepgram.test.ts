/**
 * Deepgram quirks beyond the conformance suite: Opus sent as Ogg pages
 * (decoded by the emulator, so the timestamps prove the audio), close 1011
 * retried and 1008 (DATA-0000) final, a stalled partner beside a healthy
 * one with memory bounded, an unreachable partner reported as such, and multichannel (each
 * channel transcribed on its own across a drop).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import type { MeetingEvent } from '../src/events';
import { createPartnerSinks, parsePartnerSpecs } from '../src/partners';
import type { PartnerStream } from '../src/partners/core/stream';
import { startEmulator } from '../src/partners/emulator';
import { segmentAll } from '../src/partners/emulator/segmenter';
import { FRAME_SAMPLES } from '../src/realtime/frame';
import { drive, meeting, opusPackets, quietLogger, readLines, truthFor, unmatched } from './partners-fixture';
import { tempDir } from './tmp';

process.env.EARSHOT_TEST_DG_KEY = 'dg_test_key_5f1c0ffee';
const tmp = () => tempDir('earshot-dg-');

test('--partner-codec opus: Ogg Opus pages without encoding/sample_rate, decoded by the partner, times within 20 ms, a drop replayed', async () => {
  const emu = await startEmulator({ protocol: 'deepgram', faults: { dropAfterSec: 4 } });
  const dir = tmp();
  const events: MeetingEvent[] = [];
  const specs = parsePartnerSpecs({ partner: ['deepgram'], 'partner-url': [emu.url], 'partner-key-env': ['EARSHOT_TEST_DG_KEY'], 'partner-codec': ['opus'] });
  const [sink] = createPartnerSinks(specs, { recordDir: dir, channels: 1, logger: quietLogger(), onEvent: (e) => events.push(e), tuning: { backoffBaseMs: 30 } });
  const pcm = meeting(10);
  await drive([sink!], pcm, { speed: 4, opus: opusPackets(pcm) });
  await sink!.close();
  await emu.close();
  assert.is(emu.sessions.length, 2);
  for (const s of emu.sessions) {
    assert.is(s.format, 'ogg-opus');
    assert.equal(s.violations, [], 'every connection a valid Ogg Opus stream');
    assert.not.ok('encoding' in s.params || 'sample_rate' in s.params, 'containerized: no encoding or sample_rate');
  }
  assert.ok(Math.abs(emu.sessions[1]!.audioSec + 4 - 10) < 1.5, 'the second stream carried the replay and the rest');
  const st = sink!.status();
  assert.equal(st.codec, { name: 'opus', sampleRate: 48000, channels: 1 });
  assert.is(st.gapsMs, 0);
  assert.equal(events, []);
  assert.equal(unmatched(segmentAll(pcm, 48_000), readLines(join(dir, 'transcripts.jsonl'))), []);
  // 64 kb/s Opus plus Ogg framing, against 256 kb/s of 16 kHz linear16.
  const kbps = (st.bytesSent * 8) / st.audioSecSent / 1000;
  assert.ok(kbps < 90, `${kbps.toFixed(1)} kb/s`);
});

test('multichannel: one connection, each channel transcribed on its own, a drop replayed with no channel losing or repeating speech', async () => {
  // The drop comes 1.5 s into a turn on channel 0 (a 3 s tone from 2 s), after channel 1's latest final (its
  // silence, finalised at 3 s): audio is confirmed only up to the earliest channel's final, so the turn is replayed whole.
  const emu = await startEmulator({ protocol: 'deepgram', faults: { dropAfterSec: 3.5 } });
  const dir = tmp();
  const events: MeetingEvent[] = [];
  const specs = parsePartnerSpecs({ partner: ['deepgram'], 'partner-url': [emu.url], 'partner-key-env': ['EARSHOT_TEST_DG_KEY'], 'partner-param': ['multichannel=true', 'channels=2'] });
  const [sink] = createPartnerSinks(specs, { recordDir: dir, channels: 2, logger: quietLogger(), onEvent: (e) => events.push(e), tuning: { backoffBaseMs: 30 } });
  // Two speakers: on channel 0 the tone, then speech from 6 s; on channel 1 speech from 4.5 s (they overlap).
  const voices = [meeting(10, 1.2, 6), meeting(10, 1.2, 4.5)];
  for (let i = 2 * 48_000; i < 5 * 48_000; i++) voices[0]![i] = Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 48_000));
  const stereo = new Int16Array(voices[0]!.length * 2);
  voices.forEach((v, c) => v.forEach((x, i) => (stereo[2 * i + c] = x)));
  const t0 = performance.now();
  for (let seq = 0; seq < voices[0]!.length / FRAME_SAMPLES; seq++) {
    const wait = (seq * 20) / 4 - (performance.now() - t0);
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    sink!.write({ seq, captureNs: Number(process.hrtime.bigint()), latenessUs: 0, flags: 0, channels: 2, pcm: stereo.subarray(seq * FRAME_SAMPLES * 2, (seq + 1) * FRAME_SAMPLES * 2), opus: new Uint8Array(0) });
  }
  await sink!.close();
  await emu.close();
  assert.is(emu.sessions.length, 2, 'dropped once, reconnected');
  assert.equal([emu.sessions[0]!.params.multichannel, emu.sessions[0]!.params.channels], ['true', '2']);
  assert.equal(events, []);
  const lines = readLines(join(dir, 'transcripts.jsonl'));
  voices.forEach((v, c) => assert.equal(unmatched(truthFor('deepgram', v), lines.filter((l) => l.channel === c)), [], `channel ${c}`));
  assert.is(sink!.status().gapsMs, 0);
});

test('close codes: 1011 is retried at once, 1008 (DATA-0000) stops with one error', async () => {
  for (const [code, retried] of [
    [1011, true],
    [1008, false],
  ] as const) {
    const emu = await startEmulator({ protocol: 'deepgram', faults: { close: { code, atSec: 2 } } });
    const events: MeetingEvent[] = [];
    const dir = tmp();
    const specs = parsePartnerSpecs({ partner: ['deepgram'], 'partner-url': [emu.url], 'partner-key-env': ['EARSHOT_TEST_DG_KEY'], 'partner-interim': true });
    const [sink] = createPartnerSinks(specs, { recordDir: dir, channels: 1, logger: quietLogger(), onEvent: (e) => events.push(e), tuning: { backoffBaseMs: 20 } });
    const pcm = meeting(3);
    await drive([sink!], pcm, { speed: 4 });
    await sink!.close();
    await emu.close();
    assert.is(emu.sessions.length, retried ? 2 : 1, `close ${code}`);
    assert.is(sink!.error() === undefined, retried, `close ${code}: ${sink!.error()}`);
    const lines = readLines(join(dir, 'transcripts.jsonl'));
    if (retried) {
      assert.equal(events, []);
      assert.ok(lines.some((l) => !l.final), 'interim results written with --partner-interim');
      assert.equal(unmatched(segmentAll(pcm, 48_000), lines.filter((l) => l.final)), []);
    } else {
      assert.match(sink!.error()!, /close 1008 \(fault plan\): the partner refused the stream/);
      assert.equal(events.map((e) => e.kind), ['partner_down', 'partner_gap']);
      // Lost from the end of the last final (the last confirmed point) to the end of the meeting.
      const finals = lines.filter((l) => l.final);
      const confirmed = finals.length ? finals[finals.length - 1]!.end : 0;
      const gap = events[1]!;
      assert.ok(Math.abs(gap.t - confirmed) < 0.02, `gap starts at ${gap.t}, last final ended at ${confirmed}`);
      assert.ok(Math.abs(gap.t + gap.durationMs / 1000 - 3) < 0.02, 'and runs to the end');
    }
  }
});

test('a stalled partner: memory bounded, the other partner and the fan-out unaffected', async () => {
  const stalled = await startEmulator({ protocol: 'deepgram', faults: { stall: { atSec: 1 } } });
  const healthy = await startEmulator({ protocol: 'deepgram' });
  const dir = tmp();
  const events: MeetingEvent[] = [];
  const specs = parsePartnerSpecs({
    partner: ['deepgram', 'deepgram'],
    'partner-url': [stalled.url, healthy.url],
    'partner-key-env': ['EARSHOT_TEST_DG_KEY', 'EARSHOT_TEST_DG_KEY'],
    'partner-buffer': '5s',
    'partner-param': ['deepgram.sample_rate=48000', 'deepgram.channels=2'],
  });
  // The watchdog off (stallMs), so the buffer bound is what is tested here.
  const sinks = createPartnerSinks(specs, { recordDir: dir, channels: 2, logger: quietLogger(), onEvent: (e) => events.push(e), tuning: { closeTimeoutMs: 2000, stallMs: 600_000 } });
  let recorded = 0;
  const recorder = { name: 'recorder', write: () => void recorded++, close: async () => {} };
  const pcm = meeting(150);
  const heap0 = process.memoryUsage().heapUsed;
  let maxBuffered = 0;
  const watch = setInterval(() => (maxBuffered = Math.max(maxBuffered, (sinks[0] as PartnerStream).bufferedSec())), 20);
  await drive([recorder, ...sinks], pcm, { channels: 2 });
  clearInterval(watch);
  const heapGrowth = process.memoryUsage().heapUsed - heap0;
  await Promise.all(sinks.map((s) => s.close()));
  await stalled.close();
  await healthy.close();
  assert.is(recorded, pcm.length / 960, 'the recorder saw every frame');
  assert.ok(maxBuffered <= 5.1, `replay buffer bounded: ${maxBuffered.toFixed(2)} s`);
  assert.ok(heapGrowth < 64 << 20, `heap growth ${(heapGrowth / 1e6).toFixed(1)} MB`);
  const [a, b] = sinks.map((s) => s.status());
  assert.ok(a!.gapsMs > 0, 'the stalled partner reports what it lost');
  assert.ok(events.every((e) => e.kind === 'partner_gap' && e.detail?.partner === 'deepgram'));
  assert.ok(events.some((e) => /buffer overflowed/.test(String(e.detail?.reason))), 'the cause is the buffer, and it says so');
  assert.is(b!.gapsMs, 0);
  assert.is(healthy.sessions[0]!.closeCode, 1000);
  const lines = readLines(join(dir, 'transcripts.jsonl')).filter((l) => l.partner === 'deepgram#2');
  assert.equal(unmatched(segmentAll(pcm, 48_000), lines), []);
});

test('an unreachable partner: retried, close() does not hold the run, reported as never connected', async () => {
  const emu = await startEmulator({ protocol: 'deepgram' });
  const url = emu.url;
  await emu.close(); // nothing listens there now
  const events: MeetingEvent[] = [];
  const specs = parsePartnerSpecs({ partner: ['deepgram'], 'partner-url': [url], 'partner-key-env': ['EARSHOT_TEST_DG_KEY'] });
  const [sink] = createPartnerSinks(specs, { channels: 1, logger: quietLogger(), onEvent: (e) => events.push(e), tuning: { backoffBaseMs: 50 } });
  await drive([sink!], meeting(2), { speed: 4 });
  const t0 = performance.now();
  await sink!.close();
  assert.ok(performance.now() - t0 < 1000, 'close returns at once');
  const st = sink!.status();
  assert.ok(st.reconnects >= 2, 'kept retrying while the meeting ran');
  assert.is(sink!.error(), undefined, 'an unreachable partner is retried, not given up on');
  assert.is(st.outcome.problem, 'never_connected');
  assert.match(st.outcome.reason!, /never connected \(.*ECONNREFUSED.*\) - check --partner-url/);
  assert.equal(events.map((e) => e.kind), ['partner_gap', 'partner_down']);
  assert.is(events[0]!.durationMs, 2000);
  assert.match(String(events[0]!.detail?.reason), /^the partner never connected/, 'not "outage outlasted the buffer"');
});

test.run();
