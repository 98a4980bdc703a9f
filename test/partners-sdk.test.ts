/**
 * The emulators speak the providers' protocols, not just ours: each
 * provider's official client from npm (test-only dependencies) streams real
 * speech to its emulator and gets results back, with no protocol violation
 * recorded. AssemblyAI's and OpenAI's clients insist on TLS, so their
 * emulators serve wss:// with a throwaway self-signed certificate. Raw has
 * no official client (it is earshot's own generic endpoint).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DeepgramClient } from '@deepgram/sdk';
import { AssemblyAI } from 'assemblyai';
import { RealtimeClient } from '@speechmatics/real-time-client';
import OpenAI from 'openai';
import { OpenAIRealtimeWS } from 'openai/realtime/ws';
import { GladiaClient } from '@gladiaio/sdk';
import { startEmulator } from '../src/partners/emulator';
import { Resampler } from '../src/partners/core/resample';
import { meeting } from './partners-fixture';
import { tempDir } from './tmp';

const KEY = 'sdk-test-key-0001';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const tick = () => new Promise((r) => setImmediate(r));

function pcmAt(rate: number, seconds: number): Buffer {
  const pcm = new Resampler(48_000, rate, 1).process(meeting(seconds));
  return Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength);
}

function selfSigned(): { key: Buffer; cert: Buffer } {
  const dir = tempDir('earshot-sdk-tls-');
  const [key, cert] = [join(dir, 'key.pem'), join(dir, 'cert.pem')];
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', '/CN=127.0.0.1', '-days', '1', '-keyout', key, '-out', cert], { stdio: 'ignore' });
  return { key: readFileSync(key), cert: readFileSync(cert) };
}

test('deepgram: @deepgram/sdk listen.v1 against the emulator', async () => {
  const emu = await startEmulator({ protocol: 'deepgram', key: KEY });
  const client = new DeepgramClient({ apiKey: KEY, baseUrl: `ws://127.0.0.1:${emu.port}` } as never);
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
  const audio = pcmAt(16_000, 6);
  for (let i = 0; i < audio.length; i += 3200) {
    conn.sendMedia(audio.subarray(i, i + 3200));
    await tick();
  }
  conn.sendKeepAlive({ type: 'KeepAlive' });
  conn.sendCloseStream({ type: 'CloseStream' });
  await closed;
  await emu.close();
  const types = new Set(messages.map((m) => m.type));
  for (const t of ['Results', 'SpeechStarted', 'UtteranceEnd', 'Metadata']) assert.ok(types.has(t), `got ${t}: ${[...types]}`);
  const finals = messages.filter((m) => m.type === 'Results' && m.is_final && m.channel.alternatives[0].transcript);
  assert.ok(finals.length >= 3, `${finals.length} finals`);
  const [s] = emu.sessions;
  assert.equal(s!.violations, []);
  assert.is(s!.keepAlives, 1);
  assert.is(messages[messages.length - 1]!.request_id, s!.id);
});

test('assemblyai: assemblyai streaming.transcriber (v3) against the emulator (wss)', async () => {
  process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0'; // the emulator's throwaway certificate
  const emu = await startEmulator({ protocol: 'assemblyai', key: KEY, tls: selfSigned() });
  const t = new AssemblyAI({ apiKey: KEY }).streaming.transcriber({ sampleRate: 16_000, formatTurns: true, websocketBaseUrl: emu.url });
  const turns: { transcript: string; end_of_turn: boolean; turn_is_formatted: boolean }[] = [];
  let sessionId = '';
  t.on('open', ({ id }) => (sessionId = id));
  t.on('turn', (turn) => void turns.push(turn));
  t.on('error', (err) => assert.unreachable(String(err)));
  await t.connect();
  const audio = pcmAt(16_000, 4);
  for (let i = 0; i < audio.length; i += 3200) {
    const chunk = audio.subarray(i, i + 3200);
    t.sendAudio(chunk.buffer.slice(chunk.byteOffset, chunk.byteOffset + chunk.byteLength) as ArrayBuffer);
    await sleep(100); // 100 ms chunks at real time, as the service requires
  }
  await t.close();
  await emu.close();
  const [s] = emu.sessions;
  assert.equal(s!.violations, []);
  assert.is(sessionId, s!.id);
  assert.ok(turns.some((x) => x.end_of_turn && x.turn_is_formatted && /\.$/.test(x.transcript)), `${turns.length} turns`);
  assert.is(s!.textMessages[s!.textMessages.length - 1], '{"type":"Terminate"}');
});

test('speechmatics: @speechmatics/real-time-client against the emulator', async () => {
  const emu = await startEmulator({ protocol: 'speechmatics', key: KEY });
  const client = new RealtimeClient({ url: emu.url });
  const messages: Record<string, any>[] = [];
  client.addEventListener('receiveMessage', ({ data }) => void messages.push(data as Record<string, any>));
  await client.start(KEY, {
    transcription_config: { language: 'en', enable_partials: true, max_delay: 2 },
    audio_format: { type: 'raw', encoding: 'pcm_s16le', sample_rate: 16_000 },
  });
  const audio = pcmAt(16_000, 5);
  for (let i = 0; i < audio.length; i += 3200) {
    client.sendAudio(audio.subarray(i, i + 3200));
    await tick();
  }
  await sleep(100);
  await client.stopRecognition();
  await emu.close();
  const [s] = emu.sessions;
  assert.equal(s!.violations, [], 'EndOfStream carried the right last_seq_no');
  const types = new Set(messages.map((m) => m.message));
  for (const t of ['RecognitionStarted', 'AudioAdded', 'AddPartialTranscript', 'AddTranscript', 'EndOfTranscript']) assert.ok(types.has(t), `got ${t}: ${[...types]}`);
  assert.ok(messages.filter((m) => m.message === 'AddTranscript' && m.results.length).length >= 2);
});

test('openai: openai OpenAIRealtimeWS (transcription session) against the emulator (wss)', async () => {
  process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
  const emu = await startEmulator({ protocol: 'openai', key: KEY, tls: selfSigned() });
  const client = new OpenAI({ apiKey: KEY, baseURL: `https://127.0.0.1:${emu.port}/v1` });
  const rt = new OpenAIRealtimeWS({ model: 'gpt-4o-transcribe' }, client);
  const events: Record<string, any>[] = [];
  rt.on('event', (e) => void events.push(e as Record<string, any>));
  rt.on('error', (err) => assert.unreachable(String(err)));
  await new Promise<void>((resolve) => rt.socket.on('open', () => resolve()));
  rt.send({ type: 'session.update', session: { type: 'transcription', audio: { input: { format: { type: 'audio/pcm', rate: 24_000 }, transcription: { model: 'gpt-4o-transcribe' }, turn_detection: { type: 'server_vad' } } } } });
  const audio = pcmAt(24_000, 5);
  for (let i = 0; i < audio.length; i += 4800) {
    rt.send({ type: 'input_audio_buffer.append', audio: audio.subarray(i, i + 4800).toString('base64') });
    await tick();
  }
  rt.send({ type: 'input_audio_buffer.commit' });
  await sleep(300);
  rt.close();
  await emu.close();
  const [s] = emu.sessions;
  assert.equal(s!.violations, []);
  const types = new Set(events.map((e) => e.type));
  for (const t of ['session.created', 'session.updated', 'input_audio_buffer.speech_started', 'input_audio_buffer.speech_stopped', 'input_audio_buffer.committed', 'conversation.item.input_audio_transcription.completed']) {
    assert.ok(types.has(t), `got ${t}: ${[...types]}`);
  }
  assert.ok(events.filter((e) => e.type === 'conversation.item.input_audio_transcription.completed' && e.transcript).length >= 2);
});

test('gladia: @gladiaio/sdk liveV2 against the emulator (HTTP session set-up, then the socket)', async () => {
  const emu = await startEmulator({ protocol: 'gladia', key: KEY });
  const live = new GladiaClient({ apiKey: KEY, apiUrl: emu.url }).liveV2();
  const session = live.startSession({
    encoding: 'wav/pcm',
    bit_depth: 16,
    sample_rate: 16_000,
    channels: 1,
    messages_config: { receive_partial_transcripts: true, receive_lifecycle_events: true },
  });
  const messages: Record<string, any>[] = [];
  session.on('message', (m) => void messages.push(m as Record<string, any>));
  const ended = new Promise<{ code: number }>((resolve) => session.on('ended', (e) => resolve(e as { code: number })));
  const audio = pcmAt(16_000, 5);
  for (let i = 0; i < audio.length; i += 3200) {
    session.sendAudio(audio.subarray(i, i + 3200));
    await tick();
  }
  session.stopRecording();
  const end = await ended;
  await emu.close();
  const [s] = emu.sessions;
  assert.equal(s!.violations, []);
  assert.is(end.code, 1000);
  assert.is(await session.getSessionId(), s!.id);
  const types = new Set(messages.map((m) => m.type));
  // (audio_chunk and stop_recording acknowledgments are consumed by the client itself.)
  for (const t of ['start_session', 'start_recording', 'transcript', 'end_recording', 'end_session']) assert.ok(types.has(t), `got ${t}: ${[...types]}`);
  assert.ok(messages.filter((m) => m.type === 'transcript' && m.data.is_final).length >= 2);
});

test.run();
