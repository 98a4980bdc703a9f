/**
 * Deepgram live protocol against the emulator: happy path, KeepAlive through
 * 12 s without audio, an unexpected drop mid-meeting with replay, a refused
 * key, and a stalled partner beside a healthy one.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import type { MeetingEvent } from '../src/events';
import { createPartnerSinks, parsePartnerSpecs, type TranscriptSegment } from '../src/partners';
import { startEmulator } from '../src/partners/emulator';
import { segmentAll } from '../src/partners/emulator/segmenter';
import type { PartnerStream } from '../src/partners/core/stream';
import { drive, meeting, quietLogger, readLines, unmatched } from './partners-fixture';
import { tempDir } from './tmp';

const KEY = 'dg_test_key_5f1c0ffee';
process.env.EARSHOT_TEST_DG_KEY = KEY;
const tmp = () => tempDir('earshot-partners-');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('happy path: protocol-correct stream, finals on the meeting timeline', async () => {
  const emu = await startEmulator({ protocol: 'deepgram', key: KEY });
  const dir = tmp();
  const events: MeetingEvent[] = [];
  const segments: TranscriptSegment[] = [];
  const states: string[] = [];
  const specs = parsePartnerSpecs({ partner: ['deepgram'], 'partner-url': [emu.url], 'partner-key-env': ['EARSHOT_TEST_DG_KEY'] });
  const [sink] = createPartnerSinks(specs, {
    recordDir: dir,
    channels: 1,
    logger: quietLogger(),
    onEvent: (e) => events.push(e),
    onTranscript: (t) => segments.push(t),
    onState: (c) => states.push(`${c.from}>${c.to}`),
  });
  const pcm = meeting(10);
  await drive([sink!], pcm);
  await sink!.close();
  await emu.close();

  const [s] = emu.sessions;
  assert.is(emu.sessions.length, 1);
  assert.is(s!.emptyFrames, 0, 'never an empty binary frame');
  assert.equal(s!.violations, []);
  assert.is(s!.params.encoding, 'linear16');
  assert.is(s!.params.sample_rate, '16000');
  assert.is(s!.textMessages[s!.textMessages.length - 1], '{"type":"CloseStream"}');
  assert.is(s!.closedBy, 'server', 'the server closed after Metadata, as the handshake goes');
  assert.ok(Math.abs(s!.audioSec - 10) < 0.01, `all audio sent (${s!.audioSec})`);
  const st = sink!.status();
  assert.equal(st.sessionIds, [s!.id]);
  assert.is(st.reconnects, 0);
  assert.is(st.gapsMs, 0);
  assert.equal(events, []);
  const lines = readLines(join(dir, 'transcripts.jsonl'));
  assert.ok(lines.length >= 5);
  assert.ok(lines.every((l) => l.sessionId === s!.id && l.partner === 'deepgram'));
  assert.equal(unmatched(segmentAll(pcm, 48_000), lines), []);
  assert.equal(segments, lines, 'onTranscript got every line of transcripts.jsonl, as written');
  assert.ok(lines.every((l) => l.confidence === 0.99 && l.channel === 0), 'confidence and channel where the provider gives them');
  assert.equal(states, ['connecting>open', 'open>closing', 'closing>done']);
  assert.equal(st.codec, { name: 'linear16', sampleRate: 16000, channels: 1 });
  assert.equal(st.outcome, { delivered: true });
  assert.is(st.bytesSent, 10 * 32000);
});

test('KeepAlive keeps the socket through 12 s without audio (no 1011)', async () => {
  const emu = await startEmulator({ protocol: 'deepgram' });
  const dir = tmp();
  const specs = parsePartnerSpecs({ partner: ['deepgram'], 'partner-url': [emu.url], 'partner-key-env': ['EARSHOT_TEST_DG_KEY'] });
  const [sink] = createPartnerSinks(specs, { recordDir: dir, channels: 1, logger: quietLogger(), onEvent: () => {} });
  const pcm = meeting(4);
  await drive([sink!], pcm, { to: 100 });
  await sleep(12_000);
  await drive([sink!], pcm, { from: 100 });
  await sink!.close();
  await emu.close();
  assert.is(emu.sessions.length, 1, 'one session: never closed for inactivity');
  const [s] = emu.sessions;
  assert.ok(s!.keepAlives >= 2, `KeepAlives sent: ${s!.keepAlives}`);
  assert.is(s!.closeCode, 1000);
  assert.ok(!s!.violations.some((v) => v.includes('NET-0001')));
  assert.is(sink!.status().reconnects, 0);
});

test('drop at 5 s: reconnect, replay, transcripts cover the whole timeline within 20 ms', async () => {
  const emu = await startEmulator({ protocol: 'deepgram', faults: { dropAfterSec: 5 } });
  const dir = tmp();
  const events: MeetingEvent[] = [];
  const specs = parsePartnerSpecs({ partner: ['deepgram'], 'partner-url': [emu.url], 'partner-key-env': ['EARSHOT_TEST_DG_KEY'] });
  const [sink] = createPartnerSinks(specs, {
    recordDir: dir,
    channels: 1,
    logger: quietLogger(),
    onEvent: (e) => events.push(e),
    tuning: { backoffBaseMs: 50 },
  });
  const pcm = meeting(20);
  await drive([sink!], pcm, { speed: 4 });
  await sink!.close();
  await emu.close();
  assert.is(emu.sessions.length, 2);
  assert.is(emu.sessions[0]!.closeCode, 1006);
  const st = sink!.status();
  assert.is(st.reconnects, 1);
  assert.is(st.sessionIds.length, 2);
  assert.is(st.gapsMs, 0);
  assert.equal(events, [], 'nothing lost: no partner_gap');
  // The second connection replayed from the last final, so it started before 5 s.
  const lines = readLines(join(dir, 'transcripts.jsonl'));
  assert.equal(unmatched(segmentAll(pcm, 48_000), lines), []);
  assert.ok(lines.some((l) => l.sessionId === st.sessionIds[1]), 'results from the second session too');
  for (let i = 1; i < lines.length; i++) assert.ok(lines[i]!.start >= lines[i - 1]!.end - 1e-3, 'no overlapping duplicates');
});

test('reject=401: one clear error, no retry storm, writes keep working', async () => {
  const emu = await startEmulator({ protocol: 'deepgram', faults: { reject: 401 } });
  const events: MeetingEvent[] = [];
  const logs: string[] = [];
  const specs = parsePartnerSpecs({ partner: ['deepgram'], 'partner-url': [emu.url], 'partner-key-env': ['EARSHOT_TEST_DG_KEY'] });
  const [sink] = createPartnerSinks(specs, { channels: 1, logger: quietLogger(logs), onEvent: (e) => events.push(e) });
  const pcm = meeting(3);
  await drive([sink!], pcm, { speed: 4 });
  await sleep(1000);
  const t0 = performance.now();
  await sink!.close();
  assert.ok(performance.now() - t0 < 1000, 'close does not wait on a refused partner');
  await emu.close();
  assert.is(emu.rejected.length, 1, 'one handshake, no retries');
  const err = sink!.error();
  assert.ok(err && /HTTP 401/.test(err) && /EARSHOT_TEST_DG_KEY/.test(err), err);
  assert.ok(!err!.includes(KEY));
  const errorLines = logs.filter((l) => JSON.parse(l).level >= 50);
  assert.is(errorLines.length, 1, 'exactly one error line');
  assert.ok(!logs.join('').includes(KEY), 'key never logged');
  assert.is(events.length, 1, 'the lost span is one partner_gap');
  assert.is(events[0]!.kind, 'partner_gap');
  assert.is(events[0]!.t, 0);
  assert.is(events[0]!.durationMs, 3000);
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
  const sinks = createPartnerSinks(specs, {
    recordDir: dir,
    channels: 2,
    logger: quietLogger(),
    onEvent: (e) => events.push(e),
    tuning: { closeTimeoutMs: 2000, stallMs: 60_000 },
  });
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
  assert.is(b!.gapsMs, 0);
  assert.is(healthy.sessions[0]!.closeCode, 1000);
  assert.ok(Math.abs(healthy.sessions[0]!.audioSec - 150) < 0.01);
  const lines = readLines(join(dir, 'transcripts.jsonl')).filter((l) => l.partner === 'deepgram#2');
  assert.equal(unmatched(segmentAll(pcm, 48_000), lines), []);
});

test('close codes: 1011 is retried at once, 1008 stops with one error', async () => {
  for (const [code, retried] of [
    [1011, true],
    [1008, false],
  ] as const) {
    const emu = await startEmulator({ protocol: 'deepgram', faults: { close: { code, atSec: 2 } } });
    const events: MeetingEvent[] = [];
    const specs = parsePartnerSpecs({ partner: ['deepgram'], 'partner-url': [emu.url], 'partner-key-env': ['EARSHOT_TEST_DG_KEY'], 'partner-interim': true });
    const dir = tmp();
    const [sink] = createPartnerSinks(specs, { recordDir: dir, channels: 1, logger: quietLogger(), onEvent: (e) => events.push(e), tuning: { backoffBaseMs: 20 } });
    const pcm = meeting(3);
    await drive([sink!], pcm, { speed: 4 });
    await sink!.close();
    await emu.close();
    assert.is(emu.sessions.length, retried ? 2 : 1, `close ${code}`);
    assert.is(sink!.error() === undefined, retried, `close ${code}: ${sink!.error()}`);
    if (retried) {
      assert.equal(events, []);
      const lines = readLines(join(dir, 'transcripts.jsonl'));
      assert.ok(lines.some((l) => !l.final), 'interim results written with --partner-interim');
      assert.equal(unmatched(segmentAll(pcm, 48_000), lines.filter((l) => l.final)), []);
    } else {
      assert.match(sink!.error()!, /close 1008 \(fault plan\): the partner refused the stream/);
      assert.is(events.length, 1);
      // Lost from the end of the last final (the last confirmed point) to the end of the meeting.
      const finals = readLines(join(dir, 'transcripts.jsonl')).filter((l) => l.final);
      const confirmed = finals.length ? finals[finals.length - 1]!.end : 0;
      assert.ok(Math.abs(events[0]!.t - confirmed) < 0.02, `gap starts at ${events[0]!.t}, last final ended at ${confirmed}`);
      assert.ok(Math.abs(events[0]!.t + events[0]!.durationMs / 1000 - 3) < 0.02, 'and runs to the end');
    }
  }
});

test('an unreachable partner: retried, then close() does not hold the run', async () => {
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
  assert.ok(sink!.status().reconnects >= 2, 'kept retrying while the meeting ran');
  assert.is(sink!.error(), undefined, 'an unreachable partner is retried, not given up on');
  assert.is(events.length, 1);
  assert.is(events[0]!.durationMs, 2000);
});

test.run();
