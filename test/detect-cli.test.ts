import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { formatClock, renderProgress } from '../src/detect/batch';
import { CLI, ROOT } from '../src/paths';
import { buildWav, testSignal, tmpDir } from './detect-fixtures';

const root = tmpDir('earshot-detect-cli-');
const dir = join(root, 'archive');
const sub = join(dir, 'sub');
mkdirSync(sub, { recursive: true });
const one = join(dir, 'one.wav');
const two = join(sub, 'two.wav');
const three = join(sub, 'three.flac');
const bad = join(sub, 'bad.wav');
writeFileSync(one, buildWav({ enc: 's16', channels: 1, rate: 48000, samples: testSignal(48000, 1, 48000) }));
writeFileSync(two, buildWav({ enc: 's24', channels: 2, rate: 44100, samples: testSignal(22050, 2, 44100, 2) }));
execFileSync('ffmpeg', ['-nostdin', '-v', 'error', '-y', '-i', one, three]);
writeFileSync(bad, Buffer.from('RIFF\x10\x00\x00\x00WAVEfmt \xff\xff\xff\x7f'));
writeFileSync(join(dir, 'notes.txt'), 'not audio, not picked up from a folder');

/** A recording with an obvious dropout (60 ms of digital silence mid-speech-level signal) and a clipped run. */
const eventsWav = join(root, 'events.wav');
const eventsSamples = testSignal(96000, 1, 48000, 3);
for (let i = 48000; i < 48000 + 2880; i++) eventsSamples[i] = 0;
for (let i = 72000; i < 72000 + 480; i++) eventsSamples[i] = 1;
writeFileSync(eventsWav, buildWav({ enc: 's16', channels: 1, rate: 48000, samples: eventsSamples }));

test.after(() => rmSync(root, { recursive: true, force: true }));

