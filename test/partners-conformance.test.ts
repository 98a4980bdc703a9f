/**
 * One conformance suite, run against every provider in the registry through
 * its emulator: the happy path (protocol-correct stream, close handshake,
 * transcripts on the meeting timeline within 20 ms), KeepAlive through
 * silence, a drop mid-meeting with replay, a rejected key, a rate limit, a
 * partner that stops reading, a malformed message, and no key written
 * anywhere. `PARTNERS=deepgram,openai` runs a subset.
 *
 * Each scenario runs every provider at once (a failure names the provider),
 * so the suite takes as long as its slowest provider: real-time-only ones
 * (AssemblyAI) are driven at real time, the others at 4x.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import type { MeetingEvent } from '../src/events';
import { adapterFor, createPartnerSinks, parsePartnerSpecs, type PartnerSink, type TranscriptSegment } from '../src/partners';
import { startEmulator, type Emulator } from '../src/partners/emulator';
import type { FaultPlan } from '../src/partners/emulator/faults';
import { PROVIDERS } from '../src/partners/registry';
import type { Tuning } from '../src/partners/core/policy';
import { drive, meeting, quietLogger, readLines, truthFor, unmatched } from './partners-fixture';
import { tempDir } from './tmp';

const only = process.env.PARTNERS?.split(',');
const providers = PROVIDERS.filter((p) => !only || only.includes(p.name));
const KEY = 'conf-KEY-3f9a1c77e0';
process.env.EARSHOT_CONF_KEY = KEY;
process.env.EARSHOT_CONF_WRONG = 'conf-WRONG-b1d2e3f4a5';
const FAST: Partial<Tuning> = { backoffBaseMs: 30, slowRetryMs: 300, closeTimeoutMs: 4000, pingMs: 300, stallMs: 1500 };

interface Run {
  emu: Emulator;
  sink: PartnerSink;
  dir: string;
  events: MeetingEvent[];
  segments: TranscriptSegment[];
  states: string[];
  logs: string[];
  pcm: Int16Array;
  /** When (performance.now) the emulator logged each fault firing, and each event arrived. */
  faultAt: number[];
  eventAt: number[];
}

const truth = truthFor;

async function run(
  provider: string,
  o: { seconds: number; faults?: FaultPlan; emuKey?: string; keyEnv?: string; tuning?: Partial<Tuning>; silenceAt?: [number, number]; emuOpts?: { inactivityMs?: number } },
): Promise<Run> {
  const faultAt: number[] = [];
  const eventAt: number[] = [];
  const emu = await startEmulator({
    protocol: provider,
    key: o.emuKey ?? KEY,
    faults: o.faults,
    ...o.emuOpts,
    onLog: (l) => void (l.startsWith('fault:') && faultAt.push(performance.now())),
  });
  const dir = tempDir(`earshot-conf-${provider}-`);
  const events: MeetingEvent[] = [];
  const segments: TranscriptSegment[] = [];
  const states: string[] = [];
  const logs: string[] = [];
  const specs = parsePartnerSpecs({ partner: [provider], 'partner-url': [emu.url], 'partner-key-env': [o.keyEnv ?? 'EARSHOT_CONF_KEY'] });
  const [sink] = createPartnerSinks(specs, {
    recordDir: dir,
    channels: 1,
    logger: quietLogger(logs),
    onEvent: (e) => void (events.push(e), eventAt.push(performance.now())),
    onTranscript: (t) => segments.push(t),
    onState: (c) => states.push(c.to),
    tuning: { ...FAST, ...o.tuning },
  });
  const pcm = meeting(o.seconds);
  const speed = adapterFor(specs[0]!, 1).realtimeOnly ? 1 : 4;
  if (o.silenceAt) {
    const [at, sec] = o.silenceAt;
    await drive([sink!], pcm, { to: at * 50, speed });
    await new Promise((r) => setTimeout(r, sec * 1000));
    await drive([sink!], pcm, { from: at * 50, speed });
  } else await drive([sink!], pcm, { speed });
  await sink!.close();
  await emu.close();
  return { emu, sink: sink!, dir, events, segments, states, logs, pcm, faultAt, eventAt };
}

const lines = (r: Run) => readLines(join(r.dir, 'transcripts.jsonl'));
const kinds = (r: Run) => r.events.map((e) => `${e.kind}${e.detail?.problem ? `:${e.detail.problem}` : ''}`);

