/**
 * AssemblyAI v3 against the emulator. The protocol forbids sending faster
 * than real time, so these tests run at real time and stay short.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import type { MeetingEvent } from '../src/events';
import { createPartnerSinks, parsePartnerSpecs } from '../src/partners';
import { startEmulator } from '../src/partners/emulator';
import { segmentAll } from '../src/partners/emulator/segmenter';
import { drive, meeting, quietLogger, readLines, unmatched } from './partners-fixture';
import { tempDir } from './tmp';

const KEY = 'aai_test_key_9b7e51d2';
process.env.EARSHOT_TEST_AAI_KEY = KEY;
const tmp = () => tempDir('earshot-partners-');

function sinkFor(url: string, dir: string | undefined, events: MeetingEvent[], extra: Record<string, unknown> = {}) {
  const specs = parsePartnerSpecs({ partner: ['assemblyai'], 'partner-url': [url], 'partner-key-env': ['EARSHOT_TEST_AAI_KEY'] });
  return createPartnerSinks(specs, { recordDir: dir, channels: 2, logger: quietLogger(), onEvent: (e) => events.push(e), ...extra })[0]!;
}

test('happy path: 100 ms mono chunks at real time, Terminate -> Termination, turns on the timeline', async () => {
  const emu = await startEmulator({ protocol: 'assemblyai', key: KEY });
  const dir = tmp();
  const events: MeetingEvent[] = [];
  const sink = sinkFor(emu.url, dir, events);
  const pcm = meeting(5);
  await drive([sink], pcm, { speed: 1, channels: 2 });
  await sink.close();
  await emu.close();
  assert.is(emu.sessions.length, 1);
  const [s] = emu.sessions;
  assert.equal(s!.violations, []);
  assert.is(s!.params.encoding, 'pcm_s16le');
  assert.is(s!.params.sample_rate, '16000');
  assert.ok(s!.chunkMs.every((ms) => ms >= 50 && ms <= 1000), `chunk sizes ${[...new Set(s!.chunkMs)]}`);
  assert.is(s!.textMessages[s!.textMessages.length - 1], '{"type":"Terminate"}');
  assert.is(s!.closedBy, 'server', 'closed after Termination');
  assert.ok(Math.abs(s!.audioSec - 5) < 0.06, `audio ${s!.audioSec}`);
  assert.equal(sink.status().sessionIds, [s!.id]);
  assert.equal(events, []);
  const lines = readLines(join(dir, 'transcripts.jsonl'));
  assert.ok(lines.every((l) => l.final && l.sessionId === s!.id && /\.$/.test(l.text)), 'one formatted final per turn');
  assert.equal(unmatched(segmentAll(pcm, 48_000, { hangoverMs: 400 }), lines), []);
});

test('drop at 5 s: paced replay from the last turn, nothing lost, times within 20 ms', async () => {
  const emu = await startEmulator({ protocol: 'assemblyai', faults: { dropAfterSec: 5 } });
  const dir = tmp();
  const events: MeetingEvent[] = [];
  const sink = sinkFor(emu.url, dir, events, { tuning: { backoffBaseMs: 50 } });
  const pcm = meeting(9);
  await drive([sink], pcm, { speed: 1, channels: 2 });
  await sink.close();
  await emu.close();
  assert.is(emu.sessions.length, 2);
  assert.is(emu.sessions[0]!.closeCode, 1006);
  for (const s of emu.sessions) assert.equal(s.violations, [], 'replay never ran ahead of real time');
  assert.is(sink.status().reconnects, 1);
  assert.equal(events, []);
  const lines = readLines(join(dir, 'transcripts.jsonl'));
  assert.equal(unmatched(segmentAll(pcm, 48_000, { hangoverMs: 400 }), lines), []);
  assert.ok(lines.some((l) => l.sessionId === emu.sessions[1]!.id));
});

test('reject=401: one error, one handshake', async () => {
  const emu = await startEmulator({ protocol: 'assemblyai', faults: { reject: 401 } });
  const events: MeetingEvent[] = [];
  const sink = sinkFor(emu.url, undefined, events);
  await drive([sink], meeting(1), { channels: 2 });
  await new Promise((r) => setTimeout(r, 500));
  await sink.close();
  await emu.close();
  assert.is(emu.rejected.length, 1);
  assert.match(sink.error() ?? '', /HTTP 401 at handshake: the partner refused the key - check --partner-key-env EARSHOT_TEST_AAI_KEY/);
  assert.is(events.length, 1);
});

test.run();
