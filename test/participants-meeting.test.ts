/**
 * A meeting of participants end to end: Debian's chromium, headless, a local meeting page with
 * senders playing different speech recordings over WebRTC, the capture script injected by the
 * bot, and earshot's participants meeting (receiver -> shared memory -> the participants' audio
 * worker -> a recording per participant and the mixed recording). One browser session: four
 * participants join, the page's main thread is busy for 2 s, one participant's capture goes
 * dead and then he leaves, another joins.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import type { Browser } from 'playwright-core';
import type { MeetingEvent } from '../src/events';
import { startEmulator, type Emulator } from '../src/partners/emulator';
import type { TranscriptSegment } from '../src/partners';
import { PageMeeting } from '../src/participants/meeting';
import { participantPartners } from '../src/participants/partners';
import { MeetingEvents } from '../src/run/events';
import { Recorder } from '../src/sinks/recorder';
import { correlation, decode } from './fixtures/audio';
import { launchChromium, makeVoices, serveMeeting, TestMeeting, warpedCorrelation } from './fixtures/meeting';
import { tempDir } from './tmp';

const RATE = 48000;
const SILENT_AFTER_MS = 1000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const dir = tempDir('earshot-meeting-');
const rec = join(dir, 'rec');
const voices = makeVoices(dir);
const events: MeetingEvent[] = [];
const log = pino({ level: 'silent' });
let browser: Browser | undefined;
let meeting: PageMeeting;
let served: Awaited<ReturnType<typeof serveMeeting>> | undefined;
let whileSilent: { healthy: boolean; silent: string[]; healthz: number } | undefined;
let emulator: Emulator | undefined;
const transcripts: TranscriptSegment[] = [];
const joinedAt: Record<string, number> = {};
let leftAtSec = 0;
let brokeAtSec = 0;
let afterLeaving: { healthy: boolean; silent: string[] } | undefined;
const file = (p?: string) => (p ? join(rec, 'participants', p, 'audio.opus') : join(rec, 'audio.opus'));

test.before(async () => {
  served = await serveMeeting(voices);
  const meetingEvents = new MeetingEvents(log);
  emulator = await startEmulator({ protocol: 'deepgram', key: 'participants-test-key' });
  const recordEvents = { name: 'test', write: () => {}, event: (e: MeetingEvent) => events.push(e), close: async () => {} };
  // The README's shape: defaults for the receiver (loopback, a free port), Opus, jitter bound, priority.
  meeting = await PageMeeting.start({
    log,
    events: meetingEvents,
    sinks: [new Recorder({ dir: rec, channels: 1, wav: false }), recordEvents],
    recordDir: rec,
    silentAfterMs: SILENT_AFTER_MS,
    metrics: '127.0.0.1:0',
    // One partner connection per participant: each segment carries its speaker.
    participantSinks: participantPartners({
      specs: [{ name: 'deepgram', provider: 'deepgram', url: emulator.url, key: 'participants-test-key', params: {}, bufferMs: 120_000, interim: false, noResultsMs: 0 }],
      logger: log,
      onEvent: meetingEvents.report,
      onTranscript: (t) => transcripts.push(t),
    }),
  });
  browser = await launchChromium();
  const m = await TestMeeting.open(browser, served, meeting.captureScript({ faults: true }));
  for (const [name, voice] of [['alice', 'alice'], ['bob', 'bob'], ['carol', 'carol'], ['dave', 'carol']]) {
    joinedAt[name!] = meeting.position;
    await m.join(name!, voice!);
  }
  await sleep(800);
  await m.busy(2000); // the meeting page's main thread is busy for 2 s
  await sleep(200);
  brokeAtSec = meeting.position;
  await m.page.evaluate(() => (globalThis as any).earshot.faults.breakTap('dave'));
  await sleep(SILENT_AFTER_MS + 600);
  const healthz = (await fetch(`${meeting.metricsUrl}/healthz`)).status;
  whileSilent = { healthy: meeting.healthy(), silent: meeting.silentParticipants(), healthz };
  joinedAt.erin = meeting.position;
  await m.join('erin', 'bob');
  await m.leave('dave');
  leftAtSec = meeting.position;
  await sleep(11_000);
  afterLeaving = { healthy: meeting.healthy(), silent: meeting.silentParticipants() };
  await meeting.stop();
});

test('every participant has a recording that correlates with what it played, and all recordings align sample for sample', () => {
  for (const [name, voice] of [['alice', 'alice'], ['bob', 'bob'], ['carol', 'carol'], ['erin', 'bob']]) {
    const recording = decode(file(name));
    const source = decode(voices[voice!]!);
    const heard = name === 'erin' ? source.subarray(0, 9 * RATE) : source; // she joined late: what she played
    const r = warpedCorrelation(heard, recording.subarray(0));
    assert.ok(r >= 0.9, `${name}: r=${r.toFixed(3)}`);
  }
  const lengths = [undefined, 'alice', 'bob', 'carol', 'dave', 'erin'].map((p) => decode(file(p)).length);
  assert.ok(lengths.every((n) => n === lengths[0]), `lengths ${lengths.join(', ')}`);
});

test('the mixed recording correlates with the mix of what the participants played', () => {
  const mixed = decode(file());
  const expected = new Float64Array(mixed.length);
  for (const [name, voice] of [['alice', 'alice'], ['bob', 'bob'], ['carol', 'carol'], ['dave', 'carol'], ['erin', 'bob']]) {
    const source = decode(voices[voice!]!);
    const recording = decode(file(name));
    const at = Math.round(correlation(source.subarray(0, 2 * RATE), recording, (recording.length - 2 * RATE) / RATE, 10, 0).lagSec * RATE);
    const until = name === 'dave' ? Math.round(brokeAtSec * RATE) - at : source.length; // dave's capture went dead
    for (let i = 0; i < until && at + i < expected.length; i++) expected[at + i]! += source[i]!;
  }
  const r = warpedCorrelation(Int16Array.from(expected, (v) => Math.max(-32768, Math.min(32767, v))), mixed, 50);
  assert.ok(r >= 0.9, `mix against the sources: r=${r.toFixed(3)}`);
  // And exactly: the mix is the sum of the participants' own streams, sample-aligned.
  const sum = new Int32Array(mixed.length);
  for (const p of ['alice', 'bob', 'carol', 'dave', 'erin']) decode(file(p)).forEach((v, i) => (sum[i] += v));
  const { peak, lagSec } = correlation(Int16Array.from(sum, (v) => Math.max(-32768, Math.min(32767, v))), mixed, 0.05);
  assert.ok(peak >= 0.98 && lagSec === 0, `mix against the participants' recordings: r=${peak.toFixed(3)} at ${lagSec} s`);
});

test('a dead capture is capture_silent for that participant and unhealthy; leaving and joining are no dropouts', () => {
  const silent = events.filter((e) => e.kind === 'capture_silent');
  assert.equal(silent.map((e) => e.participant), ['dave'], JSON.stringify(silent));
  assert.equal(whileSilent, { healthy: false, silent: ['dave'], healthz: 503 }, '/healthz says so');
  assert.equal(afterLeaving, { healthy: true, silent: [] });
  // Dave's dead capture is missing audio while he is live (a dropout, besides capture_silent); it ends when he leaves.
  const dave = events.filter((e) => e.kind === 'dropout' && e.participant === 'dave');
  assert.ok(dave.every((e) => e.t + e.durationMs / 1000 <= leftAtSec + 0.2), `${JSON.stringify(dave)}, left at ${leftAtSec}`);
  assert.equal(events.filter((e) => e.kind === 'dropout' && e.participant === 'erin'), [], 'erin joined without a dropout');
  const others = events.filter((e) => e.kind === 'dropout' && ['alice', 'bob', 'carol'].includes(e.participant!));
  assert.equal(others, [], 'nobody else lost audio, the busy page included');
  assert.ok(events.filter((e) => e.kind === 'dropout' || e.kind === 'upstream_loss').every((e) => typeof e.participant === 'string'));
  const summary = meeting.participants().map((p) => `${p.participant}:${p.presence}`).sort();
  assert.equal(summary, ['alice:live', 'bob:live', 'carol:live', 'dave:left', 'erin:live']);
  assert.ok(existsSync(file('dave')) && readFileSync(file('dave')).length > 0);
});

test('with a partner connection per participant, every transcript segment carries its speaker, inside the time that speaker was there', () => {
  const speakers = new Set(transcripts.map((t) => t.speaker));
  for (const p of ['alice', 'bob', 'carol', 'erin']) assert.ok(speakers.has(p), `${p} has segments (${[...speakers].join(', ')})`);
  for (const t of transcripts) {
    assert.ok(t.start >= joinedAt[t.speaker!]! - 0.1, `${t.speaker}'s segment at ${t.start} s, joined at ${joinedAt[t.speaker!]} s`);
    if (t.speaker === 'dave') assert.ok(t.end <= leftAtSec + 0.1, `dave's segment ends at ${t.end} s, he left at ${leftAtSec} s`);
  }
});

test.after(async () => {
  await emulator?.close();
  await browser?.close();
  served?.server.close();
});
test.run();
