/**
 * The metrics server and heartbeat over a RunContext built from real parts:
 * real RtStats and FrameRing in shared memory, and a real worker thread that
 * renices itself, as the audio worker does.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { LoopDelay } from '../src/util/loop-delay';
import { Worker } from 'node:worker_threads';
import { spawnSync } from 'node:child_process';
import pino from 'pino';
import { ROOT } from '../src/paths';
import { RtStats, Stat } from '../src/realtime/stats';
import { FrameRing } from '../src/realtime/ring';
import type { PartnerStatus, RunContext } from '../src/run/context';
import { parseListenAddress, startMetrics } from '../src/ops/metrics';
import { startHeartbeat } from '../src/ops/heartbeat';
import { startOps } from '../src/ops/services';
import { UserError } from '../src/errors';
import { resolveOptions } from '../src/run/resolve';

const NATIVE = join(ROOT, 'native', 'build', 'Release', 'earshot_native.node');

/** A worker that raises its own nice (no privilege needed) and sleeps until told to exit. */
async function startNicedWorker(nice: number): Promise<{ tid: number; stop(): Promise<void> }> {
  const gate = new Int32Array(new SharedArrayBuffer(4));
  const w = new Worker(
    `const { parentPort, workerData } = require('node:worker_threads');
     const n = require(workerData.native);
     n.setNice(workerData.nice);
     parentPort.postMessage(n.gettid());
     Atomics.wait(workerData.gate, 0, 0);`,
    { eval: true, workerData: { native: NATIVE, nice, gate } },
  );
  const tid = await new Promise<number>((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
  });
  return {
    tid,
    async stop() {
      Atomics.store(gate, 0, 1);
      Atomics.notify(gate, 0);
      await new Promise((r) => w.once('exit', r));
    },
  };
}

interface FakeRun {
  ctx: RunContext;
  stats: RtStats;
  ring: FrameRing;
  set(h: { healthy?: boolean; ready?: boolean; problems?: string[] }): void;
  partners: PartnerStatus[];
  log: { sink: string; written: number; dropped: number };
}

function fakeRun(roles: Map<number, string>): FakeRun {
  const stats = RtStats.create();
  const ring = FrameRing.create({ slots: 16, channels: 1 });
  const eventLoopDelay = new LoopDelay(10);
  eventLoopDelay.enable();
  let healthy = true;
  let ready = false;
  let problems: string[] = [];
  const partners: PartnerStatus[] = [
    {
      name: 'deepgram',
      provider: 'deepgram',
      codec: { name: 'linear16', sampleRate: 16000, channels: 1 },
      state: 'open',
      connected: true,
      backlogSec: 1.5,
      audioSecSent: 12,
      bytesSent: 384000,
      reconnects: 2,
      sessionIds: ['a'],
      gapsMs: 40,
      sendLatencyMs: { p50: 1.2, p99: 3.4, max: 9.9 },
      badMessages: 0,
      outcome: { delivered: true },
    },
  ];
  const log = { sink: 'file:/tmp/x.log', written: 10, dropped: 3 };
  const ctx: RunContext = {
    meetingId: 'm-test',
    startedAt: Date.now(),
    stats,
    ringSlots: ring.slots,
    ringFill: () => ring.fill(),
    threadRoles: () => roles,
    partners: () => partners,
    log: () => log,
    eventLoopDelay,
    eventCounts: () => ({ deadline_miss: stats.get(Stat.DeadlineMisses) }),
    ready: () => ready,
    healthy: () => healthy,
    health: () => ({ status: !healthy ? 'stalled' : problems.length ? 'degraded' : 'ok', ready, problems }),
  };
  return {
    ctx,
    stats,
    ring,
    partners,
    log,
    set(h) {
      if (h.healthy !== undefined) healthy = h.healthy;
      if (h.ready !== undefined) ready = h.ready;
      if (h.problems !== undefined) problems = h.problems;
    },
  };
}

