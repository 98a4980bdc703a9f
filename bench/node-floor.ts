/**
 * The floor under a meeting's memory, for bench:density: node with one worker isolate (the audio
 * worker's heap limits) that has loaded the native helper and libopus and encoded a frame, as
 * every meeting's audio thread does - and nothing else. Prints "ready", then idles until killed.
 * What a meeting's RSS has above this process's is earshot's own; this much, node + a worker cost.
 */
import { Worker } from 'node:worker_threads';

/** As src/run/audio-thread.ts gives the audio worker (importing it would load the run/ modules here). */
const AUDIO_HEAP = { maxYoungGenerationSizeMb: 3 };

const worker = new Worker(
  `const { native } = require(${JSON.stringify(require.resolve('../src/native'))});
   const { createStreamEncoder } = require(${JSON.stringify(require.resolve('../src/opus'))});
   native();
   createStreamEncoder(1, 64000).encodeInto(new Int16Array(960), new Uint8Array(1280));
   require('node:worker_threads').parentPort.postMessage('ready');
   Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);`,
  { eval: true, resourceLimits: AUDIO_HEAP },
);
worker.once('message', () => process.stdout.write('ready\n'));
