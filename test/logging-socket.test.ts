/**
 * socket:PATH against a real listening unix socket: delivery, the listener
 * going away (the logger never blocks, drops with a count), and coming back
 * (the sink reconnects and delivers again).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createLogging, sinkOf } from '../src/logging';
import type { SocketSink } from '../src/logging/socket-sink';

interface Listener {
  server: Server;
  lines: string[];
  conns: Set<Socket>;
}

function listen(path: string): Promise<Listener> {
  rmSync(path, { force: true });
  const l: Listener = { server: createServer(), lines: [], conns: new Set() };
  l.server.on('connection', (c) => {
    l.conns.add(c);
    let rest = '';
    c.setEncoding('utf8');
    c.on('data', (d: string) => {
      const parts = (rest + d).split('\n');
      rest = parts.pop()!;
      l.lines.push(...parts);
    });
    c.on('close', () => l.conns.delete(c));
  });
  return new Promise((resolve) => l.server.listen(path, () => resolve(l)));
}

function stop(l: Listener): Promise<void> {
  for (const c of l.conns) c.destroy();
  return new Promise((resolve) => l.server.close(() => resolve()));
}

async function until(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('socket sink: delivers, survives the listener restarting, never blocks while it is gone', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'earshot-logsock-'));
  const path = join(dir, 'log.sock');
  let listener = await listen(path);
  const logging = createLogging({ sink: `socket:${path}`, maxBufferBytes: 8 * 1024, dropWarnIntervalMs: 200 });
  const sink = sinkOf(logging) as SocketSink;
  const log = logging.logger.child({ module: 'partners' });
  try {
    await until(() => sink.isConnected(), 'the first connection');
    for (let i = 0; i < 50; i++) log.info({ phase: 'first', i }, 'hello');
    await until(() => listener.lines.length >= 50, 'the first 50 records');
    assert.is(JSON.parse(listener.lines[49]!).i, 49);

    // The listener goes away (as Fluent Bit does on restart).
    await stop(listener);
    await until(() => !sink.isConnected(), 'the sink to notice');
    let slowest = 0;
    for (let i = 0; i < 2000; i++) {
      const t0 = performance.now();
      log.info({ phase: 'away', i, pad: 'x'.repeat(100) }, 'nobody listening');
      slowest = Math.max(slowest, performance.now() - t0);
    }
    // 2000 records of ~190 B into an 8 KiB bound: most are dropped, and counted.
    const away = logging.stats();
    assert.ok(away.dropped > 1500, `dropped ${away.dropped}`);
    assert.ok(sink.counts().bufferedBytes <= 8 * 1024);
    assert.ok(slowest < 200, `a log call took ${slowest.toFixed(1)} ms while the peer was away`);

    // It comes back: the sink reconnects and delivers what it kept, then new records.
    listener = await listen(path);
    await until(() => sink.isConnected(), 'the reconnect');
    log.info({ phase: 'back' }, 'after restart');
    await until(() => listener.lines.some((l) => l.includes('after restart')), 'a record after the restart');
    assert.ok(listener.lines.some((l) => l.includes('nobody listening')), 'records kept while away were delivered');
    await until(() => listener.lines.some((l) => l.includes('records dropped')), 'the drop warning');

    await sink.flush();
    const s = logging.stats();
    const delivered = 50 + listener.lines.length;
    assert.is(delivered, s.written, 'written = lines the listener received');
    assert.ok(sink.connects >= 2);
    console.log(`  socket: written ${s.written}, dropped ${s.dropped}, connects ${sink.connects}, slowest call while away ${slowest.toFixed(2)} ms`);
  } finally {
    await logging.close();
    await stop(listener);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('socket sink: starts while nobody listens and connects once someone does', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'earshot-logsock-'));
  const path = join(dir, 'late.sock');
  const logging = createLogging({ sink: `socket:${path}` });
  const sink = sinkOf(logging) as SocketSink;
  try {
    logging.logger.info('before the listener');
    await new Promise((r) => setTimeout(r, 100));
    const listener = await listen(path);
    await until(() => listener.lines.length >= 1, 'the queued record');
    assert.ok(listener.lines[0]!.includes('before the listener'));
    assert.is(sink.counts().dropped, 0);
    await logging.close();
    await stop(listener);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
