/**
 * The floor under a meeting's CPU, for bench:floor: earshot's architecture doing no work.
 *
 *   node floor-meeting.js --input FILE --duration SEC [--encode]
 *
 * As `earshot run --input file:...` does: an ffmpeg child decodes the file and paces it in 20 ms
 * packets into a FIFO (the ingest's own arguments); node's main thread wakes every 100 ms (the
 * drain batch); an audio worker (the same heap limits, named earshot-audio) sleeps in poll(2) on
 * the FIFO and reads each 20 ms packet as it lands (sleepIn/readIn, as the real worker does).
 * Nothing is framed, checked, encoded, recorded or sent. With `--encode` the worker also encodes
 * each 20 ms frame with the meeting's encoder (system libopus) into a reused buffer: the floor
 * plus the one piece of work the record-only baseline also does.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { native } from '../src/native';
import { tempDir } from '../test/tmp';

const { values } = parseArgs({ options: { input: { type: 'string' }, duration: { type: 'string' }, encode: { type: 'boolean', default: false } } });
const dir = tempDir('earshot-bench-floor-');
const fifo = join(dir, 'ingest.pcm');
native().mkfifo(fifo);
const stop = new Int32Array(new SharedArrayBuffer(4));

// As src/run/audio-thread.ts starts the audio worker (its heap limits), and as src/realtime/worker.ts + pump.ts read.
const worker = new Worker(
  `const { workerData } = require('node:worker_threads');
   const { openSync, constants } = require('node:fs');
   const { native } = require(${JSON.stringify(require.resolve('../src/native'))});
   const n = native();
   n.setThreadName('earshot-audio');
   const fd = openSync(workerData.fifo, constants.O_RDWR);
   n.setPipeSize(fd, 1 << 20);
   const buf = Buffer.alloc(64 * 1024);
   const times = new Float64Array(4);
   const frame = Buffer.alloc(1920);
   const packet = new Uint8Array(1280);
   const enc = workerData.encode && require(${JSON.stringify(require.resolve('../src/opus'))}).createStreamEncoder(1, 64000);
   let fill = 0;
   while (!Atomics.load(workerData.stop, 0)) {
     if (!(n.sleepIn(fd, 20, -1, -1, times) & 1)) continue;
     const got = n.readIn(fd, buf);
     if (!enc) continue;
     for (let off = 0; off < got; ) {
       const k = Math.min(got - off, frame.length - fill);
       buf.copy(frame, fill, off, off + k);
       fill += k;
       off += k;
       if (fill === frame.length) { enc.encodeInto(frame, packet); fill = 0; }
     }
   }`,
  { eval: true, workerData: { fifo, stop, encode: values.encode }, resourceLimits: { maxYoungGenerationSizeMb: 3 } },
);

const layout = 'mono';
const ffmpeg = spawn('ffmpeg', ['-hide_banner', '-nostdin', '-loglevel', 'error', '-i', values.input!, '-t', values.duration!, '-vn', '-ac', '1', '-ar', '48000',
  '-af', `aresample=48000,aformat=sample_fmts=s16:channel_layouts=${layout},asetnsamples=n=960:p=0,arealtime`,
  '-c:a', 'pcm_s16le', '-f', 's16le', '-flush_packets', '1', '-y', fifo], { stdio: 'ignore' });
const drain = setInterval(() => Atomics.load(stop, 0), 100);
ffmpeg.on('exit', () => {
  clearInterval(drain);
  Atomics.store(stop, 0, 1);
  void worker.terminate(); // the temp folder goes when the process exits
});
