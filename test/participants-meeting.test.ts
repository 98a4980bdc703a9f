/**
 * A meeting of participants end to end, through the library: Debian's chromium, headless, a local
 * meeting page with senders playing different speech recordings over WebRTC, the capture script
 * injected by the bot, and `startMeeting({ input: 'page:127.0.0.1:0' })` (receiver -> shared
 * memory -> the participants' audio worker -> a recording per participant, the mixed recording,
 * a partner connection per participant). One browser session: four participants join, one
 * participant's capture goes dead and then he leaves; later one participant leaves normally as
 * another joins. (The busy page is
 * participants-page's: here it would only add load.)
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import type { MeetingEvent } from '../src/events';
import { startMeeting, type Meeting, type RunSummary, type TranscriptSegment } from '../src';
import { startEmulator, type Emulator } from '../src/partners/emulator';
import { correlation, decode } from './fixtures/audio';
import { launchChromium, makeVoices, note, serveMeeting, TestMeeting, warpedCorrelation } from './fixtures/meeting';
import { tempDir } from './tmp';

const RATE = 48000;
const SILENT_AFTER_MS = 1000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const dir = tempDir('earshot-meeting-');
const rec = join(dir, 'rec');
const voices = makeVoices(dir);
const events: MeetingEvent[] = [];
let browser: Browser | undefined;
let meeting: Meeting;
let summary: RunSummary;
/** Seconds on the meeting's timeline now (its last published event or frame). */
const position = () => (meeting as unknown as { now(): number }).now();
let served: Awaited<ReturnType<typeof serveMeeting>> | undefined;
let whileSilent: { status: string; healthz: string } | undefined;
let emulator: Emulator | undefined;
const transcripts: TranscriptSegment[] = [];
const joinedAt: Record<string, number> = {};
let leftAtSec = 0;
let aliceLeftAtSec = 0;
let brokeAtSec = 0;
let afterLeaving: { status: string } | undefined;
const file = (p?: string) => (p ? join(rec, 'participants', p, 'audio.opus') : join(rec, 'audio.opus'));

test.before(async () => {
  served = await serveMeeting(voices);
  emulator = await startEmulator({ protocol: 'deepgram', key: 'participants-test-key' });
  meeting = await startMeeting({
    input: 'page:127.0.0.1:0',
    record: rec,
    metrics: '127.0.0.1:0',
    captureSilentAfter: SILENT_AFTER_MS,
    // One partner connection per participant: each segment carries its speaker.
    partners: [{ provider: 'deepgram', url: emulator!.url, key: 'participants-test-key' }],
    participantTranscripts: 'each',
  });
  meeting.on('event', (e) => events.push(e));
  meeting.on('transcript', (t) => transcripts.push(t));
  browser = await launchChromium();
  const m = await TestMeeting.open(browser, served, meeting.page!.captureScript({ faults: true }));
  for (const [name, voice] of [['alice', 'alice'], ['bob', 'bob'], ['carol', 'carol'], ['dave', 'carol']]) {
    joinedAt[name!] = position();
    await m.join(name!, voice!);
  }
  await sleep(3000);
  brokeAtSec = position();
  await m.page.evaluate(() => (globalThis as any).earshot.faults.breakTap('dave'));
  await sleep(SILENT_AFTER_MS + 600);
  whileSilent = { status: meeting.status().status, healthz: await (await fetch(`${meeting.metricsUrl}/healthz`)).text() };
  await m.leave('dave');
  leftAtSec = position();
  await sleep(1000);
  // A participant leaving and another joining mid-meeting, both normally (dave's dead capture is behind us).
  joinedAt.erin = position();
  await m.join('erin', 'bob');
  await m.leave('alice');
  aliceLeftAtSec = position();
  await sleep(11_000);
  afterLeaving = { status: meeting.status().status };
  summary = await meeting.stop();
});

