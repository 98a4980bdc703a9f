/**
 * Keys never reach an output: a run with three partners (one refused, one
 * with its token in the URL) at trace level writes logs, transcripts, events
 * and statuses to disk, and none of the files contains any key. Also the
 * flag validation's user errors.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { appendFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { createPartnerSinks, parsePartnerSpecs } from '../src/partners';
import { startEmulator } from '../src/partners/emulator';
import { UserError } from '../src/util/duration';
import { drive, meeting } from './partners-fixture';
import { tempDir } from './tmp';

const DG = 'dgKEY-7f3a9c1e55aa';
const AAI = 'aaiKEY+/=42b8d0e6';
const BAD = 'wrongKEY-0c0ffee99';

test('no key in any file of a run (logs at trace, transcripts, events, status, errors)', async () => {
  process.env.T_SEC_DG = DG;
  process.env.T_SEC_BAD = BAD;
  const dir = tempDir('earshot-secrets-');
  const keyFile = join(tempDir('earshot-secrets-key-'), 'aai-key'); // outside the run's folder, as a mounted secret is
  writeFileSync(keyFile, AAI + '\n');
  const dg = await startEmulator({ protocol: 'deepgram', key: DG });
  const refused = await startEmulator({ protocol: 'deepgram', key: DG });
  const aai = await startEmulator({ protocol: 'assemblyai', key: AAI });
  const specs = parsePartnerSpecs({
    partner: ['deepgram', 'deepgram', 'assemblyai'],
    'partner-url': [dg.url, refused.url, `${aai.url}?token=${encodeURIComponent(AAI)}`],
    'partner-key-env': ['T_SEC_DG', 'T_SEC_BAD', '-'],
    'partner-key-file': ['-', '-', keyFile],
  });
  const logPath = join(dir, 'earshot.log');
  const logger = pino({ level: 'trace' }, pino.destination({ dest: logPath, sync: true }));
  const eventsPath = join(dir, 'events.jsonl');
  const sinks = createPartnerSinks(specs, {
    recordDir: dir,
    channels: 1,
    logger,
    onEvent: (e) => appendFileSync(eventsPath, JSON.stringify(e) + '\n'),
    tuning: { backoffBaseMs: 20 },
  });
  const pcm = meeting(2.5);
  await drive(sinks, pcm, { speed: 1 });
  // A drop mid-run, so reconnect logging is exercised too.
  dg.dropAll();
  await new Promise((r) => setTimeout(r, 300));
  await Promise.all(sinks.map((s) => s.close()));
  writeFileSync(join(dir, 'summary.json'), JSON.stringify({ partners: sinks.map((s) => s.status()), errors: sinks.map((s) => s.error()) }));
  await Promise.all([dg.close(), refused.close(), aai.close()]);

  assert.match(sinks[1]!.error() ?? '', /HTTP 401 .* --partner-key-env T_SEC_BAD/);
  assert.ok(aai.sessions.length === 1 && aai.sessions[0]!.closeCode === 1000, 'the token in the URL was accepted');
  const files = readdirSync(dir);
  for (const f of ['earshot.log', 'transcripts.jsonl', 'events.jsonl', 'summary.json']) assert.ok(files.includes(f), `${f} written`);
  const log = readFileSync(logPath, 'utf8');
  assert.ok(log.includes('chunk sent'), 'trace lines per chunk');
  assert.ok(log.includes('token=[redacted]'), 'URL logged with its token masked');
  for (const f of files) {
    const text = readFileSync(join(dir, f), 'utf8');
    for (const key of [DG, AAI, encodeURIComponent(AAI), BAD]) assert.not.ok(text.includes(key), `${f} contains a key`);
  }
});

test('flag errors are one line, name the fix, and never echo a key', () => {
  process.env.T_SEC_DG = DG;
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ partner: ['raw'] }, /--partner raw needs --partner-url ws:\/\/HOST:PORT\/PATH/],
    [{ partner: ['deepgram'] }, /needs a key: --partner-key-env VAR or --partner-key-file PATH/],
    [{ partner: ['zoom'] }, /is not a partner - use deepgram, assemblyai, raw, /],
    [{ partner: ['deepgram', 'raw'], 'partner-url': ['ws://127.0.0.1:1/v1/listen'] }, /given 1 times for 2 --partner/],
    [{ partner: ['deepgram'], 'partner-key-env': ['T_SEC_UNSET_VAR'] }, /T_SEC_UNSET_VAR: the variable is not set or empty/],
    [{ partner: ['deepgram'], 'partner-key-file': ['/nonexistent/key'] }, /cannot read it \(ENOENT\)/],
    [{ partner: ['raw'], 'partner-url': ['http://x/'] }, /must start with ws:\/\/ or wss:\/\//],
    [{ 'partner-url': ['ws://x/'] }, /--partner-url needs --partner NAME/],
    [{ partner: ['deepgram'], 'partner-key-env': ['T_SEC_DG'], 'partner-param': ['deepgram.encoding=mp3'] }, /encoding=mp3 is not supported/],
    [{ partner: ['deepgram'], 'partner-key-env': ['T_SEC_DG'], 'partner-buffer': 'lots' }, /--partner-buffer "lots" is not a duration/],
  ];
  for (const [values, re] of cases) {
    try {
      parsePartnerSpecs(values as never);
      assert.unreachable(`accepted ${JSON.stringify(values)}`);
    } catch (err) {
      assert.instance(err, UserError);
      assert.match((err as Error).message, re);
      assert.not.match((err as Error).message, /\n/);
      assert.not.ok((err as Error).message.includes(DG));
    }
  }
  const [spec] = parsePartnerSpecs({ partner: ['deepgram'], 'partner-key-env': ['T_SEC_DG'], 'partner-param': ['model=nova-2', 'deepgram.language=de'] });
  assert.is(spec!.url, 'wss://api.deepgram.com/v1/listen');
  assert.equal(spec!.params, { model: 'nova-2', language: 'de' });
  assert.is(spec!.bufferMs, 120_000);
});

test.run();
