/**
 * Chaos: for each provider, one meeting streams to its emulator process,
 * which is killed (SIGKILL) and restarted 20 times at random moments.
 * Prints, per provider, the partner_gap milliseconds (0: nothing lost), the
 * speech segments transcribed exactly once within 20 ms on the meeting
 * timeline, the audio confirmed against the meeting duration (providers that
 * finalise silence too), and what the replay sent twice.
 *
 *   npm run bench:partners-chaos -- [--protocol all|NAME] [--kills 20] [--duration 90s] [--speed 2] [--seed N]
 *
 * Real-time-only providers (AssemblyAI) run at 1x whatever --speed says.
 */
import { createServer } from 'node:net';
import { parseArgs } from 'node:util';
import pino from 'pino';
import type { MeetingEvent } from '../src/events';
import { adapterFor, createPartnerSinks, parsePartnerSpecs } from '../src/partners';
import { PROVIDERS } from '../src/partners/registry';
import { parseDuration } from '../src/util/duration';
import { drive, meeting, readLines, truthFor, unmatched } from '../test/partners-fixture';
import { startChildEmulator, stopChild, type ChildEmulator } from './partners-child';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mulberry32 } from '../src/util/prng';

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function union(spans: [number, number][]): number {
  spans.sort((a, b) => a[0] - b[0]);
  let total = 0;
  let cur: [number, number] | undefined;
  for (const [s, e] of spans) {
    if (!cur || s > cur[1]) {
      if (cur) total += cur[1] - cur[0];
      cur = [s, e];
    } else cur[1] = Math.max(cur[1], e);
  }
  return total + (cur ? cur[1] - cur[0] : 0);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      protocol: { type: 'string', default: 'all' },
      kills: { type: 'string', default: '20' },
      duration: { type: 'string', default: '90s' },
      speed: { type: 'string', default: '2' },
      seed: { type: 'string', default: String(Date.now() % 100000) },
    },
  });
  const names = values.protocol === 'all' ? PROVIDERS.map((p) => p.name) : values.protocol!.split(',');
  let failed = 0;
  for (const name of names) {
    const ok = await chaos(name, Number(values.kills), parseDuration(values.duration!) / 1000, Number(values.speed), Number(values.seed));
    if (!ok) failed++;
  }
  console.log(`partners chaos: ${names.length - failed}/${names.length} providers lost nothing`);
  process.exitCode = failed ? 1 : 0;
}

async function chaos(provider: string, kills: number, seconds: number, requestedSpeed: number, seed: number): Promise<boolean> {
  const random = mulberry32(seed);
  const port = await freePort();
  let emu: ChildEmulator = await startChildEmulator(provider, port);
  process.env.CHAOS_PARTNER_KEY = 'chaos-key-not-secret';
  const specs = parsePartnerSpecs({ partner: [provider], 'partner-url': [emu.url], 'partner-key-env': ['CHAOS_PARTNER_KEY'] });
  const speed = adapterFor(specs[0]!, 1).realtimeOnly ? 1 : requestedSpeed;
  const dir = mkdtempSync(join(tmpdir(), 'earshot-chaos-'));
  const events: MeetingEvent[] = [];
  const finals: [number, number][] = [];
  const [sink] = createPartnerSinks(specs, {
    recordDir: dir,
    channels: 1,
    logger: pino({ level: 'error' }),
    onEvent: (e) => events.push(e),
    onFinal: (s, e) => void finals.push([s, e]),
  });
  const pcm = meeting(seconds);
  const wallMs = (seconds * 1000) / speed;
  // Kill moments at random over the run (each after at least 300 ms of uptime,
  // so the partner is up between kills); each outage lasts 50-800 ms plus the
  // emulator's start-up.
  const moments = Array.from({ length: kills }, () => random() * wallMs * 0.9).sort((a, b) => a - b);
  const chaos = (async () => {
    const t0 = performance.now();
    for (const at of moments) {
      const wait = Math.max(300, at - (performance.now() - t0));
      await new Promise((r) => setTimeout(r, wait));
      await stopChild(emu, 'SIGKILL');
      await new Promise((r) => setTimeout(r, 50 + random() * 750));
      emu = await startChildEmulator(provider, port);
    }
  })();
  await drive([sink!], pcm, { speed });
  await chaos;
  await sink!.close();
  await stopChild(emu);
  const st = sink!.status();
  const spans = finals.map(([s, e]) => [s, e] as [number, number]);
  const delivered = union(spans.slice());
  const summed = spans.reduce((a, [s, e]) => a + (e - s), 0);
  const lines = readLines(join(dir, 'transcripts.jsonl'));
  const truth = truthFor(provider, pcm);
  const missing = unmatched(truth, lines);
  const gaps = events.filter((e) => e.kind === 'partner_gap');
  console.log(`partners chaos [${provider}]: ${kills} SIGKILL+restart of the partner over a ${seconds} s meeting at ${speed}x (seed ${seed})`);
  console.log(`  lost: ${st.gapsMs} ms in ${gaps.length} partner_gap events; reconnects ${st.reconnects}, ${st.sessionIds.length} partner sessions, outcome ${JSON.stringify(st.outcome)}`);
  console.log(`  speech segments transcribed once within 20 ms: ${truth.length - missing.length}/${truth.length}`);
  console.log(`  audio confirmed by finals: ${delivered.toFixed(2)} of ${seconds.toFixed(2)} s (${provider === 'deepgram' || provider === 'speechmatics' ? 'silence finalised too' : 'speech turns only; the rest confirmed by the end-of-stream answer'})`);
  console.log(`  replayed twice: ${(summed - delivered).toFixed(2)} s in finals, ${(st.audioSecSent - seconds).toFixed(2)} s re-sent, de-duplicated on the timeline`);
  if (missing.length) console.log(`  missing: ${missing.slice(0, 5).join('; ')}`);
  return st.gapsMs === 0 && missing.length === 0 && st.outcome.delivered;
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