test('every participant has a recording that correlates with what it played, and all recordings align sample for sample', () => {
  for (const [name, voice] of [['alice', 'alice'], ['bob', 'bob'], ['carol', 'carol'], ['erin', 'bob']]) {
    const recording = decode(file(name));
    const source = decode(voices[voice!]!);
    // erin joined late, alice left early: what they played.
    const heard = name === 'erin' ? source.subarray(0, 9 * RATE) : name === 'alice' ? source.subarray(0, Math.round((aliceLeftAtSec - joinedAt.alice! - 0.5) * RATE)) : source;
    const r = warpedCorrelation(heard, recording.subarray(0));
    note(`${name}: participants/${name}/audio.opus envelope r = ${r.toFixed(3)}`);
    const theirs = events.filter((e) => e.participant === name).map((e) => `${e.kind} ${e.t} s ${e.durationMs} ms`);
    assert.ok(r >= 0.9, `${name}: r=${r.toFixed(3)} (events: ${theirs.join('; ') || 'none'})`);
  }
  const lengths = [undefined, 'alice', 'bob', 'carol', 'dave', 'erin'].map((p) => decode(file(p)).length);
  note(`samples in audio.opus and each participant's file: ${lengths.join(', ')}`);
  assert.ok(lengths.every((n) => n === lengths[0]), `lengths ${lengths.join(', ')}`);
});

test('the mixed recording correlates with the mix of what the participants played', () => {
  const mixed = decode(file());
  const expected = new Float64Array(mixed.length);
  for (const [name, voice] of [['alice', 'alice'], ['bob', 'bob'], ['carol', 'carol'], ['dave', 'carol'], ['erin', 'bob']]) {
    const source = decode(voices[voice!]!);
    const recording = decode(file(name));
    const at = Math.round(correlation(source.subarray(0, 2 * RATE), recording, (recording.length - 2 * RATE) / RATE, 10, 0).lagSec * RATE);
    // dave's capture went dead; alice left.
    const until = name === 'dave' ? Math.round(brokeAtSec * RATE) - at : name === 'alice' ? Math.round(aliceLeftAtSec * RATE) - at : source.length;
    for (let i = 0; i < until && at + i < expected.length; i++) expected[at + i]! += source[i]!;
  }
  const r = warpedCorrelation(Int16Array.from(expected, (v) => Math.max(-32768, Math.min(32767, v))), mixed, 50);
  note(`mix against the mix of the sources: r = ${r.toFixed(3)}`);
  assert.ok(r >= 0.9, `mix against the sources: r=${r.toFixed(3)}`);
  // And exactly: the mix is the sum of the participants' own streams, sample-aligned.
  const sum = new Int32Array(mixed.length);
  for (const p of ['alice', 'bob', 'carol', 'dave', 'erin']) decode(file(p)).forEach((v, i) => (sum[i] += v));
  const { peak, lagSec } = correlation(Int16Array.from(sum, (v) => Math.max(-32768, Math.min(32767, v))), mixed, 0.05);
  note(`mix against the sum of the participants' files: r = ${peak.toFixed(3)} at lag ${lagSec} s`);
  assert.ok(peak >= 0.98 && lagSec === 0, `mix against the participants' recordings: r=${peak.toFixed(3)} at ${lagSec} s`);
});

