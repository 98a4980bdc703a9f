/**
 * `earshot run` end to end, as a child process with the real ffmpeg: a clean
 * run, a stalled main thread (absorbed by the ring, and at the file's end not
 * taken for missing input), a stalled worker
 * (deadline misses at the right time), and an ffmpeg killed mid-meeting.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MeetingEvent } from '../src/events';
import type { RunSummary } from '../src/run/summary';
import { decode, seconds, SPEECH } from './fixtures/audio';
import { runEarshot, startEarshot } from './fixtures/cli';

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'earshot-run-'));
  dirs.push(d);
  return d;
};
const events = (dir: string): MeetingEvent[] =>
  readFileSync(join(dir, 'events.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
const summary = (dir: string): RunSummary => JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
/** The whole-file tests play a 4.01 s excerpt of the speech (201 frames, the last one partial): its end is what they check. */
const EXCERPT_SAMPLES = 192_480;
const EXCERPT_SEC = EXCERPT_SAMPLES / 48000;
let EXCERPT = '';

test.before(() => {
  EXCERPT = join(tmp(), 'excerpt.wav');
  execFileSync('ffmpeg', ['-v', 'error', '-i', SPEECH, '-ar', '48000', '-ac', '1', '-t', String(EXCERPT_SEC), '-c:a', 'pcm_s16le', EXCERPT]);
});

test('a clean run records the input to within 20 ms, with no events and the summary DESIGN.md describes', async () => {
  const dir = tmp();
  const r = await runEarshot(['run', '--input', `file:${EXCERPT}`, '--record', dir, '--wav', '--rt-nice', '-5', '--log-sink', `file:${join(dir, 'log.jsonl')}`]);
  assert.is(r.code, 0, r.stderr);
  const got = seconds(decode(join(dir, 'audio.opus')));
  assert.ok(Math.abs(got - EXCERPT_SEC) <= 0.02, `decoded ${got} s vs ${EXCERPT_SEC} s`);
  assert.ok(Math.abs(seconds(decode(join(dir, 'audio.wav'))) - EXCERPT_SEC) <= 0.02);
  const ev = events(dir);
  assert.equal(ev.filter((e) => e.kind !== 'deadline_miss'), [], JSON.stringify(ev));
  // A loaded CI host may make ffmpeg itself late once; a clean run has no dropout and at most a stray miss.
  assert.ok(ev.length <= 1, JSON.stringify(ev));
  const s = summary(dir);
  for (const k of ['durationSec', 'frames', 'concealedSamples', 'concealmentEvents', 'deadlineMisses', 'dropouts', 'egressOverruns', 'latenessMs', 'threads', 'partners', 'log'])
    assert.ok(k in s, `summary has ${k}`);
  assert.is(s.frames, 201);
  const audio = s.threads.find((t) => t.role === 'audio')!;
  const main = s.threads.find((t) => t.role === 'main')!;
  assert.is(audio.nice, -5);
  assert.is(main.nice, 0);
  assert.match(r.stderr, /files: audio\.opus, audio\.wav, events\.jsonl, summary\.json, log\.jsonl/);
});

test('a 2 s stall of the main thread loses nothing: the ring absorbs it', async () => {
  const dir = tmp();
  const r = await runEarshot(['run', '--input', `file:${SPEECH}`, '--record', dir, '--duration', '7s', '--log-sink', 'null', '--test-stall-main', '2000:2000']);
  assert.is(r.code, 0, r.stderr);
  const s = summary(dir);
  // The monitor ticks every 100 ms: a stall of D ms reads as D - 100 at least.
  assert.ok(s.eventLoopDelayMaxMs >= 1850 && s.eventLoopDelayMaxMs < 2500, `the main thread really stalled (${s.eventLoopDelayMaxMs} ms)`);
  const ev = events(dir);
  assert.equal(ev.filter((e) => e.kind === 'dropout' || e.kind === 'egress_overrun'), [], JSON.stringify(ev));
  assert.is(s.dropouts, 0);
  assert.is(s.egressOverruns, 0);
  assert.ok(Math.abs(seconds(decode(join(dir, 'audio.opus'))) - 7) <= 0.02);
});

