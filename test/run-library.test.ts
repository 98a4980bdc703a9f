/**
 * earshot as a library, as a bot engineer uses it. The README's example (examples/bot.ts, the same
 * text) is compiled against the package's own types in a project of its own and run: a meeting
 * from a file to the Deepgram emulator, events (an ffmpeg killed mid-meeting) and transcripts
 * through the API, stop() on SIGTERM resolving with the summary. Then two meetings at once in one
 * process, which must not see each other's events, transcripts, metrics or files.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startMeeting, type MeetingEvent, type RunSummary, type TranscriptSegment } from '../src/index';
import { startEmulator } from '../src/partners/emulator';
import { ROOT } from '../src/paths';
import { decode, seconds, SPEECH } from './fixtures/audio';
import { tempDir } from './tmp';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** The figures a test's assertions hold, one line beside uvu's dots. */
const note = (line: string) => process.stdout.write(`\n  library: ${line}`);

test('the README shows examples/bot.ts, word for word', () => {
  const example = readFileSync(join(ROOT, 'examples', 'bot.ts'), 'utf8');
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  assert.ok(readme.includes('```ts\n' + example + '```'), 'README.md carries examples/bot.ts in a ```ts block');
});

test('the README example: a bot records a file meeting, streams it to the emulator, gets events and transcripts, stop() resolves with the summary', async () => {
  // A project of its own, with earshot in node_modules, compiled against the package's .d.ts.
  const proj = tempDir('earshot-bot-');
  mkdirSync(join(proj, 'node_modules'));
  symlinkSync(ROOT, join(proj, 'node_modules', 'earshot'));
  copyFileSync(join(ROOT, 'examples', 'bot.ts'), join(proj, 'bot.ts'));
  const compilerOptions = { strict: true, module: 'commonjs', target: 'ES2022', types: ['node'], typeRoots: [join(ROOT, 'node_modules', '@types')] };
  writeFileSync(join(proj, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['bot.ts'] }));
  execFileSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', proj], { stdio: 'pipe' });

  const emu = await startEmulator({ protocol: 'deepgram', key: 'bot-key-0123' });
  const record = join(proj, 'rec');
  const bot = spawn(process.execPath, [join(proj, 'bot.js')], {
    cwd: proj,
    env: { ...process.env, INPUT: `file:${SPEECH}`, RECORD: record, MEETING_ID: 'bot-1', DEEPGRAM_URL: emu.url, DEEPGRAM_API_KEY: 'bot-key-0123' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  bot.stdout.on('data', (d) => (stdout += d));
  bot.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((r) => bot.on('close', (code) => r(code)));
  try {
    await sleep(3500);
    // A fault in the meeting: its ffmpeg dies. The bot hears of it as events.
    const ffmpeg = execFileSync('pgrep', ['-P', String(bot.pid), 'ffmpeg']).toString().trim().split('\n')[0]!;
    process.kill(Number(ffmpeg), 'SIGKILL');
    await sleep(5000);
    bot.kill('SIGTERM');
    assert.is(await exited, 0, stderr);
  } finally {
    bot.kill('SIGKILL');
    await emu.close();
  }
  const summary = JSON.parse(stdout.trim().split('\n').pop()!) as RunSummary;
  assert.is(summary.meetingId, 'bot-1');
  assert.is(summary.outcome, 'stopped');
  assert.ok(summary.durationSec > 6 && summary.durationSec < 12, `${summary.durationSec} s`);
  assert.is(summary.partners[0]!.outcome.delivered, true);
  assert.match(stderr, /event: ingest_restart at /);
  assert.match(stderr, /event: dropout at /);
  assert.match(stderr, /partner deepgram: connecting -> open/);
  assert.match(stderr, /health: ok/);
  assert.ok((stderr.match(/^transcript \[/gm) ?? []).length >= 2, stderr);
  assert.match(stderr, new RegExp(`stopped: ${summary.durationSec.toFixed(2)} s recorded in ${record}`));
  // The files the summary lists are there, and the recording is as long as the meeting.
  for (const f of summary.recording!.files) readFileSync(join(record, f));
  assert.ok(Math.abs(seconds(decode(join(record, 'audio.opus'))) - summary.durationSec) <= 0.02);
  const transcripts = readFileSync(join(record, 'transcripts.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.ok(transcripts.length >= 2 && transcripts.every((t) => t.meetingId === 'bot-1' && t.at && t.partner === 'deepgram'));
  const events = stderr.match(/^event: \w+/gm) ?? [];
  note(`README example: ${events.join(', ')}; ${(stderr.match(/^transcript \[/gm) ?? []).length} transcripts; SIGTERM -> stop() resolved: outcome ${summary.outcome}, ${summary.durationSec} s, partner delivered ${summary.partners[0]!.outcome.delivered}`);
});

test('two meetings in one process at once: each its own events, transcripts, metrics, files and summary', async () => {
  const [emuA, emuB] = await Promise.all([startEmulator({ protocol: 'deepgram' }), startEmulator({ protocol: 'deepgram' })]);
  const dir = tempDir('earshot-two-');
  const seen = { A: [] as MeetingEvent[], B: [] as MeetingEvent[], tA: [] as TranscriptSegment[], tB: [] as TranscriptSegment[] };
  try {
    const common = { duration: '6s', metrics: '127.0.0.1:0', log: { sink: 'null' } };
    const [a, b] = await Promise.all([
      // A's audio thread stalls 400 ms at 2 s: a deadline miss that is A's alone.
      startMeeting({ ...common, input: `file:${SPEECH}`, meetingId: 'A', record: join(dir, 'a'), partners: [{ provider: 'deepgram', url: emuA.url, key: 'key-a-0000' }], test: { stallWorker: { atMs: 2000, ms: 400 } } }),
      startMeeting({ ...common, input: 'lavfi:sine=f=440', meetingId: 'B', record: join(dir, 'b'), partners: [{ provider: 'deepgram', url: emuB.url, key: 'key-b-0000' }] }),
    ]);
    a.on('event', (e) => seen.A.push(e));
    b.on('event', (e) => seen.B.push(e));
    a.on('transcript', (t) => seen.tA.push(t));
    b.on('transcript', (t) => seen.tB.push(t));
    for (let i = 0; i < 100 && !seen.A.some((e) => e.kind === 'deadline_miss'); i++) await sleep(100);
    const [mA, mB] = await Promise.all([a, b].map(async (m) => (await fetch(`${m.metricsUrl}/metrics`)).text()));
    assert.match(mA!, /earshot_meeting_info\{meeting_id="A"\} 1/);
    assert.match(mB!, /earshot_meeting_info\{meeting_id="B"\} 1/);
    // A is stopped early; B runs on to its --duration.
    const sA = await a.stop();
    const sB = await b.finished;
    assert.is(await a.finished, sA, 'stop() and finished resolve with the same summary');
    assert.equal([sA.meetingId, sA.outcome, sB.meetingId, sB.outcome], ['A', 'stopped', 'B', 'duration']);
    assert.ok(sA.durationSec > 2.3 && sA.durationSec < 5, `A ${sA.durationSec} s`);
    assert.is(sB.durationSec, 6);
    assert.ok(seen.A.some((e) => e.kind === 'deadline_miss' && Math.abs(e.t - 2) < 0.1), JSON.stringify(seen.A));
    assert.not.ok(seen.B.some((e) => e.kind === 'deadline_miss' && Math.abs(e.t - 2) < 0.1), 'B does not see A stall');
    assert.ok(seen.A.every((e) => e.meetingId === 'A') && seen.B.every((e) => e.meetingId === 'B'));
    // Each partner heard only its own meeting, and each handle got only its own partner's transcripts.
    assert.ok(seen.tA.length >= 1 && seen.tB.length >= 1, `A ${seen.tA.length}, B ${seen.tB.length}`);
    assert.ok(seen.tA.every((t) => emuA.sessions.some((s) => s.id === t.sessionId)));
    assert.ok(seen.tB.every((t) => emuB.sessions.some((s) => s.id === t.sessionId)));
    assert.equal(sA.partners[0]!.sessionIds, emuA.sessions.map((s) => s.id));
    assert.equal(sB.partners[0]!.sessionIds, emuB.sessions.map((s) => s.id));
    assert.ok(Math.abs(seconds(decode(join(dir, 'a', 'audio.opus'))) - sA.durationSec) <= 0.02);
    assert.ok(Math.abs(seconds(decode(join(dir, 'b', 'audio.opus'))) - 6) <= 0.02);
    note(`two meetings: A stopped at ${sA.durationSec} s with its deadline miss at 2 s (${seen.A.length} events, ${seen.tA.length} transcripts), B ran to ${sB.durationSec} s (${seen.B.length} events, ${seen.tB.length} transcripts), each its own /metrics, partner sessions and files`);
    const onDisk = (d: string) => JSON.parse(readFileSync(join(dir, d, 'summary.json'), 'utf8')) as RunSummary;
    assert.equal([onDisk('a').meetingId, onDisk('b').meetingId], ['A', 'B']);
    // The metrics servers went with their meetings.
    await fetch(`${a.metricsUrl}/metrics`).then(
      () => assert.unreachable('A metrics still up'),
      () => {},
    );
  } finally {
    await Promise.all([emuA.close(), emuB.close()]);
  }
});

test('a record folder never mixes two meetings: refused, or a new segment-N, or replaced when asked', async () => {
  const dir = join(tempDir('earshot-segments-'), 'm1');
  const run = async (extra: object) => (await startMeeting({ input: 'lavfi:sine', duration: '1s', record: dir, meetingId: 'm1', ...extra })).finished;
  const first = await run({});
  assert.is(first.recording!.dir, dir);
  const refused = await run({}).then(
    () => undefined,
    (e: Error) => e,
  );
  assert.match(refused!.message, /^--record .*m1 already holds a meeting \(audio\.opus, events\.jsonl, summary\.json\) - pick a new folder, or --record-existing segment/);
  const second = await run({ recordExisting: 'segment' });
  assert.equal([second.recording!.dir, second.segment], [join(dir, 'segment-2'), 2]);
  assert.is(summaryAt(join(dir, 'segment-2')).segment, 2);
  assert.is(summaryAt(dir).startedAt, first.startedAt, 'the first meeting is untouched');
  const third = await run({ recordExisting: 'replace' });
  assert.is(summaryAt(dir).startedAt, third.startedAt);
});

const summaryAt = (dir: string) => JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as RunSummary;

test('bad options reject startMeeting with one UserError line, and nothing is left running or on disk', async () => {
  const dir = tempDir('earshot-bad-');
  const cases: Array<[object, RegExp]> = [
    [{ input: 'file:/nonexistent.wav' }, /no readable file there/],
    [{ input: `file:${SPEECH}`, duration: 0 }, /--duration 0 must be longer than 0/],
    [{ input: `file:${SPEECH}`, priority: { policy: 'fifo:0' } }, /--rt-policy "fifo:0"/],
    [{ input: `file:${SPEECH}`, record: join(dir, 'r'), log: { sink: 'file:/nonexistent/x.log' } }, /--log-sink file:\/nonexistent\/x.log cannot be opened/],
  ];
  for (const [opts, message] of cases) {
    const err = await startMeeting(opts as never).then(
      () => undefined,
      (e: Error) => e,
    );
    assert.ok(err && (err as { code?: string }).code?.startsWith('ERR_'), String(err));
    assert.match(err!.message, message);
    assert.not.match(err!.message, /\n/);
  }
  assert.equal(execFileSync('ls', ['-A', dir]).toString(), '', 'no folder left behind by a refused start');
});

test.run();
