/**
 * bench:participants - N participants (1, 4, 10) in one meeting fed by a real browser page
 * (Debian's chromium, headless; senders in another page playing speech over WebRTC), into
 * earshot's participants meeting (one audio worker for all of them). Per N it prints:
 * - earshot's CPU (this process: receiver, audio worker, recorders) per participant-minute;
 * - the page's capture CPU: the browser's CPU with the capture script injected, minus the same
 *   meeting without it (all chromium processes, from /proc);
 * - latency from page capture to the frame reaching earshot's sinks: drain time minus the capture
 *   time of the frame's last sample, p50/p99;
 * - latency from page capture to the partner send: each participant streams to a Deepgram
 *   partner of its own (`participantTranscripts: 'each'`; the emulator runs in a child process,
 *   its CPU not counted as earshot's), and the partner stream's capture -> ws.send latency is
 *   taken from the page capture of the last sample of each chunk it sends (100 ms chunks);
 *   p50/p99 over first sends (no reconnection happens);
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
import { parsePartnerSpecs } from '../src/partners';
import { ParticipantPartners } from '../src/participants/partners';
import type { Frame } from '../src/realtime/frame';
import type { FrameSink } from '../src/sinks/sink';
import { MeetingEvents } from '../src/run/events';
import { fmt, quantile, table } from './lib';
import { startChildEmulator, stopChild } from './partners-child';
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

async function run(browser: Browser, served: Awaited<ReturnType<typeof serveMeeting>>, partnerUrl: string, n: number, capture: boolean) {
  const log = pino({ level: 'silent' });
  const latencies: number[] = [];
  const sendLatencies: number[] = [];
  let originMs = 0;
  let originNs = 0;
  const latencySink = { name: 'latency', write: (f: Frame) => latencies.push(performance.timeOrigin + performance.now() - (originMs + (f.seq + 1) * 20)), close: async () => {} };
  process.env.BENCH_PARTNER_KEY = 'bench-participants-key';
  const partners = new ParticipantPartners({
    specs: parsePartnerSpecs({ partner: ['deepgram'], 'partner-url': [partnerUrl], 'partner-key-env': ['BENCH_PARTNER_KEY'] }),
    logger: log,
    onEvent: () => {},
    onSend: (ms) => sendLatencies.push(ms),
  });
  // A participant frame's captureNs is when the worker cut it; the partner is handed the instant its
  // last sample was captured on the page (the page clock mapped to ours: the timeline), so its
  // capture -> send latency is the page's capture -> the partner send.
  const fromPage = (sink: FrameSink): FrameSink => ({
    name: sink.name,
    batchMs: sink.batchMs,
    write: (f) => sink.write({ ...f, captureNs: originNs + (f.seq + 1) * 20e6 }),
    close: () => sink.close(),
  });
  const meeting = await PageMeeting.start({
    host: '127.0.0.1', port: 0, log, events: new MeetingEvents(log), sinks: [],
    participantSinks: (name) => [latencySink, ...partners.participantSinks(name).map(fromPage)],
    bitrate: 32000, conceal: 'fade', maxJitterMs: 500, silentAfterMs: 10_000, sched: {}, strict: false,
  });
  originMs = meeting.originMs;
  originNs = meeting.originNs;
  const m = await TestMeeting.open(browser, served, capture ? meeting.captureScript() : '/* no capture */');
  const voices = ['alice', 'bob', 'carol'];
  for (let i = 0; i < n; i++) await m.join(`p${i + 1}`, voices[i % 3]!);
  await new Promise((r) => setTimeout(r, 2000));
  latencies.length = 0;
  sendLatencies.length = 0;
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
  const sent = partners.statuses();
  latencies.sort((a, b) => a - b);
  sendLatencies.sort((a, b) => a - b);
  const partnerNote = `${sent.length} partners, ${sent.filter((p) => p.outcome.delivered).length} delivered, ${sent.reduce((a, p) => a + p.reconnects, 0)} reconnects`;
  return { sendLatencies, partnerNote, earshotSec: (cpu.user + cpu.system) / 1e6, workerSec, browserSec, latencies, rss, dropouts, concealedSec, steps };
}

async function main(): Promise<void> {
  const voices = makeVoices(tempDir('earshot-bench-participants-'));
  const served = await serveMeeting(voices);
  const browser = await launchChromium();
  const emulator = await startChildEmulator('deepgram');
  const notes: string[] = [];
  const rows: Array<Record<string, string | number>> = [];
  try {
    for (const n of (process.env.BENCH_PARTICIPANTS ?? '1,4,10').split(',').map(Number)) {
      const base = await run(browser, served, emulator.url, n, false);
      const cap = await run(browser, served, emulator.url, n, true);
      notes.push(`${n} participants: ${cap.partnerNote}, ${cap.sendLatencies.length} sends measured`);
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
        'capture->partner send p50 ms': fmt(quantile(cap.sendLatencies, 0.5), 1),
        'capture->partner send p99 ms': fmt(quantile(cap.sendLatencies, 0.99), 1),
        'earshot peak RSS MB': fmt(cap.rss / 2 ** 20, 0),
        'dropouts / concealed s': `${cap.dropouts} / ${fmt(cap.concealedSec, 2)}`,
        'clock steps': cap.steps,
      });
      process.stderr.write(`${n} participants done\n`);
    }
  } finally {
    await browser.close();
    await stopChild(emulator);
    served.server.close();
  }
  process.stdout.write(table(rows) + '\n');
  process.stdout.write(`partners (a Deepgram emulator per participant, linear16 16 kHz, 100 ms chunks): ${notes.join('; ')}\n`);
  // A shared machine: say how loaded it was (other work than ours makes every figure worse).
  process.stdout.write(`load average at the end (1/5/15 min): ${loadavg().map((l) => l.toFixed(2)).join(' / ')} on ${readFileSync('/proc/cpuinfo', 'utf8').split('\nprocessor').length} CPUs\n`);
}

void main();