test('a main thread stalled as the file ends adds no dropout: the worker sees ffmpeg exit cleanly itself', async () => {
  const dir = tmp();
  // 700 ms from 3.9 s: the main thread hears of ffmpeg's end ~0.6 s late, past the 100 ms conceal threshold.
  const r = await runEarshot(['run', '--input', `file:${EXCERPT}`, '--record', dir, '--log-sink', 'null', '--test-stall-main', '3900:700']);
  assert.is(r.code, 0, r.stderr);
  const s = summary(dir);
  assert.ok(s.eventLoopDelayMaxMs >= 550, `the main thread really stalled (${s.eventLoopDelayMaxMs} ms)`);
  assert.equal(events(dir).filter((e) => e.kind === 'dropout'), []);
  assert.is(s.concealedSamples, 0);
  assert.is(s.frames, 201);
  const got = seconds(decode(join(dir, 'audio.opus')));
  assert.ok(Math.abs(got - EXCERPT_SEC) <= 0.02, `decoded ${got} s vs ${EXCERPT_SEC} s`);
});

test('the same stall inside the audio worker is a deadline miss at its place on the timeline', async () => {
  const dir = tmp();
  const r = await runEarshot(['run', '--input', `file:${SPEECH}`, '--record', dir, '--duration', '6s', '--log-sink', 'null', '--test-stall-worker', '3000:500']);
  assert.is(r.code, 0, r.stderr);
  const misses = events(dir).filter((e) => e.kind === 'deadline_miss');
  const atStall = misses.find((e) => Math.abs(e.t - 3.0) <= 0.04);
  assert.ok(atStall, `a deadline miss at 3.0 s: ${JSON.stringify(misses)}`);
  assert.ok((atStall!.detail!.maxLatenessMs as number) >= 450, JSON.stringify(atStall));
  assert.ok(atStall!.durationMs >= 400, JSON.stringify(atStall));
  // Late, not lost: the 1 MiB pipe held the input while the worker was busy.
  assert.is(summary(dir).dropouts, 0);
  assert.ok(Math.abs(seconds(decode(join(dir, 'audio.opus'))) - 6) <= 0.02);
});

test('ffmpeg killed mid-meeting: a marked gap, a restart, and the meeting goes on', async () => {
  const dir = tmp();
  const run = startEarshot(['run', '--input', `file:${SPEECH}`, '--record', dir, '--duration', '8s', '--log-sink', 'null']);
  await new Promise((r) => setTimeout(r, 3500));
  const ffmpegPid = execFileSync('pgrep', ['-P', String(run.child.pid), 'ffmpeg']).toString().trim().split('\n')[0]!;
  process.kill(Number(ffmpegPid), 'SIGKILL');
  const r = await run.done;
  assert.is(r.code, 0, r.stderr);
  const ev = events(dir);
  const restart = ev.find((e) => e.kind === 'ingest_restart');
  const dropout = ev.find((e) => e.kind === 'dropout');
  assert.ok(restart && dropout, JSON.stringify(ev));
  assert.ok(Math.abs(dropout!.t - restart!.t) < 0.5, JSON.stringify(ev));
  assert.ok(dropout!.durationMs >= 100 && dropout!.durationMs < 2000, JSON.stringify(dropout));
  const s = summary(dir);
  assert.is(s.ingestRestarts, 1);
  assert.ok(s.concealedSamples > 0);
  // The timeline is kept: the recording is as long as the meeting.
  assert.ok(Math.abs(seconds(decode(join(dir, 'audio.opus'))) - 8) <= 0.02);
});

test('stdout is machine output only: every line a JSON log record with the meeting id; the report goes to stderr', async () => {
  const dir = tmp();
  const r = await runEarshot(['run', '--input', `file:${SPEECH}`, '--duration', '2s', '--record', dir, '--meeting-id', 'm-stdout']);
  assert.is(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  const records = lines.map((l) => JSON.parse(l));
  assert.ok(records.length >= 3 && records.every((l) => l.meetingId === 'm-stdout'), r.stdout);
  const last = records[records.length - 1];
  assert.equal([last.msg, last.summary.meetingId, last.summary.outcome], ['meeting ended', 'm-stdout', 'duration']);
  assert.match(r.stderr, /^earshot: meeting m-stdout: 2\.00 s of audio, 100 frames, recorded in /);
  // Without --record nothing claims to be recorded.
  const r2 = await runEarshot(['run', '--input', `file:${SPEECH}`, '--duration', '1s', '--log-sink', 'null']);
  assert.match(r2.stderr, /1\.00 s of audio, 50 frames, not recorded \(no --record\)/);
});

test('bad input: one clear line, exit 2', async () => {
  const r = await runEarshot(['run', '--input', 'file:/nonexistent.wav']);
  assert.is(r.code, 2);
  assert.is(r.stderr.trim().split('\n').length, 1);
  assert.match(r.stderr, /no readable file there/);
  const r2 = await runEarshot(['run', '--input', 'bogus']);
  assert.is(r2.code, 2);
  assert.match(r2.stderr, /is not a source - use file:PATH/);
});

test.after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
test.run();
