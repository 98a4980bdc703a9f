/**
 * The page receiver against a real WebSocket client speaking the page protocol by hand: what
 * the network sends is authenticated, validated and bounded; a page's session survives its
 * connection (a reconnect learns what was acknowledged; a resent message is not taken twice).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import pino from 'pino';
import WebSocket from 'ws';
import { PageServer, type PageTrack } from '../src/ingest/page/server';
import { HEADER_BYTES } from '../src/ingest/page/protocol';

const TOKEN = 'a-meeting-token';
/** The page's wall clock at its audio clock's frame 0. */
const PAGE_EPOCH = performance.timeOrigin + performance.now();
const audio: Array<{ label: string; position: number; samples: number }> = [];
const tracks: Array<{ label: string; change: string; state: string }> = [];
let server: PageServer;

const hello = (session: string, token = TOKEN) => JSON.stringify({ type: 'hello', v: 1, seq: -1, token, session, pageMs: Date.now(), firstSeq: 0, droppedSamples: 0, anchor: null });
const period = (index: number, seq: number, frame: number, samples = 960) => {
  const b = Buffer.alloc(HEADER_BYTES + samples * 2);
  b[0] = 0xea;
  b[1] = 1;
  b.writeUInt16LE(index, 2);
  b.writeUInt32LE(seq, 4);
  b.writeDoubleLE(frame, 8);
  b.writeDoubleLE(PAGE_EPOCH + (frame + samples) / 48, 16); // stamped as a page's audio thread would: when its last sample was rendered
  for (let i = 0; i < samples; i++) b.writeInt16LE(1000, HEADER_BYTES + 2 * i);
  return b;
};

async function connect(session: string, token = TOKEN): Promise<{ ws: WebSocket; welcome: { known: boolean; ackedSeq: number }; closed: Promise<number> }> {
  const ws = new WebSocket(server.url);
  const closed = new Promise<number>((r) => ws.on('close', (code) => r(code)));
  await new Promise((r) => ws.on('open', r));
  const welcome = new Promise<{ known: boolean; ackedSeq: number }>((resolve) =>
    ws.on('message', (d) => {
      const m = JSON.parse(String(d));
      if (m.type === 'welcome') resolve(m);
    }),
  );
  ws.send(hello(session, token));
  return { ws, welcome: await Promise.race([welcome, closed.then(() => ({ known: false, ackedSeq: -2 }))]), closed };
}

const settle = () => new Promise((r) => setTimeout(r, 150));

test.before(async () => {
  server = await PageServer.listen({
    host: '127.0.0.1',
    port: 0,
    token: TOKEN,
    originMs: performance.timeOrigin + performance.now(),
    log: pino({ level: 'silent' }),
    listener: {
      track: (t: PageTrack, change) => tracks.push({ label: t.label, change, state: t.state }),
      audio: (t, position, pcm) => audio.push({ label: t.label, position, samples: pcm.length }),
      stats: () => {},
    },
  });
});

test('a wrong token is refused before anything is read', async () => {
  const c = await connect('s0', 'not-the-token');
  assert.is(await c.closed, 4401);
  assert.is(server.counters.refused, 1);
});

test('malformed, unknown and unannounced messages are counted and ignored; the connection stays', async () => {
  const c = await connect('s1');
  assert.is(c.welcome.known, false);
  c.ws.send('not json');
  c.ws.send(JSON.stringify({ type: 'launch', seq: 0 }));
  c.ws.send(JSON.stringify({ type: 'track', seq: 1, index: 0, trackId: 't', label: 'x', state: 'live' })); // index 0 is not a track
  c.ws.send(period(7, 2, 0)); // track 7 was never announced
  c.ws.send(Buffer.from([0xea, 9, 0, 0])); // too short, unknown version
  await settle();
  assert.is(server.counters.invalidMessages, 5);
  assert.is(c.ws.readyState, WebSocket.OPEN);
  c.ws.close();
});

test('a message over the size bound closes the connection (1009)', async () => {
  const c = await connect('s2');
  c.ws.send(Buffer.alloc(64 * 1024));
  assert.is(await c.closed, 1009);
});

test('a page that reconnects learns what was acknowledged, and what it resends is taken once', async () => {
  const c = await connect('s3');
  c.ws.send(JSON.stringify({ type: 'track', seq: 0, index: 1, trackId: 't1', label: 'alice', stream: 'alice', state: 'live', pageMs: 0 }));
  for (let i = 0; i < 5; i++) c.ws.send(period(1, 1 + i, 48_000 + i * 960));
  await settle(); // acked
  c.ws.terminate();
  await c.closed;
  const again = await connect('s3');
  assert.equal(again.welcome, { type: 'welcome', known: true, ackedSeq: 5 } as never);
  for (let i = 3; i < 8; i++) again.ws.send(period(1, 1 + i, 48_000 + i * 960)); // resends 3..4, then new ones
  await settle();
  const alice = audio.filter((a) => a.label === 'alice');
  assert.is(alice.length, 8, 'periods 0..7 once each');
  assert.is(server.counters.duplicates, 2);
  for (let i = 1; i < alice.length; i++) assert.is(alice[i]!.position - alice[i - 1]!.position, 960, 'contiguous on the timeline');
  assert.equal(tracks.filter((t) => t.label === 'alice').map((t) => t.change), ['added']);
  again.ws.close();
});

test.after(() => server.close());
test.run();
