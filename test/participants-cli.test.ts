/**
 * `earshot run --input page:HOST:PORT`: the CLI takes the meeting's page token from the
 * environment variable it is told (never argv), a page speaking the protocol (driven by hand
 * here; the browser tests drive the real script) delivers one participant, and the recording
 * has that participant's own file beside the mix, listed in summary.json. With
 * `--participant-transcripts multichannel:N` the partner (the Deepgram emulator) gets one
 * connection, each participant a channel, and each segment comes back with its speaker.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import WebSocket from 'ws';
import { HEADER_BYTES } from '../src/ingest/page/protocol';
import { startEmulator } from '../src/partners/emulator';
import { decode } from './fixtures/audio';
import { runEarshot, startEarshot } from './fixtures/cli';
import { tempDir } from './tmp';

const TOKEN = 'cli-page-token-5f2c';

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** A page over the protocol by hand: one track per participant, a 440 Hz tone where `loud(k)` says, 20 ms periods at real time. */
async function connectPage(port: number, participants: [string, (period: number) => boolean][], periods = 50): Promise<WebSocket> {
  let ws: WebSocket | undefined;
  for (let i = 0; i < 100 && !ws; i++) {
    const c = new WebSocket(`ws://127.0.0.1:${port}/`);
    ws = await new Promise<WebSocket | undefined>((r) => (c.on('open', () => r(c)), c.on('error', () => r(undefined))));
    if (!ws) await new Promise((r) => setTimeout(r, 50));
  }
  assert.ok(ws, 'the receiver listens');
  const epoch = performance.timeOrigin + performance.now();
  let seq = 0;
  ws!.send(JSON.stringify({ type: 'hello', v: 1, seq: -1, token: TOKEN, session: 'cli', pageMs: epoch, firstSeq: 0, droppedSamples: 0, anchor: null }));
  participants.forEach(([name], i) => ws!.send(JSON.stringify({ type: 'track', seq: seq++, index: i + 1, trackId: `t${i + 1}`, label: name, stream: name, state: 'live', pageMs: epoch })));
  for (let k = 0; k < periods; k++) {
    participants.forEach(([, loud], i) => {
      const b = Buffer.alloc(HEADER_BYTES + 1920);
      b.set([0xea, 1], 0);
      b.writeUInt16LE(i + 1, 2);
      b.writeUInt32LE(seq++, 4);
      b.writeDoubleLE(k * 960, 8);
      b.writeDoubleLE(epoch + (k + 1) * 20, 16);
      if (loud(k)) for (let j = 0; j < 960; j++) b.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 440 * (k * 960 + j)) / 48000)), HEADER_BYTES + 2 * j);
      ws!.send(b);
    });
    await new Promise((r) => setTimeout(r, 20));
  }
  return ws!;
}

test('page input without --page-token-env is one line naming the fix, exit 2', async () => {
  const r = await runEarshot(['run', '--input', 'page:127.0.0.1:0', '--duration', '1s']);
  assert.is(r.code, 2);
  assert.match(r.stderr, /--input page: needs --page-token-env VAR/);
});

test('a participant from the page is recorded in its own file beside the mix', async () => {
  const rec = join(tempDir('earshot-page-cli-'), 'rec');
  const port = await freePort();
  const run = startEarshot(['run', '--input', `page:127.0.0.1:${port}`, '--page-token-env', 'PAGE_TOKEN', '--record', rec, '--duration', '3s', '--log-sink', 'null'], { PAGE_TOKEN: TOKEN });
  const ws = await connectPage(port, [['alice', (k) => k < 50]]);
  const r = await run.done;
  ws!.close();
  assert.is(r.code, 0, r.stderr);
  assert.not.match(r.stderr + r.stdout, TOKEN, 'the token is in no output');
  const summary = JSON.parse(readFileSync(join(rec, 'summary.json'), 'utf8'));
  assert.equal(summary.participants.map((p: { participant: string }) => p.participant), ['alice']);
  const mine = join(rec, 'participants', 'alice', 'audio.opus');
  assert.ok(existsSync(mine));
  const [mix, alice] = [decode(join(rec, 'audio.opus')), decode(mine)];
  assert.is(alice.length, mix.length, 'aligned with the mix');
  const loud = alice.reduce((n, v) => n + (Math.abs(v) > 4000 ? 1 : 0), 0) / 48000;
  assert.ok(loud > 0.5, `the tone is in alice's file (${loud.toFixed(2)} s loud)`);
});