const scenarios: { title: string; applies?: (name: string) => boolean; run: (name: string) => Promise<void> }[] = [];
const scenario = (title: string, run: (name: string) => Promise<void>, applies?: (name: string) => boolean) => void scenarios.push({ title, run, applies });

{
  scenario(`happy path - protocol-correct stream, close handshake, transcripts on the timeline within 20 ms`, async (name) => {
    const r = await run(name, { seconds: 5 });
    const [s] = r.emu.sessions;
    assert.is(r.emu.sessions.length, 1);
    assert.equal(s!.violations, [], 'no protocol violation');
    assert.is(s!.emptyFrames, 0, 'never an empty binary frame');
    assert.ok(Math.abs(s!.audioSec - 5) < 0.06, `all audio decoded by the partner (${s!.audioSec} s)`);
    // OpenAI's protocol has no closing handshake: the client closes once the last turn is transcribed.
    if (name !== 'openai') assert.is(s!.closedBy, 'server', 'the partner closed after answering our end-of-stream message');
    const st = r.sink.status();
    assert.equal(st.sessionIds, [s!.id]);
    assert.is(st.state, 'done');
    assert.equal(st.outcome, { delivered: true });
    assert.is(st.reconnects, 0);
    assert.is(st.gapsMs, 0);
    assert.equal(r.events, []);
    assert.equal(r.states.slice(0, 2), ['open', 'closing']);
    assert.is(r.states[r.states.length - 1], 'done');
    const ls = lines(r);
    assert.ok(ls.length >= 2, `${ls.length} lines`);
    assert.ok(ls.every((l) => l.sessionId === s!.id && l.partner === name && l.provider === name));
    assert.equal(r.segments, ls, 'onTranscript got every line, as written to transcripts.jsonl');
    assert.equal(unmatched(truth(name, r.pcm), ls), []);
  });

  const keepsAlive = (name: string) =>
    !!PROVIDERS.find((p) => p.name === name)!.client({ name, provider: name, url: 'ws://x/', params: {}, bufferMs: 1000, interim: false, noResultsMs: 0 }, { channels: 1 }).keepAliveMs;
  {
    scenario(`KeepAlive holds the socket through silence (no inactivity close)`, async (name) => {
      const r = await run(name, { seconds: 4, silenceAt: [2, 2.5], emuOpts: { inactivityMs: 1200 }, tuning: { keepAliveMs: 300 } });
      assert.is(r.emu.sessions.length, 1, 'one session: never closed for inactivity');
      assert.ok(r.emu.sessions[0]!.keepAlives >= 3, `KeepAlives: ${r.emu.sessions[0]!.keepAlives}`);
      assert.is(r.sink.status().reconnects, 0);
      assert.equal(unmatched(truth(name, r.pcm), lines(r)), []);
    }, keepsAlive);
  }

  scenario(`drop mid-meeting - reconnect, replay, nothing lost, times mapped within 20 ms`, async (name) => {
    const r = await run(name, { seconds: 5.5, faults: { dropAfterSec: 2.5 } });
    assert.is(r.emu.sessions.length, 2);
    assert.is(r.emu.sessions[0]!.closeCode, 1006);
    for (const s of r.emu.sessions) assert.equal(s.violations, []);
    const st = r.sink.status();
    assert.is(st.reconnects, 1);
    assert.is(st.gapsMs, 0);
    assert.equal(r.events, [], 'nothing lost: no partner_gap');
    const ls = lines(r);
    assert.equal(unmatched(truth(name, r.pcm), ls), []);
    for (let i = 1; i < ls.length; i++) assert.ok(ls[i]!.start >= ls[i - 1]!.end, `no overlapping duplicates: ${ls.map((l) => `${l.start}-${l.end}`).join(' ')}`);
  });

  scenario(`rejected key - one clear error naming the flag, no retry storm, the loss accounted`, async (name) => {
    const r = await run(name, { seconds: 2, keyEnv: 'EARSHOT_CONF_WRONG' });
    assert.is(r.emu.rejected.length, 1, 'one attempt, no retries');
    const st = r.sink.status();
    assert.is(st.outcome.problem, 'key_rejected', JSON.stringify(st.outcome));
    assert.is(st.outcome.delivered, false);
    assert.match(st.outcome.reason!, /refused the key - check --partner-key-env EARSHOT_CONF_WRONG/);
    assert.is(r.logs.filter((l) => JSON.parse(l).level >= 50).length, 1, 'exactly one error line');
    assert.equal(kinds(r), ['partner_down:key_rejected', 'partner_gap']);
    assert.is(r.events[1]!.t, 0);
    assert.is(r.events[1]!.durationMs, 2000);
    assert.is(r.states[r.states.length - 1], 'failed');
  });

  scenario(`rate limit - retried later, then delivered`, async (name) => {
    const r = await run(name, { seconds: 4, faults: { rateLimit: 1 } });
    assert.is(r.emu.rejected.length, 1);
    const st = r.sink.status();
    assert.is(st.reconnects, 1, 'retried');
    assert.is(st.outcome.delivered, true);
    assert.is(st.gapsMs, 0);
    assert.equal(unmatched(truth(name, r.pcm), lines(r)), []);
  });

  scenario(`a partner that stops reading is detected within seconds and the audio replayed`, async (name) => {
    const r = await run(name, { seconds: 5, faults: { stall: { atSec: 1.5 } } });
    assert.ok(r.emu.sessions.length >= 2, 'reconnected');
    assert.ok(kinds(r).includes('partner_down:never_read'), kinds(r).join());
    const i = r.events.findIndex((e) => e.kind === 'partner_down');
    assert.match(String(r.events[i]!.detail?.reason), /stopped reading: no answer to a ping for \d+ s/);
    const latency = (r.eventAt[i]! - r.faultAt[0]!) / 1000;
    assert.ok(latency < 3, `detected ${latency.toFixed(2)} s after the partner stopped reading (stallMs 1.5 s)`);
    const st = r.sink.status();
    assert.is(st.gapsMs, 0);
    assert.equal(unmatched(truth(name, r.pcm), lines(r)), []);
  });

  scenario(`a malformed message is skipped, counted and reported once; the meeting goes on`, async (name) => {
    const r = await run(name, { seconds: 4, faults: { malformedAtSec: 1 } });
    const st = r.sink.status();
    assert.is(st.badMessages, 1);
    assert.equal(kinds(r), ['partner_bad_message']);
    assert.match(String(r.events[0]!.detail?.error), /expected|not JSON/);
    assert.is(st.outcome.delivered, true);
    assert.equal(unmatched(truth(name, r.pcm), lines(r)), []);
  });

  scenario(`the key is never written anywhere (trace logs, transcripts, events, status, errors)`, async (name) => {
    const dir = tempDir(`earshot-conf-secrets-${name}-`);
    const emu = await startEmulator({ protocol: name, key: KEY });
    const logPath = join(dir, 'earshot.log');
    const logger = pino({ level: 'trace' }, pino.destination({ dest: logPath, sync: true }));
    const specs = parsePartnerSpecs({ partner: [name, name], 'partner-url': [emu.url, emu.url], 'partner-key-env': ['EARSHOT_CONF_KEY', 'EARSHOT_CONF_WRONG'] });
    const events: string[] = [];
    const sinks = createPartnerSinks(specs, { recordDir: dir, channels: 1, logger, onEvent: (e) => events.push(JSON.stringify(e)), onState: (c) => events.push(JSON.stringify(c)), tuning: FAST });
    const pcm = meeting(3);
    await drive(sinks, pcm, { speed: adapterFor(specs[0]!, 1).realtimeOnly ? 1 : 4 });
    emu.dropAll(); // reconnect logging exercised too
    await new Promise((r) => setTimeout(r, 200));
    await Promise.all(sinks.map((s) => s.close()));
    await emu.close();
    writeFileSync(join(dir, 'events.jsonl'), events.join('\n'));
    writeFileSync(join(dir, 'summary.json'), JSON.stringify({ partners: sinks.map((s) => s.status()), errors: sinks.map((s) => s.error()) }));
    assert.ok(readFileSync(logPath, 'utf8').includes('chunk sent'), 'trace lines per chunk');
    for (const f of readdirSync(dir)) {
      const text = readFileSync(join(dir, f), 'utf8');
      for (const k of [KEY, process.env.EARSHOT_CONF_WRONG!]) assert.not.ok(text.includes(k), `${f} contains a key`);
    }
  });
}

for (const sc of scenarios) {
  const names = providers.map((p) => p.name).filter((n) => !sc.applies || sc.applies(n));
  if (names.length === 0) continue;
  test(`${sc.title} [${names.join(', ')}]`, async () => {
    await Promise.all(
      names.map((n) =>
        sc.run(n).catch((err: Error) => {
          err.message = `${n}: ${err.message}`;
          throw err;
        }),
      ),
    );
  });
}

test.run();
