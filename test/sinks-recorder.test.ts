import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { MeetingEvent } from '../src/events';
import { OUT } from '../src/paths';
import { FRAME_SAMPLES, frameTime } from '../src/realtime/frame';
import { Recorder } from '../src/sinks/recorder';
import { UserError } from '../src/util/duration';
import { SineFrames, decode, probe } from './fixtures/sinks-helpers';

const tmp = mkdtempSync(join(tmpdir(), 'earshot-rec-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

const near = (actual: number, expected: number, tol: number, what: string) =>
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: ${actual} s, expected ${expected} ± ${tol}`);

test('records opus, wav and events; a gap in seq keeps the timeline', async () => {
  const dir = join(tmp, 'gap', 'nested'); // created if missing
  const rec = new Recorder({ dir, channels: 1, wav: true });
  assert.is(readFileSync(rec.files.events, 'utf8'), '', 'events.jsonl exists, empty, from the start');
  const gen = new SineFrames(1);
  for (let seq = 0; seq < 250; seq++) if (seq < 100 || seq >= 150) rec.write(gen.frame(seq));
  const e: MeetingEvent = { t: 2, kind: 'dropout', durationMs: 1000, frames: 50 };
  rec.event(e);
  await rec.close();

  const s = rec.stats();
  assert.equal([s.frames, s.gapFrames, s.framesDropped, s.durationSec, s.events], [200, 50, 0, 5, 1]);
  assert.is(s.bufferedBytes, 0);
  const sizes = ['audio.opus', 'audio.wav', 'events.jsonl'].map((f) => statSync(join(dir, f)).size);
  // The WAV gap is a hole in the file (reads back as zeros), never written; each header rewrite counts 44 bytes again.
  const extra = s.bytesWritten - (sizes.reduce((a, b) => a + b) - 50 * FRAME_SAMPLES * 2);
  assert.ok(extra >= 44 && extra % 44 === 0 && extra <= 44 * 10, `bytesWritten off by ${extra}`);

  const opus = decode(rec.files.opus);
  assert.is(opus.errors, '');
  near(opus.seconds, 5, 0.02, 'opus decoded');
  near(probe(rec.files.opus).duration, 5, 0.02, 'opus ffprobe');
  const wav = decode(rec.files.wav!);
  assert.is(wav.errors, '');
  near(wav.seconds, 5, 0.02, 'wav decoded');
  // The gap is digital silence in the WAV and near-silence in the Opus; the sine is back after it.
  const rms = (pcm: Int16Array, from: number, to: number) => {
    let sum = 0;
    for (let i = from * FRAME_SAMPLES; i < to * FRAME_SAMPLES; i++) sum += pcm[i]! ** 2;
    return Math.sqrt(sum / ((to - from) * FRAME_SAMPLES));
  };
  assert.is(rms(wav.pcm, 100, 150), 0);
  assert.ok(rms(wav.pcm, 150, 250) > 5000);
  assert.ok(rms(opus.pcm, 105, 145) < 100, `opus gap rms ${rms(opus.pcm, 105, 145)}`);
  assert.ok(rms(opus.pcm, 155, 245) > 4000);
  assert.equal(JSON.parse(readFileSync(rec.files.events, 'utf8')), e);
});

test('the WAV header is exact', async () => {
  const rec = new Recorder({ dir: join(tmp, 'hdr'), channels: 2, wav: true });
  const gen = new SineFrames(2);
  for (let seq = 0; seq < 60; seq++) rec.write(gen.frame(seq));
  await rec.close();
  const f = readFileSync(rec.files.wav!);
  const data = 60 * FRAME_SAMPLES * 2 * 2;
  assert.is(f.length, 44 + data);
  assert.equal(
    [f.toString('latin1', 0, 4), f.readUInt32LE(4), f.toString('latin1', 8, 16), f.readUInt32LE(16), f.readUInt16LE(20)],
    ['RIFF', 36 + data, 'WAVEfmt ', 16, 1],
  );
  assert.equal([f.readUInt16LE(22), f.readUInt32LE(24), f.readUInt32LE(28), f.readUInt16LE(32), f.readUInt16LE(34)], [2, 48000, 192000, 4, 16]);
  assert.equal([f.toString('latin1', 36, 40), f.readUInt32LE(40)], ['data', data]);
  const info = probe(rec.files.wav!);
  assert.equal([info.codec, info.channels, info.sampleRate], ['pcm_s16le', 2, 48000]);
  assert.is(probe(rec.files.opus).channels, 2);
});

test('a lagging disk drops whole frames past the cap, counts them, and keeps the timeline', async () => {
  const overruns: MeetingEvent[] = [];
  const rec = new Recorder({ dir: join(tmp, 'cap'), channels: 1, wav: true, maxBufferedBytes: 200_000, onOverrun: (e) => overruns.push(e) });
  const gen = new SineFrames(1);
  // A synchronous burst: the event loop cannot run the writes, exactly as if the disk had stalled.
  for (let seq = 0; seq < 400; seq++) rec.write(gen.frame(seq));
  const during = rec.stats();
  assert.ok(during.framesDropped > 200, `dropped ${during.framesDropped}`);
  assert.ok(during.bufferedBytes < 200_000 + 96_000 + 4_000, `buffered ${during.bufferedBytes}`);
  while (rec.stats().bufferedBytes > 0) await new Promise((r) => setTimeout(r, 5));
  for (let seq = 400; seq < 450; seq++) rec.write(gen.frame(seq));
  await rec.close();

  const s = rec.stats();
  assert.is(s.frames + s.framesDropped, 450);
  assert.is(s.gapFrames, 0);
  assert.is(overruns.length, 1);
  assert.equal([overruns[0]!.kind, overruns[0]!.frames, overruns[0]!.t], ['sink_overrun', s.framesDropped, frameTime(400 - s.framesDropped)]);
  near(decode(rec.files.opus).seconds, 9, 0.02, 'opus after drops');
  near(decode(rec.files.wav!).seconds, 9, 0.02, 'wav after drops');
});

test('when frames stop coming, the wall-clock flush still puts them on disk', async () => {
  const rec = new Recorder({ dir: join(tmp, 'idle'), channels: 1, wav: true, flushIntervalMs: 100 });
  const gen = new SineFrames(1);
  for (let seq = 0; seq < 30; seq++) rec.write(gen.frame(seq)); // less than a page, less than a WAV chunk
  // Until the first flush the file may not hold its 44-byte header yet: not on disk.
  const onDisk = () => {
    const wav = readFileSync(rec.files.wav!);
    return wav.length >= 44 && wav.readUInt32LE(40) === 30 * FRAME_SAMPLES * 2;
  };
  for (let waited = 0; !onDisk() && waited < 5000; waited += 50) await new Promise((r) => setTimeout(r, 50));
  assert.ok(onDisk(), 'WAV header covers all 30 frames while the file is still open');
  // One packet stays staged for the EOS page; the rest is decodable already.
  assert.is(decode(rec.files.opus).pcm.length, 29 * FRAME_SAMPLES - 312);
  await rec.close();
  assert.is(decode(rec.files.opus).pcm.length, 30 * FRAME_SAMPLES, 'after close: exact');
});

test('an unwritable directory is a UserError naming it and the fix', () => {
  const file = join(tmp, 'not-a-dir');
  writeFileSync(file, '');
  for (const dir of [join(file, 'rec'), file]) {
    const err = (() => {
      try {
        new Recorder({ dir, channels: 1, wav: false });
      } catch (e) {
        return e as Error;
      }
    })();
    assert.instance(err, UserError);
    assert.match(err!.message, dir);
    assert.match(err!.message, /writ/);
    assert.not.match(err!.message, /\n/);
  }
  assert.not.ok(existsSync(join(file, 'rec')));
});

test('a recorder killed with SIGKILL mid-run leaves files ffmpeg decodes', async () => {
  const dir = join(tmp, 'killed');
  const child = spawn(process.execPath, [join(OUT, 'test', 'fixtures', 'sinks-recorder-child.js'), dir, '1'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let frames = 0;
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
  child.stdout.setEncoding('utf8').on('data', (text: string) => {
    frames = Number(text.trim().split('\n').pop());
    if (frames >= 175 && !child.killed) child.kill('SIGKILL'); // 3.5 s in: mid-page, mid-second
  });
  assert.is(await exited, 'SIGKILL');
  const written = frames * 0.02;
  const opus = decode(join(dir, 'audio.opus'));
  const wav = decode(join(dir, 'audio.wav'));
  // Pages and WAV headers reach the disk each second: at most ~1 s may be missing, never more than was written.
  assert.is(opus.errors + wav.errors, '');
  near(opus.seconds, written - 0.5, 0.6, 'killed opus');
  near(wav.seconds, written - 0.5, 0.6, 'killed wav');
  assert.is(readFileSync(join(dir, 'events.jsonl'), 'utf8'), '');
});

test.run();