function detect(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, 'detect', ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

interface Rec {
  file: string;
  sampleRate: number | null;
  channels: number | null;
  durationSec: number | null;
  events: Array<{ kind: string; startSec: number; endSec: number; channel: number; score: number }>;
  error?: string;
}

const parseLines = (s: string): Rec[] => s.trim().split('\n').map((l) => JSON.parse(l) as Rec);

test('--json: one object per file in DESIGN.md shape, folders walked in order, the bad file reported and skipped', () => {
  const r = detect(['--json', dir]);
  const recs = parseLines(r.stdout);
  assert.equal(recs.map((x) => x.file), [one, bad, three, two], 'recursive, name order, audio extensions only');
  for (const rec of recs) {
    const keys = Object.keys(rec);
    const verdict = rec.sampleRate === null ? [] : ['severity', 'audiblePerMin', 'lostMs', 'chopped'];
    assert.equal(keys, ['file', 'sampleRate', 'channels', 'durationSec', 'events', ...verdict, ...(rec.error === undefined ? [] : ['error'])]);
    for (const e of rec.events) assert.equal(Object.keys(e), ['kind', 'startSec', 'endSec', 'channel', 'score']);
  }
  const [a, b, c, d] = recs as [Rec, Rec, Rec, Rec];
  assert.is(a.sampleRate, 48000);
  assert.is(a.channels, 1);
  assert.is(a.durationSec, 1);
  assert.ok(b.error && !b.error.includes('\n'), `bad file error: ${b.error}`);
  assert.is(b.sampleRate, null);
  assert.is(c.sampleRate, 48000, 'FLAC through ffmpeg');
  assert.is(c.durationSec, 1);
  assert.is(d.channels, 2);
  assert.is(d.durationSec, 0.5);
  const found = recs.some((x) => x.events.length > 0);
  assert.is(r.code, found ? 1 : 0, `exit code follows the events (stderr: ${r.stderr})`);
  assert.match(r.stderr, /earshot detect: 4 files \(1 with errors\)/);
  assert.not.match(r.stderr, /\x1b\[/, 'no progress bar when stderr is not a terminal');
});

test('--jobs 1 and --jobs 2 give the same output', () => {
  const a = detect(['--json', '--jobs', '1', dir]);
  const b = detect(['--json', '--jobs', '2', dir]);
  assert.is(a.stdout, b.stdout);
  assert.is(a.code, b.code);
});

test('--csv: a header and a row per event, one row for a file without events, the error in its column', () => {
  const r = detect(['--csv', one, bad]);
  const lines = r.stdout.trim().split('\n');
  assert.is(lines[0], 'file,sampleRate,channels,durationSec,kind,startSec,endSec,channel,score,error');
  const json = parseLines(detect(['--json', one]).stdout)[0]!;
  const oneRows = lines.filter((l) => l.startsWith(`${one},`));
  assert.is(oneRows.length, Math.max(1, json.events.length));
  assert.match(oneRows[0]!, /^[^,]+,48000,1,1,/);
  const badRow = lines.find((l) => l.startsWith(`${bad},`))!;
  assert.match(badRow, /^[^,]+,,,,,,,,,\S+/, badRow);
});

test('--labels: an Audacity label track beside each readable file', () => {
  const r = detect(['--labels', dir]);
  for (const f of [one, two, three]) {
    const labels = `${f}.labels.txt`;
    assert.ok(existsSync(labels), `${labels} written`);
    assert.ok(r.stdout.includes(labels), 'listed on stdout');
    const json = parseLines(detect(['--json', f]).stdout)[0]!;
    const lines = readFileSync(labels, 'utf8').split('\n').filter(Boolean);
    assert.is(lines.length, json.events.length);
    for (const l of lines) assert.match(l, /^\d+\.\d{6}\t\d+\.\d{6}\t(click|dropout|discontinuity|repeat|clipping) [\d.]+( ch\d+)?$/);
  }
  assert.not.ok(existsSync(`${bad}.labels.txt`), 'no labels for an unreadable file');
  assert.match(r.stdout, /bad\.wav: error: /);
});

test('exit 2 with one clear line: usage errors, and every file unreadable', () => {
  const cases: Array<[string[], RegExp]> = [
    [[], /no input/],
    [['--json', '--csv', one], /cannot be combined/],
    [['--fail-on', 'pops', one], /unknown kind "pops"/],
    [['--jobs', '0', one], /--jobs "0"/],
    [['--sensitivity', '-1', one], /--sensitivity/],
    [['--bogus', one], /Unknown option '--bogus'/],
    [['--report', join(root, 'no', 'such', 'dir', 'r.html'), one], /--report .*cannot write it/],
    [[join(root, 'empty-dir-that-does-not-exist')], /./],
  ];
  for (const [args, re] of cases) {
    const r = detect(args);
    assert.is(r.code, 2, `${args.join(' ')} -> ${r.code}: ${r.stderr}`);
    const firstLine = r.stderr.split('\n')[0]!;
    if (args.length === 1 && !args[0]!.startsWith('-')) continue; // the missing path is a file result, checked below
    assert.match(firstLine, /^earshot: /, args.join(' '));
    assert.match(firstLine, re, args.join(' '));
    assert.is(r.stderr.trim().split('\n').length, 1, `one line for ${args.join(' ')}: ${r.stderr}`);
  }
  const allBad = detect(['--json', bad, join(root, 'missing.wav')]);
  assert.is(allBad.code, 2);
  const recs = parseLines(allBad.stdout);
  assert.is(recs.length, 2);
  assert.is(recs[1]!.error, 'no such file');
  // An empty folder is a usage error, not a silent success.
  mkdirSync(join(root, 'empty'), { recursive: true });
  const empty = detect([join(root, 'empty')]);
  assert.is(empty.code, 2);
  assert.match(empty.stderr, /^earshot: no audio files found/);
});

test('special files are refused at once with what they are: a FIFO (no writer ever comes), /dev/zero', () => {
  const fifo = join(root, 'pipe.wav');
  execFileSync('mkfifo', [fifo]);
  for (const [path, what] of [[fifo, 'a FIFO \\(named pipe\\)'], ['/dev/zero', 'a character device']] as const) {
    const r = detect(['--json', path]);
    assert.is(r.code, 2, `${path}: ${r.stderr}`);
    const rec = parseLines(r.stdout)[0]!;
    assert.match(rec.error!, new RegExp(`^is ${what}, not a file - .*save the stream to a file first`));
    assert.not.match(rec.error!, /directory/);
  }
});

test('--help documents the flags and the exit codes', () => {
  const r = detect(['--help']);
  assert.is(r.code, 0);
  for (const s of ['--json', '--csv', '--labels', '--report', '--jobs', '--fail-on', '--sensitivity', 'exit codes', '0  nothing found', '1  events', '2  usage']) {
    assert.ok(r.stdout.includes(s), `help mentions ${s}`);
  }
});

test('a table by default, and the exit code gates on --fail-on kinds', () => {
  // What the analyzer (another module) finds here is its business; the exit code must follow it.
  const kinds = new Set(parseLines(detect(['--json', eventsWav]).stdout)[0]!.events.map((e) => e.kind));
  const r = detect([eventsWav]);
  assert.match(r.stdout.split('\n')[0]!, /^FILE\s+KIND\s+START\s+END\s+CH\s+dB$/);
  assert.match(r.stdout, /severity (low|medium|high): [\d.]+ audible\/min, \d+ ms lost/);
  assert.ok(kinds.size > 0, 'the dropout and the clipped run are found');
  assert.is(r.code, 1, r.stderr);
  for (const k of kinds) assert.match(r.stdout, new RegExp(`\\b${k}\\b`));
  const other = ['click', 'dropout', 'discontinuity', 'repeat', 'clipping'].filter((k) => !kinds.has(k as never));
  if (other.length) assert.is(detect(['--fail-on', other.join(','), eventsWav]).code, 0, 'kinds not found do not fail');
  assert.is(detect(['--fail-on', [...kinds][0]!, eventsWav]).code, 1);
  assert.is(detect(['--fail-on', 'none', eventsWav]).code, 0);
});

test('holes that recur at a steady period get a chopped-audio verdict and high severity', () => {
  // Real speech with 80 ms of it zeroed every 170 ms from 2 s to 8 s, as a bot losing packet bursts does.
  const speech = execFileSync('ffmpeg', ['-v', 'error', '-i', join(ROOT, 'samples', 'speech.wav'), '-ac', '1', '-ar', '16000', '-f', 'f32le', '-acodec', 'pcm_f32le', 'pipe:1']);
  const x = new Float32Array(speech.buffer.slice(speech.byteOffset, speech.byteOffset + speech.byteLength));
  for (let t = 2; t < 8; t += 0.17) x.fill(0, Math.round(t * 16000), Math.round((t + 0.08) * 16000));
  const chopped = join(root, 'chopped.wav');
  writeFileSync(chopped, buildWav({ enc: 's16', channels: 1, rate: 16000, samples: Float64Array.from(x) }));
  const rec = parseLines(detect(['--json', chopped]).stdout)[0] as Rec & { severity: string; chopped: { holeMs: number; everyMs: number; holes: number } | null };
  assert.ok(rec.chopped, JSON.stringify(rec).slice(0, 400));
  assert.ok(Math.abs(rec.chopped!.holeMs - 80) <= 3 && Math.abs(rec.chopped!.everyMs - 170) <= 3, JSON.stringify(rec.chopped));
  assert.ok(rec.chopped!.holes >= 20, `${rec.chopped!.holes} holes`);
  assert.is(rec.severity, 'high');
  assert.match(detect([chopped]).stdout, /CHOPPED: 80 ms holes every 170 ms/);
});

test("in earshot's own Opus recording (earshot run --record), a 40 ms gap and a +6 dB click are found where they were injected", () => {
  const speech = execFileSync('ffmpeg', ['-v', 'error', '-i', join(ROOT, 'samples', 'speech.wav'), '-ac', '1', '-ar', '48000', '-f', 'f32le', '-acodec', 'pcm_f32le', 'pipe:1'], { maxBuffer: 1 << 26 });
  const x = Float64Array.from(new Float32Array(speech.buffer.slice(speech.byteOffset, speech.byteOffset + speech.byteLength)));
  let s = 0;
  for (let i = 3 * 48000 - 960; i < 3 * 48000; i++) s += x[i]! * x[i]!;
  x[3 * 48000] = x[3 * 48000]! + 2 * Math.sqrt(s / 960);
  x[3 * 48000 + 1] = x[3 * 48000 + 1]! + 2 * Math.sqrt(s / 960);
  x.fill(0, 9 * 48000, 9 * 48000 + 1920);
  const wav = join(root, 'injected.wav');
  writeFileSync(wav, buildWav({ enc: 's16', channels: 1, rate: 48000, samples: x }));
  const rec = join(root, 'rec');
  const run = spawnSync(process.execPath, [CLI, 'run', '--input', `file:${wav}`, '--no-pace', '--record', rec, '--log-sink', 'null'], { encoding: 'utf8', timeout: 60_000 });
  assert.is(run.status, 0, run.stderr);
  const r = parseLines(detect(['--json', join(rec, 'audio.opus')]).stdout)[0]!;
  const near = (kind: string, t: number, tol: number) => r.events.some((e) => e.kind === kind && Math.abs(e.startSec - t) <= tol);
  assert.ok(near('dropout', 9, 0.01), JSON.stringify(r.events));
  assert.ok(near('click', 3, 0.005), JSON.stringify(r.events));
  const click = r.events.find((e) => e.kind === 'click')!;
  assert.ok(Math.abs(click.score - 6) < 2, `click level ${click.score} dB, injected +6 dB`);
});

test('progress line: files, audio hours, x real time, ETA, within the terminal width', () => {
  const line = renderProgress({ filesDone: 3, files: 10, audioSec: 5400, elapsedSec: 10, fraction: 0.25, width: 120 });
  assert.match(line, /3\/10 files/);
  assert.match(line, /1\.50 h audio/);
  assert.match(line, /540x real time/);
  assert.match(line, /ETA 0:30/);
  assert.match(line, /^\[#+\.+\]/);
  assert.ok(renderProgress({ filesDone: 0, files: 1, audioSec: 0, elapsedSec: 0, fraction: 0, width: 40 }).length < 40);
  assert.is(formatClock(3725), '1:02:05');
  assert.is(formatClock(NaN), '--:--');
});

test.run();
