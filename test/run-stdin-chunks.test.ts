/**
 * Raw PCM pushed on stdin at real time in chunks, as a bot that sends audio
 * from its own code does: any chunk size within --max-jitter is recorded
 * sample for sample, with nothing concealed or dropped. A writer that really
 * stops for 300 ms is one dropout where it stopped, and nothing after it is lost.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import type { MeetingEvent } from '../src/events';
import { CLI } from '../src/paths';
import type { RunSummary } from '../src/run/summary';
import { decode, SPEECH } from './fixtures/audio';

const work = mkdtempSync(join(tmpdir(), 'earshot-stdin-'));
const SECONDS = 6;
const source = decode(SPEECH).subarray(0, SECONDS * 48000);

/**
 * `earshot run --input -` fed by a writer that sends chunk k (chunkMs of audio) when its last sample
 * is "captured": at start + (k + 1) * chunkMs. Chunks in [lostFromMs, +lostMs) are never sent (the
 * source stopped; its clock did not).
 */
async function run(name: string, chunkMs: number, lost?: { fromMs: number; ms: number }) {
  const dir = join(work, name);
  const child = spawn(process.execPath, [CLI, 'run', '--input', '-', '--record', dir, '--wav', '--log-sink', 'null'], { stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
  const bytes = Buffer.from(source.buffer, source.byteOffset, source.byteLength);
  const per = chunkMs * 48 * 2;
  const start = performance.now();
  for (let k = 0; k * per < bytes.length; k++) {
    const wait = start + (k + 1) * chunkMs - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    if (lost && k * chunkMs >= lost.fromMs && k * chunkMs < lost.fromMs + lost.ms) continue;
    child.stdin!.write(bytes.subarray(k * per, (k + 1) * per));
  }
  child.stdin!.end();
  const code = await closed;
  assert.is(code, 0, stderr);
  const s = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as RunSummary;
  const ev = readFileSync(join(dir, 'events.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as MeetingEvent);
  return { s, ev, wav: decode(join(dir, 'audio.wav')) };
}

/** Index of the first sample where `got` differs from the source between `from` and `to` (-1: none). */
function firstDifference(got: Int16Array, from: number, to: number, shift = 0): number {
  for (let i = from; i < to; i++) if (got[i] !== source[i + shift]) return i;
  return -1;
}

for (const chunkMs of [20, 60, 150, 400]) {
  test(`stdin pushed in ${chunkMs} ms chunks at real time: nothing concealed or dropped, recorded sample-exact`, async () => {
    const { s, ev, wav } = await run(`chunks-${chunkMs}`, chunkMs);
    assert.is(s.concealedSamples, 0, JSON.stringify(ev));
    assert.is(s.lateAudioDroppedSamples, 0);
    assert.is(s.dropouts, 0);
    assert.is(wav.length, source.length, 'as long as the source');
    assert.is(firstDifference(wav, 0, source.length), -1, 'every sample as sent');
    assert.ok(s.sourceJitterMs.max >= chunkMs - 25, `the source's jitter is measured: ${JSON.stringify(s.sourceJitterMs)}`);
  });
}

test('a writer that really stops for 300 ms: one dropout where it stopped, and nothing after it is lost', async () => {
  const { s, ev, wav } = await run('stops', 20, { fromMs: 3000, ms: 300 });
  const dropouts = ev.filter((e) => e.kind === 'dropout');
  assert.is(dropouts.length, 1, JSON.stringify(ev));
  assert.ok(Math.abs(dropouts[0]!.t - 3.0) <= 0.02, `the dropout is where the writer stopped: ${JSON.stringify(dropouts)}`);
  assert.ok(Math.abs(s.concealedSamples - 0.3 * 48000) <= 960, `300 ms concealed: ${s.concealedSamples} samples`);
  assert.is(s.lateAudioDroppedSamples, 0);
  assert.is(firstDifference(wav, 0, 3 * 48000), -1, 'everything before the stop as sent');
  // The gap's length is measured on the wall clock, so the audio after it sits within a few ms of its place.
  let at: number | undefined;
  for (let shift = -240; shift <= 240 && at === undefined; shift++) {
    if (firstDifference(wav, 3.32 * 48000, source.length - 960, shift) === -1) at = shift;
  }
  assert.ok(at !== undefined, 'everything after the stop as sent, within 5 ms of its wall-clock place');
});

test.after(() => rmSync(work, { recursive: true, force: true }));
test.run();
