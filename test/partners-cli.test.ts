/** `earshot partner` as users run it: a real child process on loopback. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import WebSocket from 'ws';
import { CLI } from '../src/paths';
import { startChildEmulator, stopChild } from '../bench/partners-child';

test('earshot partner: listens, validates the handshake, applies reject=401', async () => {
  const emu = await startChildEmulator('deepgram', 0, ['reject=401']);
  try {
    const status = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`${emu.url}?encoding=linear16&sample_rate=16000`, { headers: { Authorization: 'Token abcd1234' } });
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => resolve(101));
      ws.on('error', () => {});
    });
    assert.is(status, 401);
  } finally {
    await stopChild(emu);
  }
  const ok = await startChildEmulator('assemblyai', 0);
  try {
    const noKey = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`${ok.url}?sample_rate=16000`);
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => resolve(101));
      ws.on('error', () => {});
    });
    assert.is(noKey, 401, 'AssemblyAI without Authorization or token');
    const begin = await new Promise<Record<string, unknown>>((resolve) => {
      const ws = new WebSocket(`${ok.url}?sample_rate=16000&token=tmp-token-1234`);
      ws.on('message', (d) => {
        resolve(JSON.parse(d.toString()));
        ws.close();
      });
    });
    assert.is(begin.type, 'Begin');
  } finally {
    await stopChild(ok);
  }
});

test('earshot partner: bad flags are one clear line and exit 2', () => {
  for (const [args, re] of [
    [['--protocol', 'zoom'], /--protocol must be deepgram, assemblyai or raw/],
    [['--protocol', 'raw', '--fault', 'explode=1'], /--fault explode=1: unknown fault/],
    [['--protocol', 'raw', '--fault', 'close=1011'], /use close=CODE@TIME/],
  ] as const) {
    const r = spawnSync(process.execPath, [CLI, 'partner', ...args], { encoding: 'utf8' });
    assert.is(r.status, 2, r.stderr);
    assert.match(r.stderr, re);
    assert.is(r.stderr.trim().split('\n').length, 1);
  }
});

test.run();