/** Prometheus text -> [{name, labels, value}] (enough of the format for our own output). */
function parseProm(text: string) {
  const out: { name: string; labels: Record<string, string>; value: number }[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(m, `malformed metrics line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m![2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ name: m![1]!, labels, value: Number(m![3]) });
  }
  return out;
}

const one = (rows: ReturnType<typeof parseProm>, name: string, labels: Record<string, string> = {}) => {
  const hit = rows.filter((r) => r.name === name && Object.entries(labels).every(([k, v]) => r.labels[k] === v));
  assert.is(hit.length, 1, `expected one ${name} ${JSON.stringify(labels)}, found ${hit.length}`);
  return hit[0]!;
};

test('parseListenAddress: defaults to loopback, accepts host:port, :port and [v6]:port', () => {
  assert.equal(parseListenAddress(':9464'), { host: '127.0.0.1', port: 9464 });
  assert.equal(parseListenAddress('9464'), { host: '127.0.0.1', port: 9464 });
  assert.equal(parseListenAddress('0.0.0.0:80'), { host: '0.0.0.0', port: 80 });
  assert.equal(parseListenAddress('[::1]:0'), { host: '::1', port: 0 });
  assert.throws(() => parseListenAddress('localhost'), (e: Error) => e instanceof UserError && /--metrics "localhost"/.test(e.message));
  assert.throws(() => parseListenAddress(':70000'), (e: Error) => e instanceof UserError);
});

test('/metrics shows the worker thread, the real-time counters, partners and log drops', async () => {
  const worker = await startNicedWorker(7);
  const run = fakeRun(new Map([[worker.tid, 'audio']]));
  const server = await startMetrics(':0', run.ctx);
  try {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    let res = await fetch(`${server.url}/metrics`);
    assert.is(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/plain/);
    let rows = parseProm(await res.text());

    const audio = { tid: String(worker.tid), role: 'audio' };
    assert.is(one(rows, 'earshot_thread_nice', audio).value, 7);
    assert.is(one(rows, 'earshot_thread_policy', audio).labels.policy, 'other');
    // A worker in Atomics.wait sleeps; on a loaded host it may be caught just as it runs (before its
    // first wait, with no voluntary switch yet), so look a few times and read the scrape that saw it asleep.
    let state = one(rows, 'earshot_thread_state', audio).labels.state;
    for (let i = 0; i < 20 && state !== 'S'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      rows = parseProm(await (await fetch(`${server.url}/metrics`)).text());
      state = one(rows, 'earshot_thread_state', audio).labels.state;
    }
    assert.is(state, 'S', 'a worker in Atomics.wait sleeps');
    assert.ok(one(rows, 'earshot_thread_voluntary_context_switches_total', audio).value >= 1);
    assert.is(one(rows, 'earshot_thread_nice', { tid: String(process.pid) }).labels.role, 'main');
    assert.is(one(rows, 'earshot_deadline_misses_total').value, 0);
    assert.is(one(rows, 'earshot_partner_backlog_seconds', { partner: 'deepgram' }).value, 1.5);
    assert.is(one(rows, 'earshot_partner_reconnects_total', { partner: 'deepgram' }).value, 2);
    assert.is(one(rows, 'earshot_log_records_dropped_total').value, 3);
    // Prometheus' own linter has nothing to say about any of it.
    const lint = spawnSync('promtool', ['check', 'metrics'], { input: await (await fetch(`${server.url}/metrics`)).text(), encoding: 'utf8' });
    assert.equal([lint.status, lint.stdout + lint.stderr], [0, ''], 'promtool check metrics');
    // The standard process metrics under their standard names; our build and meeting as info gauges.
    assert.ok(one(rows, 'process_open_fds').value > 3);
    assert.ok(one(rows, 'process_resident_memory_bytes').value > 10 * 2 ** 20);
    assert.ok(one(rows, 'process_cpu_seconds_total').value > 0);
    assert.is(one(rows, 'earshot_build_info').labels.nodejs, process.versions.node);
    assert.is(one(rows, 'earshot_meeting_info').labels.meeting_id, 'm-test');
    assert.ok(one(rows, 'earshot_event_loop_delay_seconds', { quantile: '0.99' }).value >= 0);
    assert.ok(one(rows, 'earshot_event_loop_delay_seconds_count').value >= 0);

    // The worker's counters move in shared memory; the next scrape sees them.
    for (let i = 0; i < 50; i++) run.stats.recordLateness(300);
    run.stats.recordLateness(25_000);
    run.stats.recordLateness(150_000);
    run.stats.v[Stat.DeadlineMisses] = 2;
    run.stats.v[Stat.ConcealedSamples] = 1920;
    run.stats.v[Stat.ConcealmentEvents] = 1;
    run.stats.v[Stat.TotalSamplesDuration] = 1.04;
    run.stats.v[Stat.EgressOverruns] = 4;
    const slot = run.ring.claim();
    run.ring.publish(slot, 0, 0, 0, 0, 0);
    run.log.dropped = 9;
    run.partners[0]!.reconnects = 3;

    rows = parseProm(await (await fetch(`${server.url}/metrics`)).text());
    assert.is(one(rows, 'earshot_deadline_misses_total').value, 2);
    assert.is(one(rows, 'earshot_concealed_samples_total').value, 1920);
    assert.is(one(rows, 'earshot_concealment_events_total').value, 1);
    assert.is(one(rows, 'earshot_samples_duration_seconds_total').value, 1.04);
    assert.is(one(rows, 'earshot_egress_overruns_total').value, 4);
    assert.is(one(rows, 'earshot_ring_fill_frames').value, 1);
    assert.is(one(rows, 'earshot_ring_slots').value, 16);
    assert.is(one(rows, 'earshot_log_records_dropped_total').value, 9);
    assert.is(one(rows, 'earshot_partner_reconnects_total').value, 3);
    assert.is(one(rows, 'earshot_events_total', { kind: 'deadline_miss' }).value, 2);
    const bucket = (le: string) => one(rows, 'earshot_frame_lateness_seconds_bucket', { le }).value;
    assert.is(bucket('0.0001'), 0);
    assert.is(bucket('0.001'), 50);
    assert.is(bucket('0.02'), 50);
    assert.is(bucket('0.04'), 51);
    assert.is(bucket('0.16'), 52);
    assert.is(bucket('+Inf'), 52);
    assert.is(one(rows, 'earshot_frame_lateness_seconds_count').value, 52);
    const sum = one(rows, 'earshot_frame_lateness_seconds_sum').value;
    assert.ok(Math.abs(sum - (50 * 300e-6 + 0.025 + 0.15)) < 0.003, `lateness sum ${sum}`);
    assert.is(one(rows, 'earshot_frame_lateness_max_seconds').value, 0.15);
  } finally {
    await server.close();
    await worker.stop();
  }
});

test('/healthz follows the health (degraded is alive, stalled is not), /readyz follows ready(); unknown paths 404', async () => {
  const run = fakeRun(new Map());
  const server = await startMetrics('127.0.0.1:0', run.ctx);
  try {
    assert.is((await fetch(`${server.url}/healthz`)).status, 200);
    run.set({ problems: ['recorder: no space left on device (ENOSPC) writing audio.opus'] });
    const degraded = await fetch(`${server.url}/healthz`);
    assert.is(degraded.status, 200);
    assert.is(await degraded.text(), 'degraded: recorder: no space left on device (ENOSPC) writing audio.opus\n');
    assert.is(one(parseProm(await (await fetch(`${server.url}/metrics`)).text()), 'earshot_degraded_components').value, 1);
    run.set({ problems: [] });
    assert.is((await fetch(`${server.url}/readyz`)).status, 503);
    run.set({ ready: true, healthy: false });
    const stalled = await fetch(`${server.url}/healthz`);
    assert.is(stalled.status, 503);
    assert.match(await stalled.text(), /stalled/);
    assert.is((await fetch(`${server.url}/readyz`)).status, 200);
    assert.is((await fetch(`${server.url}/nope`)).status, 404);
    const rows = parseProm(await (await fetch(`${server.url}/metrics`)).text());
    assert.is(one(rows, 'earshot_healthy').value, 0);
  } finally {
    await server.close();
  }
});

test('a port in use is one clear line', async () => {
  const run = fakeRun(new Map());
  const first = await startMetrics(':0', run.ctx);
  try {
    const port = new URL(first.url).port;
    await startMetrics(`:${port}`, run.ctx).then(
      () => assert.unreachable('second listen should fail'),
      (e: Error) => {
        assert.instance(e, UserError);
        assert.match(e.message, /in use/);
      },
    );
  } finally {
    await first.close();
  }
});

test('heartbeat logs the threads with nice, state and per-beat deltas; startOps starts both', async () => {
  const worker = await startNicedWorker(5);
  const run = fakeRun(new Map([[worker.tid, 'audio']]));
  const records: any[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      for (const line of String(chunk).split('\n')) if (line) records.push(JSON.parse(line));
      cb();
    },
  });
  const logger = pino({ base: undefined }, sink);
  const hb = startHeartbeat(40, run.ctx, logger);
  try {
    await until(() => records.length >= 1);
    run.stats.v[Stat.DeadlineMisses] = 5;
    await until(() => records.length >= 2);
  } finally {
    hb.stop();
  }
  const [first, second] = records as any[];
  assert.is(first.msg, 'heartbeat');
  const audio = first.hb.threads.find((t: any) => t.role === 'audio');
  assert.ok(audio, 'audio thread in the heartbeat');
  assert.is(audio.tid, worker.tid);
  assert.is(audio.nice, 5);
  assert.is(audio.policy, 'other');
  assert.is(audio.state, 'S');
  assert.is(second.hb.deadlineMisses, 5);
  assert.is(second.hb.deadlineMissesDelta, 5);
  assert.is(second.hb.log.dropped, 3);

  const ops = await startOps({ metrics: ':0', heartbeatMs: 1000 }, run.ctx, logger, () => {});
  try {
    assert.ok(ops.metricsUrl);
    assert.is((await fetch(`${ops.metricsUrl}/healthz`)).status, 200);
  } finally {
    await ops.close();
    await worker.stop();
  }
  // Bad values fail when the options are checked, before anything starts.
  assert.throws(() => resolveOptions({ input: 'lavfi:sine', heartbeat: 'soon' }), /--heartbeat "soon" is not a duration/);
  assert.throws(() => resolveOptions({ input: 'lavfi:sine', heartbeat: '0' }), /--heartbeat 0 must be longer than 0/);
});

async function until(cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}

test("the event-loop delay is what lies beyond the monitor's own period: ~0 when idle, a 300 ms block reads as 200-300", async () => {
  const d = new LoopDelay(100);
  d.enable();
  await new Promise((r) => setTimeout(r, 450));
  const idle = d.percentileMs(50);
  const end = Date.now() + 300;
  while (Date.now() < end) {} // the main thread blocked
  await new Promise((r) => setTimeout(r, 250));
  d.disable();
  assert.ok(idle < 30, `idle median ${idle} ms (perf_hooks records ~100 here: the tick period itself)`);
  assert.ok(d.maxMs >= 195 && d.maxMs < 450, `a 300 ms block read as ${d.maxMs} ms`);
});

test.run();
