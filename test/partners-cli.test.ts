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
    const noKey = await new Promise<{ code: number; error: string }>((resolve) => {
      const ws = new WebSocket(`${ok.url}?sample_rate=16000`);
      let error = '';
      ws.on('message', (d) => (error = JSON.parse(d.toString()).error));
      ws.on('close', (code) => resolve({ code, error }));
      ws.on('error', () => {});
    });
    assert.equal(noKey, { code: 1008, error: 'Unauthorized Connection: Missing Authorization header' }, 'AssemblyAI refuses in-band: Error frame, then 1008');
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
    [['--protocol', 'zoom'], /--protocol must be deepgram, assemblyai/],
    [['--protocol', 'deepgram', '--fault', 'close=0999@1s'], /--fault close=0999@1s: 0999 is not a close code an endpoint may send - use 1000-1003, 1007-1014 or 3000-4999/],
    [['--protocol', 'deepgram', '--fault', 'stall=soon'], /--fault stall=soon: "soon" is not a duration - use e.g. stall=3s/],
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
