/**
 * `earshot run --partner ...` end to end through the real CLI: a file input,
 * two partners (Deepgram accepted, AssemblyAI refusing the key), recording to
 * a folder. The refused partner is one clear error and the recording completes;
 * the accepted one's transcripts land on the meeting timeline; no file, and
 * nothing printed, contains a key.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile, execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startEmulator } from '../src/partners/emulator';
import { segmentAll } from '../src/partners/emulator/segmenter';
import { CLI, ROOT } from '../src/paths';
import { readLines, unmatched } from './partners-fixture';
import { tempDir } from './tmp';

const DG_KEY = 'run-dg-KEY-a1b2c3d4e5';
const AAI_KEY = 'run-aai-KEY-f6e7d8c9';

test('earshot run with two partners: transcripts, one clear error, no key anywhere', async () => {
  const dg = await startEmulator({ protocol: 'deepgram', key: DG_KEY });
  const aai = await startEmulator({ protocol: 'assemblyai', key: 'a-different-key' });
  const dir = tempDir('earshot-run-partners-');
  const wav = join(ROOT, 'samples', 'speech.wav');
  const args = [
    // Paced (as a live meeting is): --no-pace can outrun the main thread and drop frames
    // before any sink sees them (egress overruns), which is not what this test is about.
    CLI, 'run', '--input', `file:${wav}`, '--duration', '6s', '--record', dir,
    '--partner', 'deepgram', '--partner-url', dg.url, '--partner-key-env', 'E2E_DG_KEY',
    '--partner', 'assemblyai', '--partner-url', aai.url, '--partner-key-env', 'E2E_AAI_KEY',
    '--log-level', 'info,partners=trace', '--log-sink', `file:${join(dir, 'earshot.log')}`,
  ];
  const r = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, args, { env: { ...process.env, E2E_DG_KEY: DG_KEY, E2E_AAI_KEY: AAI_KEY } }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
  await dg.close();
  await aai.close();
  // Exit 3: the recording is complete, but a partner (--partners-required all, the default) never delivered.
  assert.is(r.code, 3, r.stderr);
  assert.match(r.stderr, /earshot: partner assemblyai: .*the partner refused the key/);

  const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
  const [pdg, paai] = summary.partners;
  assert.is(summary.egressOverruns, 0);
  assert.is(pdg.name, 'deepgram');
  assert.ok(Math.abs(pdg.audioSecSent - summary.durationSec) < 0.02, 'every second of the meeting sent');
  assert.is(pdg.gapsMs, 0);
  assert.equal(pdg.sessionIds, [dg.sessions[0]!.id]);
  assert.is(dg.sessions[0]!.closeCode, 1000);
  assert.equal(dg.sessions[0]!.violations, []);
  assert.is(aai.rejected.length, 1, 'one refused handshake, no retry storm');
  assert.ok(Math.abs(paai.gapsMs - summary.durationSec * 1000) < 25, 'the refused partner lost the meeting, and says so');

  const log = readFileSync(join(dir, 'earshot.log'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
  // The lost span as an event (events.jsonl gets it once the pipeline closes partners before the recorder).
  assert.ok(log.some((l) => l.event?.kind === 'partner_gap' && l.event.detail?.partner === 'assemblyai' && l.event.t === 0));
  const errors = log.filter((l) => l.level >= 50 && l.module === 'partners');
  assert.is(errors.length, 1, 'exactly one error line for the refused partner');
  assert.match(errors[0].msg, /partner assemblyai: close 1008 \(Unauthorized Connection: Missing Authorization header\).*: the partner refused the key - check --partner-key-env E2E_AAI_KEY/);
  // One trace line per chunk: 6 s of 100 ms Deepgram chunks.
  assert.ok(log.filter((l) => l.msg === 'chunk sent').length >= 55, 'chunk trace lines with partners=trace');

  const pcm = execFileSync('ffmpeg', ['-v', 'error', '-i', wav, '-f', 's16le', '-ac', '1', '-ar', '48000', '-'], { maxBuffer: 64 << 20 });
  const samples = Math.round(summary.durationSec * 48_000);
  const truth = segmentAll(new Int16Array(pcm.buffer, pcm.byteOffset, pcm.length >> 1).subarray(0, samples), 48_000);
  const lines = readLines(join(dir, 'transcripts.jsonl'));
  assert.ok(truth.length >= 3 && lines.length >= 3);
  assert.equal(unmatched(truth, lines), []);

  const outputs = [r.stdout, r.stderr, ...readdirSync(dir).map((f) => readFileSync(join(dir, f)).toString('latin1'))];
  for (const text of outputs) for (const key of [DG_KEY, AAI_KEY]) assert.not.ok(text.includes(key), 'a key leaked');
});

test.run();
