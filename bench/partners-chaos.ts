/**
 * Chaos: one meeting streams to a Deepgram emulator process that is killed
 * (SIGKILL) and restarted 20 times at random moments. Prints the audio
 * seconds the partner confirmed on the meeting timeline against the meeting
 * duration (nothing lost), what the replay sent twice, and the gaps.
 *
 *   npm run bench:partners-chaos -- [--kills 20] [--duration 90s] [--speed 2] [--seed N]
 */
import { createServer } from 'node:net';
import { parseArgs } from 'node:util';
import pino from 'pino';
import type { MeetingEvent } from '../src/events';
import { createPartnerSinks, parsePartnerSpecs } from '../src/partners';
import { segmentAll } from '../src/partners/emulator/segmenter';
import { parseDuration } from '../src/util/duration';
import { drive, meeting, readLines, unmatched } from '../test/partners-fixture';
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
      kills: { type: 'string', default: '20' },
      duration: { type: 'string', default: '90s' },
      speed: { type: 'string', default: '2' },
      seed: { type: 'string', default: String(Date.now() % 100000) },
    },
  });
  const kills = Number(values.kills);
  const seconds = parseDuration(values.duration!) / 1000;
  const speed = Number(values.speed);
  const seed = Number(values.seed);
  const random = mulberry32(seed);
  const port = await freePort();
  let emu: ChildEmulator = await startChildEmulator('deepgram', port);
  process.env.CHAOS_PARTNER_KEY = 'chaos-key-not-secret';
  const specs = parsePartnerSpecs({ partner: ['deepgram'], 'partner-url': [emu.url], 'partner-key-env': ['CHAOS_PARTNER_KEY'] });
  const dir = mkdtempSync(join(tmpdir(), 'earshot-chaos-'));
  const events: MeetingEvent[] = [];
  const finals: [number, number][] = [];
  const [sink] = createPartnerSinks(specs, {
    recordDir: dir,
    channels: 1,
    logger: pino({ level: 'warn' }),
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
      emu = await startChildEmulator('deepgram', port);
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
  const missing = unmatched(segmentAll(pcm, 48_000), lines);
  const truth = segmentAll(pcm, 48_000).length;
  console.log(`partners chaos: ${kills} SIGKILL+restart of the partner over a ${seconds} s meeting at ${speed}x (seed ${seed})`);
  console.log(`  meeting duration:            ${seconds.toFixed(2)} s`);
  console.log(`  audio delivered (confirmed): ${delivered.toFixed(2)} s on the timeline (${st.sessionIds.length} partner sessions)`);
  console.log(`  replayed twice (overlap):    ${(summed - delivered).toFixed(2)} s in finals, ${(st.audioSecSent - seconds).toFixed(2)} s re-sent, de-duplicated on the timeline`);
  console.log(`  gaps: ${st.gapsMs} ms in ${events.length} partner_gap events; reconnects ${st.reconnects}`);
  console.log(`  speech segments transcribed once within 20 ms: ${truth - missing.length}/${truth}`);
  if (missing.length) console.log(`  missing: ${missing.slice(0, 5).join('; ')}`);
  process.exitCode = Math.abs(delivered - seconds) < 0.05 && st.gapsMs === 0 && missing.length === 0 ? 0 : 1;
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
