/**
 * The emulator speaks Deepgram's protocol, not just ours: the official
 * @deepgram/sdk (dev dependency) streams to it and receives results.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DeepgramClient } from '@deepgram/sdk';
import { startEmulator } from '../src/partners/emulator';
import { Resampler } from '../src/partners/core/resample';
import { meeting } from './partners-fixture';

test('@deepgram/sdk listen.v1 against the emulator', async () => {
  const emu = await startEmulator({ protocol: 'deepgram', key: 'sdk-test-key-0001' });
  const client = new DeepgramClient({ apiKey: 'sdk-test-key-0001', baseUrl: `ws://127.0.0.1:${emu.port}` } as never);
  const conn = await client.listen.v1.connect({
    model: 'nova-3',
    encoding: 'linear16',
    sample_rate: 16000,
    channels: 1,
    interim_results: 'true',
    vad_events: 'true',
    utterance_end_ms: 1000,
    reconnectAttempts: 0,
  } as never);
  const messages: Record<string, any>[] = [];
  const closed = new Promise<void>((resolve) => conn.on('close', () => resolve()));
  conn.on('message', (m: any) => messages.push(m));
  conn.connect();
  await conn.waitForOpen();
  const pcm16 = new Resampler(48_000, 16_000, 1).process(meeting(6));
  for (let i = 0; i < pcm16.length; i += 1600) {
    conn.sendMedia(Buffer.from(pcm16.slice(i, i + 1600).buffer));
    await new Promise((r) => setImmediate(r));
  }
  conn.sendKeepAlive({ type: 'KeepAlive' });
  conn.sendCloseStream({ type: 'CloseStream' });
  await closed;
  await emu.close();
  const types = new Set(messages.map((m) => m.type));
  for (const t of ['Results', 'SpeechStarted', 'UtteranceEnd', 'Metadata']) assert.ok(types.has(t), `got ${t}: ${[...types]}`);
  const finals = messages.filter((m) => m.type === 'Results' && m.is_final && m.channel.alternatives[0].transcript);
  assert.ok(finals.length >= 3, `${finals.length} finals`);
  assert.ok(finals[0].channel.alternatives[0].words[0].start > 0.5);
  assert.is(messages[messages.length - 1]!.type, 'Metadata');
  const [s] = emu.sessions;
  assert.equal(s!.violations, []);
  assert.is(s!.keepAlives, 1);
  assert.is(messages[messages.length - 1]!.request_id, s!.id);
});

test.run();
