/**
 * bench:participants - N participants (1, 4, 10) in one meeting fed by a real browser page
 * (Debian's chromium, headless; senders in another page playing speech over WebRTC), into
 * earshot's participants meeting (one audio worker for all of them). Per N it prints:
 * - earshot's CPU (this process: receiver, audio worker, recorders) per participant-minute;
 * - the page's capture CPU: the browser's CPU with the capture script injected, minus the same
 *   meeting without it (all chromium processes, from /proc);
 * - latency from page capture to the frame reaching earshot's sinks (where a partner stream
 *   sends it): drain time minus the capture time of the frame's last sample, p50/p99;
 * - earshot's peak RSS;
 * - the one audio worker's CPU (% of one core) - the figure that settles one thread for all
 *   participants against a thread each: how much of its 20 ms period N participants take.
 * Run it under the machine lock (`flock /work/locks/cpu npm run bench:participants`).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import pino from 'pino';
import type { Browser } from 'playwright-core';
import { PageMeeting } from '../src/participants/meeting';
import type { Frame } from '../src/realtime/frame';
import { MeetingEvents } from '../src/run/events';
import { fmt, quantile, table } from './lib';
import { launchChromium, makeVoices, serveMeeting, TestMeeting } from '../test/fixtures/meeting';
import { tempDir } from '../test/tmp';

const MEASURE_MS = 15_000;
const TICK = 100; // USER_HZ: /proc stat times are in 1/100 s

/** CPU seconds of one thread of this process. */
function threadCpuSec(tid: number): number {
  const f = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) / TICK;
}

/** CPU seconds of every chromium process so far. */
function browserCpuSec(): number {
  let ticks = 0;
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      if (!readFileSync(`/proc/${pid}/comm`, 'utf8').startsWith('chrom')) continue;
      const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      ticks += Number(f[11]) + Number(f[12]); // utime, stime
    } catch {
      // gone meanwhile
    }
  }
  return ticks / TICK;
}

async function run(browser: Browser, served: Awaited<ReturnType<typeof serveMeeting>>, n: number, capture: boolean) {
  const log = pino({ level: 'silent' });
  const latencies: number[] = [];
  let originMs = 0;
  const latencySink = { name: 'latency', write: (f: Frame) => latencies.push(performance.timeOrigin + performance.now() - (originMs + (f.seq + 1) * 20)), close: async () => {} };
  const meeting = await PageMeeting.start({
    host: '127.0.0.1', port: 0, log, events: new MeetingEvents(log), sinks: [],
    participantSinks: () => [latencySink],
    bitrate: 32000, conceal: 'fade', maxJitterMs: 500, silentAfterMs: 10_000, sched: {}, strict: false,
  });
  originMs = meeting.originMs;
  const m = await TestMeeting.open(browser, served, capture ? meeting.captureScript() : '/* no capture */');
  const voices = ['alice', 'bob', 'carol'];
  for (let i = 0; i < n; i++) await m.join(`p${i + 1}`, voices[i % 3]!);
  await new Promise((r) => setTimeout(r, 2000));
  latencies.length = 0;
  const cpu0 = process.cpuUsage();
  const browser0 = browserCpuSec();
  const tid = meeting.audioThread!.tid;
  const worker0 = threadCpuSec(tid);
  let rss = 0;
  const sampler = setInterval(() => (rss = Math.max(rss, process.memoryUsage().rss)), 200);
  await new Promise((r) => setTimeout(r, MEASURE_MS));
  clearInterval(sampler);
  const cpu = process.cpuUsage(cpu0);
  const browserSec = browserCpuSec() - browser0;
  const workerSec = threadCpuSec(tid) - worker0;
  const parts = meeting.participants();
  const dropouts = parts.reduce((n, p) => n + p.dropouts, 0);
  const concealedSec = parts.reduce((n, p) => n + p.concealedSamples, 0) / 48000;
  const steps = meeting.page.clocks().reduce((n, c) => n + c.steps, 0);
  await m.page.close();
  await m.senders.close();
  await meeting.stop();
  latencies.sort((a, b) => a - b);
  return { earshotSec: (cpu.user + cpu.system) / 1e6, workerSec, browserSec, latencies, rss, dropouts, concealedSec, steps };
}

async function main(): Promise<void> {
  const voices = makeVoices(tempDir('earshot-bench-participants-'));
  const served = await serveMeeting(voices);
  const browser = await launchChromium();
  const rows: Array<Record<string, string | number>> = [];
  try {
    for (const n of (process.env.BENCH_PARTICIPANTS ?? '1,4,10').split(',').map(Number)) {
      const base = await run(browser, served, n, false);
      const cap = await run(browser, served, n, true);
      const minutes = MEASURE_MS / 60_000;
      rows.push({
        participants: n,
        'earshot CPU s / participant-min': fmt(cap.earshotSec / (n * minutes)),
        'earshot CPU %': fmt((cap.earshotSec / (MEASURE_MS / 1000)) * 100, 1),
        'audio worker CPU %': fmt((cap.workerSec / (MEASURE_MS / 1000)) * 100, 1),
        'page capture CPU %': fmt(((cap.browserSec - base.browserSec) / (MEASURE_MS / 1000)) * 100, 1),
        'browser CPU % (no capture)': fmt((base.browserSec / (MEASURE_MS / 1000)) * 100, 1),
        'capture->sink p50 ms': fmt(quantile(cap.latencies, 0.5), 1),
        'capture->sink p99 ms': fmt(quantile(cap.latencies, 0.99), 1),
        'earshot peak RSS MB': fmt(cap.rss / 2 ** 20, 0),
        'dropouts / concealed s': `${cap.dropouts} / ${fmt(cap.concealedSec, 2)}`,
        'clock steps': cap.steps,
      });
      process.stderr.write(`${n} participants done\n`);
    }
  } finally {
    await browser.close();
    served.server.close();
  }
  process.stdout.write(table(rows) + '\n');
  // A shared machine: say how loaded it was (other work than ours makes every figure worse).
  process.stdout.write(`load average at the end (1/5/15 min): ${loadavg().map((l) => l.toFixed(2)).join(' / ')} on ${readFileSync('/proc/cpuinfo', 'utf8').split('\nprocessor').length} CPUs\n`);
}

void main();
