/**
 * Per-participant capture from a real meeting page: Debian's chromium, headless, a local meeting
 * page where senders play different speech recordings over WebRTC on loopback, the bot injecting
 * earshot's capture script before the page loads, and earshot's page receiver taking each
 * participant's audio onto the meeting timeline. One browser session serves every assertion:
 * the meeting's script (joins, a paused track, a busy main thread, a dead tap, a leave and a
 * join, a receiver restart) runs once in `before`, the tests read what it produced.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Writable } from 'node:stream';
import pino from 'pino';
import type { Browser } from 'playwright-core';
import WebSocket from 'ws';
import type { MeetingEvent } from '../src/events';
import { PageIngest, type ParticipantFeed, type Presence } from '../src/ingest/page';
import { correlation, decode } from './fixtures/audio';
import { launchChromium, makeVoices, note, serveMeeting, TestMeeting, warpedCorrelation } from './fixtures/meeting';
import { tempDir } from './tmp';

const SILENT_AFTER_MS = 1000;

const RATE = 48000;

/** Each participant's audio as the receiver placed it on the timeline, and every position gap. */
class Tape implements ParticipantFeed {
  readonly pcm = new Map<string, Int16Array>();
  readonly first = new Map<string, number>();
  readonly end = new Map<string, number>();
  /** Samples missing between consecutive periods (a hole in what arrived), per participant. */
  readonly holes = new Map<string, number>();
  readonly holeList: Array<{ participant: string; atSec: number; samples: number }> = [];
  readonly presences: Array<{ participant: string; state: Presence; atSec: number }> = [];
  constructor(private readonly origin: () => number) {}
  presence(participant: string, state: Presence): void {
    this.presences.push({ participant, state, atSec: (performance.timeOrigin + performance.now() - this.origin()) / 1000 });
  }
  audio(p: string, position: number, pcm: Int16Array): void {
    let tape = this.pcm.get(p);
    if (!tape) this.pcm.set(p, (tape = new Int16Array(RATE * 40)));
    if (position >= 0 && position + pcm.length <= tape.length) tape.set(pcm, position);
    const end = this.end.get(p);
    if (end === undefined) this.first.set(p, position);
    else if (position > end) {
      this.holes.set(p, (this.holes.get(p) ?? 0) + position - end);
      this.holeList.push({ participant: p, atSec: end / RATE, samples: position - end });
    }
    this.end.set(p, Math.max(end ?? 0, position + pcm.length));
  }
}

/** A participant's recording: from its first sample to its last. */
const recording = (p: string) => tape.pcm.get(p)!.subarray(tape.first.get(p), tape.end.get(p));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const dir = tempDir('earshot-participants-');
const voices = makeVoices(dir);
const events: MeetingEvent[] = [];
let logText = '';
const log = pino({ level: 'info' }, new Writable({ write: (c, _e, cb) => ((logText += String(c)), cb()) }));
/** The meeting's timeline starts when the test's meeting does (not when the suite loaded this file). */
let originMs = 0;
const tape = new Tape(() => originMs);
const silentSeen: Array<{ atSec: number; silent: string[] }> = [];
let browser: Browser | undefined;
let m: TestMeeting;
let ingest: PageIngest;
let token = '';
let port = 0;
/** Where dave's recording was when the page asked to pause his track, and when the track was detached. */
let pauseAtSec = 0;
let pausedAtSec = 0;
let busyFrom = 0;
let restartAtSec = 0;
let brokeDaveAtSec = 0;
let refusedWrongToken = false;
let pageStatus: { droppedSamples: number; connected: boolean } | undefined;
let meeting: { close(): void } | undefined;
const now = () => (performance.timeOrigin + performance.now() - originMs) / 1000;

const startIngest = () =>
  PageIngest.start({
    host: '127.0.0.1',
    port,
    token: token || undefined,
    originMs,
    log,
    report: (e) => events.push(e),
    silentAfterMs: SILENT_AFTER_MS,
    feed: tape,
    onSilence: (silent) => silentSeen.push({ atSec: now(), silent }),
  });

