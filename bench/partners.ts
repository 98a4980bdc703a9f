/**
 * N concurrent meetings, each streaming to a partner emulator (a separate
 * process) on loopback at real time. Prints the client's CPU per
 * stream-minute and capture->send latency (from the capture of the frame that
 * completed a chunk to its ws.send). Target: p99 <= 40 ms with 50 streams.
 *
 *   npm run bench:partners -- [--streams 50] [--duration 30s] [--protocol deepgram|assemblyai]
 */
import { parseArgs } from 'node:util';
import { loadavg, cpus } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import pino from 'pino';
import { createPartnerSinks, parsePartnerSpecs } from '../src/partners';
import { FRAME_SAMPLES, type Frame } from '../src/realtime/frame';
import { parseDuration } from '../src/util/duration';
import { meeting } from '../test/partners-fixture';
import { startChildEmulator, stopChild } from './partners-child';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      streams: { type: 'string', default: '50' },
      duration: { type: 'string', default: '30s' },
      protocol: { type: 'string', default: 'deepgram' },
    },
  });
  const n = Number(values.streams);
  const durationMs = parseDuration(values.duration!);
  const protocol = values.protocol!;
  const emu = await startChildEmulator(protocol);
  process.env.BENCH_PARTNER_KEY = 'bench-key-not-secret';
  const specs = parsePartnerSpecs({ partner: [protocol], 'partner-url': [emu.url], 'partner-key-env': ['BENCH_PARTNER_KEY'] });
  const latencies: number[] = [];
  let bytes = 0;
  const logger = pino({ level: 'warn' });
  const sinks = Array.from({ length: n }, () =>
    createPartnerSinks(specs, {
      channels: 1,
      logger,
      onEvent: (e) => console.error('event', JSON.stringify(e)),
      onSend: (ms, b) => {
        latencies.push(ms);
        bytes += b;
      },
    })[0]!,
  );
  const pcm = meeting(Math.ceil(durationMs / 1000) + 1);
  const frames = Math.floor(durationMs / 20);
  const pcmFrame = (seq: number) => pcm.subarray(seq * FRAME_SAMPLES, (seq + 1) * FRAME_SAMPLES);
  // Wait for the sockets, then run the clock.
  await new Promise((r) => setTimeout(r, 500));
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const ns0 = Number(process.hrtime.bigint());
  let seq = 0;
  await new Promise<void>((resolve) => {
    const step = () => {
      // Every frame that has "arrived" by now, stamped with its ideal capture time,
      // so lateness of this loop counts against the latency.
      const due = Math.min(frames, Math.floor((performance.now() - t0) / 20));
      for (; seq < due; seq++) {
        const captureNs = ns0 + (seq + 1) * 20e6;
        const f: Frame = { seq, captureNs, latenessUs: 0, flags: 0, channels: 1, pcm: pcmFrame(seq), opus: new Uint8Array(0) };
        for (const s of sinks) s.write(f);
      }
      if (seq >= frames) return resolve();
      setTimeout(step, Math.max(1, 20 - ((performance.now() - t0) % 20)));
    };
    step();
  });
  const cpu = process.cpuUsage(cpu0);
  const wallSec = (performance.now() - t0) / 1000;
  loop.disable();
  await Promise.all(sinks.map((s) => s.close()));
  await stopChild(emu);
  latencies.sort((a, b) => a - b);
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!;
  const streamMin = (n * frames * 0.02) / 60;
  const cpuMs = (cpu.user + cpu.system) / 1000;
  const sent = sinks.reduce((a, s) => a + s.status().audioSecSent, 0);
  console.log(`partners bench: ${n} streams x ${(frames * 0.02).toFixed(0)} s of audio (${protocol}, ${sinks.length ? sinks[0]!.status().name : ''}), wall ${wallSec.toFixed(1)} s`);
  console.log(`  audio sent: ${sent.toFixed(1)} s in ${latencies.length} chunks, ${(bytes / 1e6).toFixed(1)} MB`);
  console.log(`  CPU (client, main thread + ws): ${(cpuMs / streamMin).toFixed(1)} ms per stream-minute (${((cpuMs / 1000 / wallSec) * 100).toFixed(1)}% of one core)`);
  console.log(`  capture->send latency: p50 ${q(0.5).toFixed(2)} ms  p99 ${q(0.99).toFixed(2)} ms  max ${q(1).toFixed(2)} ms  (target p99 <= 40 ms)`);
  console.log(`  event loop delay: p99 ${(loop.percentile(99) / 1e6).toFixed(2)} ms  max ${(loop.max / 1e6).toFixed(2)} ms`);
  // Latency on a shared box is mostly other processes: say how busy it was.
  console.log(`  host: ${cpus().length} CPUs, load average ${loadavg()[0]!.toFixed(2)} at the end (the emulator process included)`);
  process.exitCode = q(0.99) <= 40 ? 0 : 1;
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
