import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FRAME_SAMPLES, type Frame } from '../src/realtime/frame';
import { FrameRing } from '../src/realtime/ring';

test('frames come out in order with their header, PCM and Opus bytes', () => {
  const ring = FrameRing.create({ slots: 4, channels: 1 });
  for (let seq = 0; seq < 3; seq++) {
    const slot = ring.claim();
    ring.pcmAt(slot).fill(seq + 1);
    ring.opusAt(slot).set([seq, 1, 2]);
    ring.publish(slot, seq, 1e9 + seq, seq * 10, seq & 1, 3);
  }
  const f = {} as Frame;
  for (let seq = 0; seq < 3; seq++) {
    assert.ok(ring.peek(f));
    assert.is(f.seq, seq);
    assert.is(f.captureNs, 1e9 + seq);
    assert.is(f.latenessUs, seq * 10);
    assert.is(f.flags, seq & 1);
    assert.is(f.pcm.length, FRAME_SAMPLES);
    assert.is(f.pcm[100], seq + 1);
    assert.equal([...f.opus], [seq, 1, 2]);
    ring.release();
  }
  assert.not.ok(ring.peek(f));
});

test('a full ring refuses instead of waiting, and frees slots as they are consumed', () => {
  const ring = FrameRing.create({ slots: 2, channels: 2 });
  ring.publish(ring.claim(), 0, 0, 0, 0, 0);
  ring.publish(ring.claim(), 1, 0, 0, 0, 0);
  assert.is(ring.claim(), -1);
  assert.is(ring.fill(), 2);
  const f = {} as Frame;
  ring.peek(f);
  ring.release();
  assert.is.not(ring.claim(), -1);
  assert.is(f.pcm.length, FRAME_SAMPLES * 2);
});

test('counters survive wrapping past 2^32 publishes', () => {
  const ring = FrameRing.create({ slots: 3, channels: 1 });
  const control = new Int32Array(ring.buffer, 0, 2);
  control[0] = -2; // write and read just below the 32-bit wrap
  control[1] = -2;
  const f = {} as Frame;
  for (let seq = 0; seq < 10; seq++) {
    ring.publish(ring.claim(), seq, 0, 0, 0, 0);
    assert.ok(ring.peek(f));
    assert.is(f.seq, seq);
    ring.release();
  }
  assert.is(ring.fill(), 0);
});

test('waitForData wakes when the producer publishes from another thread', async () => {
  const { Worker } = await import('node:worker_threads');
  const ring = FrameRing.create({ slots: 4, channels: 1 });
  const w = new Worker(
    `const { workerData } = require('node:worker_threads');
     const c = new Int32Array(workerData, 0, 4);
     setTimeout(() => { Atomics.add(c, 0, 1); Atomics.notify(c, 0); }, 100);`,
    { eval: true, workerData: ring.buffer },
  );
  const t0 = Date.now();
  await ring.waitForData(5000);
  assert.ok(Date.now() - t0 < 4000, 'woke on notify, not on the timeout');
  assert.is(ring.fill(), 1);
  await w.terminate();
});

test.run();