test.before(async () => {
  originMs = performance.timeOrigin + performance.now();
  const served = await serveMeeting(voices);
  meeting = served.server;
  ingest = await startIngest();
  token = ingest.token;
  port = Number(new URL(ingest.url).port);
  browser = await launchChromium();
  m = await TestMeeting.open(browser, served, ingest.captureScript({ faults: true }));
  for (const [name, voice] of [['alice', 'alice'], ['bob', 'bob'], ['carol', 'carol'], ['dave', 'carol']]) await m.join(name!, voice!);

  // A stranger with the wrong token is turned away.
  const stranger = new WebSocket(ingest.url);
  await new Promise((r) => stranger.on('open', r));
  stranger.send(JSON.stringify({ type: 'hello', v: 1, seq: -1, token: 'guess', session: 'x', pageMs: 0, firstSeq: 0, droppedSamples: 0 }));
  refusedWrongToken = await new Promise<boolean>((r) => stranger.on('close', (code) => r(code === 4401)));

  await sleep(2000);
  [pauseAtSec, pausedAtSec] = await m.pause('dave', 300);
  await sleep(1200);
  busyFrom = now();
  await m.busy(2000);
  await sleep(600);
  // earshot restarts: the receiver goes away for 800 ms and comes back on the same address.
  restartAtSec = now();
  await ingest.close();
  await sleep(800);
  ingest = await startIngest();
  await sleep(1500);
  brokeDaveAtSec = now();
  await m.page.evaluate(() => (globalThis as any).earshot.faults.breakTap('dave'));
  await sleep(SILENT_AFTER_MS + 700);
  await m.join('erin', 'bob');
  await m.leave('dave');
  await sleep(9000);
  pageStatus = await m.page.evaluate(() => (globalThis as any).earshot.status());
});

test('each participant is captured on its own, and correlates with what it played (envelope r >= 0.9)', () => {
  for (const name of ['alice', 'bob', 'carol']) {
    const r = warpedCorrelation(decode(voices[name]!), recording(name));
    note(`${name}: envelope r = ${r.toFixed(3)}`);
    const upstream = events.filter((e) => e.participant === name).map((e) => `${e.kind} ${e.t} s ${e.durationMs} ms`);
    assert.ok(r >= 0.9, `${name}: r=${r.toFixed(3)} (upstream: ${upstream.join('; ') || 'none'})`);
  }
  assert.equal([...tape.pcm.keys()].sort(), ['alice', 'bob', 'carol', 'dave', 'erin']);
});

test('a page whose main thread is busy for 2 s loses no audio; a receiver restart costs under 1 ms of placement', () => {
  assert.ok(busyFrom > 0 && restartAtSec > busyFrom + 2);
  const busy = tape.holeList.filter((h) => h.atSec > busyFrom - 0.5 && h.atSec < busyFrom + 2.5);
  note(`busy page: ${busy.reduce((n, h) => n + h.samples, 0)} samples missing; restart: ${JSON.stringify(tape.holeList.map((h) => h.samples))} samples re-placed; page dropped ${pageStatus?.droppedSamples}`);
  assert.equal(busy, [], 'no sample missing from any participant while the page was busy, nor after');
  // A restarted receiver measures the page's clock afresh: its placement may differ by a fraction of a ms.
  const restart = tape.holeList.filter((h) => Math.abs(h.atSec - restartAtSec) < 1);
  assert.ok(restart.every((h) => h.samples <= 48), `across the restart, re-placement only: ${JSON.stringify(restart)}`);
  assert.is(pageStatus?.droppedSamples, 0, 'the page dropped nothing from its buffer');
  assert.ok(pageStatus?.connected, 'the page is connected to the restarted receiver');
});

