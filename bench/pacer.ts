/**
 * A precise capture clock for bench:realtime: writes one 20 ms period of a
 * 440 Hz tone to stdout every 20 ms on an absolute monotonic schedule, from
 * SCHED_FIFO on its own CPU, like a sound card's DMA. With the source this
 * exact, the worker's measured lateness is its own wake-up latency.
 *
 *   node pacer.js SECONDS CPU
 */
import { writeSync } from 'node:fs';
import { native } from '../src/native';

const [seconds = '30', cpu = '0'] = process.argv.slice(2);
try {
  native().setAffinity([Number(cpu)]);
  native().setScheduler(1, 50);
} catch (err) {
  process.stderr.write(`pacer: running without SCHED_FIFO (${(err as Error).message})\n`);
}
const period = Buffer.alloc(1920);
const sleeper = new Int32Array(new SharedArrayBuffer(4));
const periods = Math.round((Number(seconds) * 1000) / 20) + 25;
const start = Number(process.hrtime.bigint());
for (let k = 0; k < periods; k++) {
  for (let i = 0; i < 960; i++) period.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 440 * (k * 960 + i)) / 48000)), i * 2);
  const due = start + (k + 1) * 20e6;
  let left = due - Number(process.hrtime.bigint());
  if (left > 1.5e6) Atomics.wait(sleeper, 0, 0, (left - 1e6) / 1e6); // sleep, then spin the last ~1 ms
  while ((left = due - Number(process.hrtime.bigint())) > 0);
  try {
    writeSync(1, period);
  } catch {
    break; // the reader finished (--duration)
  }
}