test('multichannel transcripts: one Deepgram connection, a channel per participant, each segment with its speaker; a participant beyond the slots is not transcribed, and the log says why', async () => {
  const emu = await startEmulator({ protocol: 'deepgram', key: 'cli-dg-key-7a1' });
  const tmp = tempDir('earshot-page-mc-');
  const rec = join(tmp, 'rec');
  const port = await freePort();
  const args = ['run', '--input', `page:127.0.0.1:${port}`, '--page-token-env', 'PAGE_TOKEN', '--record', rec, '--duration', '4s', '--log-sink', `file:${join(tmp, 'log')}`];
  const partner = ['--partner', 'deepgram', '--partner-url', emu.url, '--partner-key-env', 'DG_KEY', '--participant-transcripts', 'multichannel:2'];
  const run = startEarshot([...args, ...partner], { PAGE_TOKEN: TOKEN, DG_KEY: 'cli-dg-key-7a1' });
  // alice speaks for the first second, bob from 1.5 s to 2.5 s; carol, third in two slots, over alice.
  const ws = await connectPage(port, [['alice', (k) => k < 50], ['bob', (k) => k >= 75 && k < 125], ['carol', (k) => k >= 20 && k < 60]], 150);
  const r = await run.done;
  ws.close();
  await emu.close();
  assert.is(r.code, 0, r.stderr);
  assert.is(emu.sessions.length, 1, 'one connection for both');
  const params = emu.sessions[0]!.params;
  assert.equal([params.multichannel, params.channels, params.encoding], ['true', '2', 'linear16']);
  const lines = readFileSync(join(rec, 'transcripts.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { speaker?: string; channel?: number; words: { start: number; end: number }[] });
  const words = (p: string) => lines.filter((l) => l.speaker === p).flatMap((l) => l.words);
  assert.equal([...new Set(lines.map((l) => `${l.speaker}:${l.channel}`))].sort(), ['alice:0', 'bob:1'], JSON.stringify(lines));
  // Each speaker's words where that participant's tone was: alice's end before bob's begin.
  const aliceEnd = Math.max(...words('alice').map((w) => w.end));
  const bobStart = Math.min(...words('bob').map((w) => w.start));
  assert.ok(aliceEnd + 0.3 <= bobStart, `alice's words until ${aliceEnd} s, bob's from ${bobStart} s`);
  const summary = JSON.parse(readFileSync(join(rec, 'summary.json'), 'utf8'));
  const [p] = summary.partners;
  assert.equal([summary.partners.length, p.name, p.participants, p.outcome.delivered, p.codec.channels], [1, 'deepgram', ['alice', 'bob'], true, 2]);
  assert.ok(existsSync(join(rec, 'participants', 'carol', 'audio.opus')), 'carol is still recorded');
  assert.match(readFileSync(join(tmp, 'log'), 'utf8'), 'participant carol is not transcribed: all 2 multichannel slots are taken - use --participant-transcripts multichannel:N with more, or each');
  assert.ok(p.audioSecSent > 3 && p.sendLatencyMs.p50 >= 0, JSON.stringify(p));
});

test('multichannel with a provider that has none, or with opus, is one line naming the fix, exit 2', async () => {
  const r = await runEarshot(
    ['run', '--input', 'page:127.0.0.1:0', '--page-token-env', 'PAGE_TOKEN', '--partner', 'assemblyai', '--partner-key-env', 'AAI_KEY', '--participant-transcripts', 'multichannel', '--duration', '1s'],
    { PAGE_TOKEN: TOKEN, AAI_KEY: 'k' },
  );
  assert.is(r.code, 2);
  assert.is(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /partner assemblyai \(assemblyai\) has no multichannel mode - use participant-transcripts each, or a deepgram partner/);
  const opus = await runEarshot(
    ['run', '--input', 'page:127.0.0.1:0', '--page-token-env', 'PAGE_TOKEN', '--partner', 'deepgram', '--partner-key-env', 'AAI_KEY', '--partner-codec', 'opus', '--participant-transcripts', 'multichannel', '--duration', '1s'],
    { PAGE_TOKEN: TOKEN, AAI_KEY: 'k' },
  );
  assert.is(opus.code, 2);
  assert.match(opus.stderr, /partner deepgram would get linear16 \(the channels are raw PCM\) - drop its opus codec, or use participant-transcripts each/);
});

test.run();