test('one sender paused for 300 ms: WebRTC concealed it, and an upstream_loss event for that participant lands at the right time', () => {
  const loss = events.filter((e) => e.kind === 'upstream_loss');
  // Where the pause is in dave's recording: where his source was when paused, plus where the part before it lies on the timeline.
  const before = decode(voices.carol!).subarray(0, Math.round(pauseAtSec * RATE));
  const { lagSec } = correlation(before, recording('dave'), 1, 10, 0);
  const at = tape.first.get('dave')! / RATE + lagSec;
  const [from, to] = [at + pauseAtSec, at + pausedAtSec]; // the pause began between these
  const expected = (from + to) / 2;
  const dave = loss.filter((e) => e.participant === 'dave').sort((a, b) => Math.abs(a.t - expected) - Math.abs(b.t - expected));
  assert.ok(dave.length >= 1, JSON.stringify(loss));
  const pause = dave[0]!;
  note(`pause: upstream_loss for dave at ${pause.t} s, ${pause.durationMs} ms, concealedSamples ${String(pause.detail!.concealedSamples)}; the pause began between ${from.toFixed(3)} and ${to.toFixed(3)} s in his recording`);
  assert.ok(pause.t >= from - 0.04 && pause.t <= to + 0.04, `event at ${pause.t} s, the pause began between ${from.toFixed(3)} and ${to.toFixed(3)} s in dave's recording`);
  assert.ok(pause.durationMs >= 250 && pause.durationMs <= 500, `${pause.durationMs} ms`);
  assert.ok((pause.detail!.concealedSamples as number) >= 0.25 * RATE, `WebRTC concealed ${String(pause.detail!.concealedSamples)} samples`);
  const others = loss.filter((e) => e.participant !== 'dave' && Math.abs(e.t - expected) < 0.5);
  assert.equal(others.map((e) => `${e.participant} ${e.t} ${e.durationMs} ${JSON.stringify(e.detail)}`), [], 'the others lost nothing upstream around the pause');
});

test('a tap that stops delivering while its track stays live is capture_silent for that participant, within the configured time', () => {
  const silent = events.filter((e) => e.kind === 'capture_silent');
  assert.equal(silent.map((e) => e.participant), ['dave'], JSON.stringify(silent));
  const seen = silentSeen.find((s) => s.silent.includes('dave'));
  assert.ok(seen, 'the health callback heard of it');
  const after = seen!.atSec - brokeDaveAtSec;
  note(`capture_silent for dave ${after.toFixed(3)} s after his tap broke (configured ${SILENT_AFTER_MS} ms)`);
  assert.ok(after >= SILENT_AFTER_MS / 1000 - 0.05 && after <= SILENT_AFTER_MS / 1000 + 0.5, `${after.toFixed(3)} s after the tap broke`);
  assert.equal(ingest.silent(), [], 'dave left since: nobody is silent now');
});

test('a participant leaving and another joining are presence changes, not gaps', () => {
  const states = (p: string) => tape.presences.filter((x) => x.participant === p).map((x) => x.state);
  assert.equal(states('dave').at(-1), 'left');
  assert.ok(states('erin').includes('live') && !states('erin').includes('left'), `erin joined: ${states('erin').join(', ')}`);
  assert.is(tape.holes.get('erin') ?? 0, 0, 'erin: no gaps');
  const heard = recording('erin');
  const r = warpedCorrelation(decode(voices.bob!).subarray(0, heard.length - RATE), heard); // she joined late: the part she played
  assert.ok(r >= 0.9, `erin correlates with her source: r=${r.toFixed(3)}`);
});

test('the token reaches no log line, and a wrong token is refused', () => {
  assert.ok(refusedWrongToken, 'closed with 4401');
  assert.ok(logText.length > 0 && !logText.includes(token), 'token not logged');
  assert.ok(logText.includes('page reconnected') || logText.includes('page connected'));
});

test.after(async () => {
  await browser?.close();
  await ingest?.close();
  meeting?.close();
});
test.run();