test('a dead capture is capture_silent for that participant and unhealthy, until he leaves', () => {
  const silent = events.filter((e) => e.kind === 'capture_silent');
  assert.equal(silent.map((e) => e.participant), ['dave'], JSON.stringify(silent));
  note(`while dave's capture was dead: status ${whileSilent?.status}, /healthz "${whileSilent?.healthz.trim()}"; after he left: ${afterLeaving?.status}`);
  note(`dropouts: ${JSON.stringify(events.filter((e) => e.kind === 'dropout').map((e) => [e.participant, e.t, e.durationMs]))}; dave left at ${leftAtSec.toFixed(2)} s, alice left at ${aliceLeftAtSec.toFixed(2)} s as erin joined at ${joinedAt.erin!.toFixed(2)} s`);
  assert.equal(whileSilent, { status: 'degraded', healthz: 'degraded: capture: capture silent: dave\n' }, '/healthz says so');
  assert.equal(afterLeaving, { status: 'ok' });
  // Dave's dead capture is missing audio while he is live (a dropout, besides capture_silent); it ends when he leaves.
  const dave = events.filter((e) => e.kind === 'dropout' && e.participant === 'dave');
  assert.ok(dave.every((e) => e.t + e.durationMs / 1000 <= leftAtSec + 0.2), `${JSON.stringify(dave)}, left at ${leftAtSec}`);
  assert.ok(events.filter((e) => e.kind === 'dropout' || e.kind === 'upstream_loss').every((e) => typeof e.participant === 'string'));
  const presences = summary.participants!.map((p) => `${p.participant}:${p.presence}`).sort();
  assert.equal(presences, ['alice:left', 'bob:live', 'carol:live', 'dave:left', 'erin:live'], 'summary.json lists the participants');
  assert.ok(existsSync(file('dave')) && readFileSync(file('dave')).length > 0);
});

test('a participant leaving and another joining mid-meeting are states: no dropout for either, files aligned', () => {
  const theirs = events.filter((e) => e.kind === 'dropout' && (e.participant === 'alice' || e.participant === 'erin'));
  assert.equal(theirs, [], 'alice left and erin joined without a dropout');
  const lengths = ['alice', 'erin', undefined].map((p) => decode(file(p)).length);
  assert.ok(lengths[0] === lengths[2] && lengths[1] === lengths[2], `samples: alice ${lengths[0]}, erin ${lengths[1]}, mix ${lengths[2]}`);
  assert.equal(summary.participants!.find((p) => p.participant === 'alice')?.presence, 'left');
});

test('with a partner connection per participant, every transcript segment carries its speaker, inside the time that speaker was there', () => {
  const speakers = new Set(transcripts.map((t) => t.speaker));
  note(`transcript segments by speaker: ${JSON.stringify(Object.fromEntries([...speakers].map((p) => [p, transcripts.filter((t) => t.speaker === p).length])))}`);
  for (const p of ['alice', 'bob', 'carol', 'erin']) assert.ok(speakers.has(p), `${p} has segments (${[...speakers].join(', ')})`);
  for (const t of transcripts) {
    assert.ok(t.start >= joinedAt[t.speaker!]! - 0.1, `${t.speaker}'s segment at ${t.start} s, joined at ${joinedAt[t.speaker!]} s`);
    if (t.speaker === 'dave') assert.ok(t.end <= leftAtSec + 0.1, `dave's segment ends at ${t.end} s, he left at ${leftAtSec} s`);
    // (A segment ends where the partner found the endpoint, a hangover after the last word.)
    const lastWord = Math.max(...(t.words ?? []).map((w) => w.end));
    if (t.speaker === 'alice') assert.ok(lastWord <= aliceLeftAtSec + 0.1, `alice's words end at ${lastWord} s, she left at ${aliceLeftAtSec} s`);
  }
  // Each participant's connection is in summary.partners, with its participant, state and figures.
  const mine = summary.partners.map((p) => `${p.name} ${p.participant} ${p.state} delivered=${p.outcome.delivered} ${p.audioSecSent.toFixed(1)} s sent, send p50 ${p.sendLatencyMs?.p50} ms`);
  note(`summary.partners: ${mine.join('; ')}`);
  const who = summary.partners.map((p) => [p.name, p.participant, p.outcome.delivered]).sort();
  assert.equal(who, ['alice', 'bob', 'carol', 'dave', 'erin'].map((p) => [`deepgram@${p}`, p, true]));
  assert.ok(summary.partners.every((p) => p.sendLatencyMs !== null && p.audioSecSent > 5), JSON.stringify(summary.partners));
});

test.after(async () => {
  await emulator?.close();
  await browser?.close();
  served?.server.close();
});
test.run();
