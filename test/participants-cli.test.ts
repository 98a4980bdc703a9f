/**
 * `earshot run --input page:HOST:PORT`: the CLI takes the meeting's page token from the
 * environment variable it is told (never argv), a page speaking the protocol (driven by hand
 * here; the browser tests drive the real script) delivers one participant, and the recording
 * has that participant's own file beside the mix, listed in summary.json.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import WebSocket from 'ws';
import { HEADER_BYTES } from '../src/ingest/page/protocol';
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

test('page input without --page-token-env is one line naming the fix, exit 2', async () => {
  const r = await runEarshot(['run', '--input', 'page:127.0.0.1:0', '--duration', '1s']);
  assert.is(r.code, 2);
  assert.match(r.stderr, /--input page: needs --page-token-env VAR/);
});

test('a participant from the page is recorded in its own file beside the mix', async () => {
  const rec = join(tempDir('earshot-page-cli-'), 'rec');
  const port = await freePort();
  const run = startEarshot(['run', '--input', `page:127.0.0.1:${port}`, '--page-token-env', 'PAGE_TOKEN', '--record', rec, '--duration', '3s', '--log-sink', 'null'], { PAGE_TOKEN: TOKEN });
  let ws: WebSocket | undefined;
  for (let i = 0; i < 100 && !ws; i++) {
    const c = new WebSocket(`ws://127.0.0.1:${port}/`);
    ws = await new Promise<WebSocket | undefined>((r) => (c.on('open', () => r(c)), c.on('error', () => r(undefined))));
    if (!ws) await new Promise((r) => setTimeout(r, 50));
  }
  assert.ok(ws, 'the receiver listens');
  const epoch = performance.timeOrigin + performance.now();
  ws!.send(JSON.stringify({ type: 'hello', v: 1, seq: -1, token: TOKEN, session: 'cli', pageMs: epoch, firstSeq: 0, droppedSamples: 0, anchor: null }));
  ws!.send(JSON.stringify({ type: 'track', seq: 0, index: 1, trackId: 't1', label: 'alice', stream: 'alice', state: 'live', pageMs: epoch }));
  // One second of a 440 Hz tone, sent at real time in 20 ms periods stamped as a page's audio thread would.
  for (let k = 0; k < 50; k++) {
    const b = Buffer.alloc(HEADER_BYTES + 1920);
    b.set([0xea, 1], 0);
    b.writeUInt16LE(1, 2);
    b.writeUInt32LE(1 + k, 4);
    b.writeDoubleLE(k * 960, 8);
    b.writeDoubleLE(epoch + (k + 1) * 20, 16);
    for (let i = 0; i < 960; i++) b.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 440 * (k * 960 + i)) / 48000)), HEADER_BYTES + 2 * i);
    ws!.send(b);
    await new Promise((r) => setTimeout(r, 20));
  }
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

test.run();
