/**
 * AssemblyAI quirks beyond the conformance suite: 50-1000 ms mono chunks
 * never ahead of real time (replay included), one formatted final per turn,
 * and close 1008 read from its reason: the concurrency limit is retried,
 * an account refusal is not.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { createPartnerSinks, parsePartnerSpecs } from '../src/partners';
import { startEmulator } from '../src/partners/emulator';
import { genericVerdict, verdictFor } from '../src/partners/core/policy';
import { assemblyai } from '../src/partners/assemblyai';
import { drive, meeting, quietLogger, readLines } from './partners-fixture';
import { tempDir } from './tmp';

process.env.EARSHOT_TEST_AAI_KEY = 'aai_test_key_9b7e51d2';

test('100 ms mono chunks from a stereo meeting, paced at real time; formatted finals', async () => {
  const emu = await startEmulator({ protocol: 'assemblyai', faults: { dropAfterSec: 1.5 } });
  const dir = tempDir('earshot-aai-');
  const specs = parsePartnerSpecs({ partner: ['assemblyai'], 'partner-url': [emu.url], 'partner-key-env': ['EARSHOT_TEST_AAI_KEY'] });
  const [sink] = createPartnerSinks(specs, { recordDir: dir, channels: 2, logger: quietLogger(), onEvent: () => {}, tuning: { backoffBaseMs: 30 } });
  await drive([sink!], meeting(3.5), { speed: 1, channels: 2 });
  await sink!.close();
  await emu.close();
  for (const s of emu.sessions) {
    assert.equal(s.violations, [], 'the replay never ran ahead of real time');
    assert.is(s.params.encoding, 'pcm_s16le');
    assert.ok(s.chunkMs.every((ms) => ms >= 50 && ms <= 1000), `chunk sizes ${[...new Set(s.chunkMs)]}`);
  }
  assert.is(emu.sessions[emu.sessions.length - 1]!.textMessages.pop(), '{"type":"Terminate"}');
  const lines = readLines(join(dir, 'transcripts.jsonl'));
  assert.ok(lines.length >= 1 && lines.every((l) => l.final && /^[A-Z].*\.$/.test(l.text)), 'one formatted final per turn');
});

test('close 1008 is decided from its reason and the Error frame', () => {
  const v = (reason: string) => verdictFor({ opened: true, code: 1008, reason, error: { message: reason, code: '1008' } }, assemblyai.client({ name: 'a', provider: 'assemblyai', url: 'ws://x/', params: {}, bufferMs: 1000, interim: false, noResultsMs: 0 }, { channels: 1 }).classify);
  assert.equal(v('Unauthorized Connection: Too many concurrent sessions'), { retry: 'later' });
  assert.equal(v('Unauthorized Connection: Missing Authorization header'), { retry: 'never', problem: 'key_rejected' });
  assert.equal(v('Unauthorized Connection: Insufficient account balance'), { retry: 'never', problem: 'refused' });
  assert.equal(genericVerdict({ opened: true, code: 1008 }), { retry: 'never', problem: 'refused' }, 'elsewhere 1008 stays permanent');
});

test.run();
