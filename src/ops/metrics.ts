/**
 * `--metrics ADDR`: Prometheus text over HTTP, plus /healthz and /readyz.
 *
 * Everything is collected on scrape from a registry of our own (never the
 * global one, so two runs in one process or a library user's metrics cannot
 * collide): the real-time counters are read from shared memory, the thread
 * heartbeat from /proc/self/task. Nothing here runs between scrapes, and
 * nothing here can touch the audio worker.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { Histogram, RtStats } from '../realtime/stats';
import { healthOf, type RunContext } from '../run/context';
import { VERSION } from '../run/version';
import { UserError } from '../errors';
import { parseListenAddress } from './listen-address';
import { takeSnapshot, type Snapshot } from './snapshot';

export { parseListenAddress } from './listen-address';

export interface MetricsServer {
  url: string;
  close(): Promise<void>;
}

/** Upper bounds (seconds) of the exported lateness buckets, cut from RtStats' ~1% buckets. */
export const LATENESS_LE_SECONDS = [
  0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12,
];

/** Summary quantiles of the main thread's event-loop delay. */
const LOOP_DELAY_QUANTILES = [0.5, 0.9, 0.99];

/** Listens on `addr` (failing with one UserError line); `onError` hears of faults once it is up. */
export async function startMetrics(addr: string, ctx: RunContext, onError: (err: Error) => void = () => {}): Promise<MetricsServer> {
  const { host, port } = parseListenAddress(addr);
  const registry = buildRegistry(ctx);
  const server = createServer((req, res) => {
    route(req, res, ctx, registry).catch((err: Error) => {
      res.statusCode = 500;
      res.end(`metrics collection failed: ${err.message}\n`);
    });
  });
  // A scraper that keeps connections open must not hold up shutdown.
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      const why =
        err.code === 'EADDRINUSE'
          ? 'the address is in use - choose another port'
          : err.code === 'EACCES'
            ? 'permission denied - use a port above 1023'
            : err.code === 'EADDRNOTAVAIL'
              ? `${host} is not an address of this host - use 127.0.0.1, 0.0.0.0 or one of its addresses`
              : err.message;
      reject(new UserError(`--metrics ${addr}: cannot listen (${why})`, 2, 'ERR_SERVICE'));
    });
    server.listen(port, host, () => resolve());
  });
  // From now on a fault here (EMFILE on accept...) is the metrics' own, never the meeting's.
  server.on('error', onError);
  server.unref();
  const a = server.address() as AddressInfo;
  const shown = a.family === 'IPv6' ? `[${a.address}]` : a.address;
  return {
    url: `http://${shown}:${a.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function route(req: IncomingMessage, res: ServerResponse, ctx: RunContext, registry: ScrapeRegistry): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD' }).end();
    return;
  }
  if (path === '/metrics') {
    const body = await registry.scrape();
    res.writeHead(200, { 'content-type': registry.contentType }).end(req.method === 'HEAD' ? undefined : body);
  } else if (path === '/healthz') {
    // Degraded (the disk or a partner is down) is still alive: the audio flows, restarting would lose the meeting.
    const h = healthOf(ctx);
    const alive = h.status === 'ok' || h.status === 'degraded';
    const why =
      h.status === 'ok'
        ? 'audio is flowing'
        : h.status === 'degraded'
          ? h.problems.join('; ')
          : h.status === 'stalled'
            ? 'no frame published within the stall window'
            : h.status === 'starting'
              ? 'no audio yet'
              : 'the meeting has ended';
    res.writeHead(alive ? 200 : 503, { 'content-type': 'text/plain' }).end(`${h.status}: ${why}\n`);
  } else if (path === '/readyz') {
    const ok = ctx.ready();
    res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' }).end(ok ? 'ready: ingest is delivering audio\n' : 'not ready: ingest has not delivered audio yet\n');
  } else {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('try /metrics, /healthz or /readyz\n');
  }
}

interface ScrapeRegistry {
  contentType: string;
  scrape(): Promise<string>;
}

/** The registry and its metrics; each scrape reads one Snapshot that every metric renders. */
export function buildRegistry(ctx: RunContext): ScrapeRegistry {
  const registry = new Registry();
  let snap: Snapshot | undefined;
  const now = () => snap!;
  const registers = [registry];

  /** A counter whose value is owned elsewhere (shared memory, a partner stream): set on scrape. */
  const mirrorCounter = (name: string, help: string, read: (s: Snapshot) => number) =>
    new Counter({
      name,
      help,
      registers,
      collect() {
        this.reset();
        const v = read(now());
        if (v > 0) this.inc(v);
      },
    });
  const gauge = (name: string, help: string, read: (s: Snapshot) => number) =>
    new Gauge({
      name,
      help,
      registers,
      collect() {
        this.set(read(now()));
      },
    });

  // ---- real-time domain (written by the audio worker, read here from shared memory) ----
  mirrorCounter('earshot_frames_total', 'Frames published by the audio worker.', (s) => s.frames);
  mirrorCounter('earshot_deadline_misses_total', 'Frames our audio thread handled more than a frame period late (deadline_misses_total).', (s) => s.deadlineMisses);
  mirrorCounter('earshot_concealed_samples_total', 'Samples filled by concealment (webrtc-stats concealedSamples).', (s) => s.concealedSamples);
  mirrorCounter('earshot_concealment_events_total', 'Runs of concealed samples (webrtc-stats concealmentEvents).', (s) => s.concealmentEvents);
  mirrorCounter('earshot_samples_duration_seconds_total', 'Audio produced on the meeting timeline (webrtc-stats totalSamplesDuration).', (s) => s.totalSamplesDuration);
  mirrorCounter('earshot_dropouts_total', 'Input gaps the worker concealed.', (s) => s.dropouts);
  mirrorCounter('earshot_egress_overruns_total', 'Frames the worker could not publish because the ring was full.', (s) => s.egressOverruns);
  mirrorCounter('earshot_late_audio_dropped_samples_total', 'Samples of late audio dropped because concealment had already filled their time (late_audio_dropped).', (s) => s.lateAudioDroppedSamples);
  mirrorCounter('earshot_input_bytes_total', 'PCM bytes read from ingest.', (s) => s.inputBytes);
  gauge('earshot_frame_lateness_max_seconds', 'Largest frame lateness seen so far.', (s) => s.latenessMaxUs / 1e6);
  registry.registerMetric(histogramMetric(ctx, 'earshot_frame_lateness_seconds', 'How late our audio thread handled each frame: run-queue delay, late timers, stalls of its own (frame_lateness_seconds).', (s) => s.lateness));
  registry.registerMetric(histogramMetric(ctx, 'earshot_source_jitter_seconds', "How late each frame's input arrived against the source's own clock: the source's delivery jitter, absorbed by the jitter buffer.", (s) => s.sourceJitter));
  registry.registerMetric(histogramMetric(ctx, 'earshot_jitter_buffer_held_seconds', 'How long each frame of real audio waited in the jitter buffer (the latency it added).', (s) => s.held));
  gauge('earshot_ring_fill_frames', 'Frames published but not yet drained by the main thread.', (s) => s.ringFill);
  gauge('earshot_ring_slots', 'Capacity of the frame ring.', (s) => s.ringSlots);
  gauge('earshot_healthy', '1 while frames are being published, 0 once audio has stalled.', (s) => Number(s.healthy));
  gauge('earshot_ready', '1 once ingest has delivered audio.', (s) => Number(s.ready));
  gauge('earshot_degraded_components', 'Best-effort components that are down (the recorder after a disk error, a failed partner, a failed sink).', (s) => s.problems);
  new Counter({
    name: 'earshot_events_total',
    help: 'Meeting events by kind (as written to events.jsonl).',
    labelNames: ['kind'],
    registers,
    collect() {
      this.reset();
      for (const [kind, n] of Object.entries(now().events)) if (n > 0) this.inc({ kind }, n);
    },
  });

  // ---- best-effort domain ----
  const perPartner = (name: string, help: string, read: (p: Snapshot['partners'][number]) => number, type: 'gauge' | 'counter') => {
    const Kind = type === 'gauge' ? Gauge : Counter;
    new Kind({
      name,
      help,
      labelNames: ['partner'],
      registers,
      collect(this: Gauge<'partner'> & Counter<'partner'>) {
        this.reset();
        for (const p of now().partners) {
          const v = read(p);
          if (type === 'gauge') this.set({ partner: p.name }, v);
          else this.inc({ partner: p.name }, Math.max(0, v));
        }
      },
    } as never);
  };
  perPartner('earshot_partner_backlog_seconds', 'Audio queued for a partner but not yet sent.', (p) => p.backlogSec, 'gauge');
  perPartner('earshot_partner_connected', '1 while the partner stream is connected.', (p) => Number(p.connected), 'gauge');
  perPartner('earshot_partner_reconnects_total', 'Reconnections to a partner.', (p) => p.reconnects, 'counter');
  perPartner('earshot_partner_audio_sent_seconds_total', 'Audio delivered to a partner.', (p) => p.audioSecSent, 'counter');
  perPartner('earshot_partner_gap_seconds_total', 'Audio a partner never received (gaps it was told about).', (p) => p.gapsMs / 1000, 'counter');

  // ---- logging domain ----
  const logCounter = (name: string, help: string, read: (s: Snapshot) => number) =>
    new Counter({
      name,
      help,
      labelNames: ['sink'],
      registers,
      collect() {
        this.reset();
        this.inc({ sink: now().log.sink }, read(now()));
      },
    });
  logCounter('earshot_log_records_written_total', 'Log records handed to the sink.', (s) => s.log.written);
  logCounter('earshot_log_records_dropped_total', 'Log records dropped because the sink was slower than the producer (log_records_dropped_total).', (s) => s.log.dropped);

  // ---- main thread, process, build ----
  registry.registerMetric(loopDelaySummary(ctx));
  new Gauge({ name: 'earshot_build_info', help: 'earshot version and Node.js version (value 1).', labelNames: ['version', 'nodejs'], registers }).set(
    { version: VERSION, nodejs: process.versions.node },
    1,
  );
  if (ctx.meetingId) {
    new Gauge({ name: 'earshot_meeting_info', help: 'The meeting this process serves (value 1).', labelNames: ['meeting_id'], registers }).set(
      { meeting_id: ctx.meetingId },
      1,
    );
  }
  gauge('earshot_uptime_seconds', 'Seconds since the run started.', (s) => s.uptimeSec);

  // Per-thread: the kernel's word on each thread, so a stuck, demoted or
  // disk-sleeping thread shows up even when the averages look fine.
  const threadLabels = ['tid', 'name', 'role'] as const;
  const perThread = <K extends string>(
    name: string,
    help: string,
    type: 'gauge' | 'counter',
    extra: K[],
    read: (t: Snapshot['threads'][number]) => [number, Record<K, string>?],
  ) => {
    const Kind = type === 'gauge' ? Gauge : Counter;
    new Kind({
      name,
      help,
      labelNames: [...threadLabels, ...extra],
      registers,
      collect(this: Gauge<string> & Counter<string>) {
        this.reset();
        for (const t of now().threads) {
          const [v, more] = read(t);
          const labels = { tid: String(t.tid), name: t.name, role: t.role, ...more };
          if (type === 'gauge') this.set(labels, v);
          else this.inc(labels, Math.max(0, v));
        }
      },
    } as never);
  };
  perThread('earshot_thread_state', "A thread's scheduler state (R running, S sleeping, D disk-sleep, ...): 1 for the current one.", 'gauge', ['state'], (t) => [1, { state: t.state }]);
  perThread('earshot_thread_nice', "A thread's nice value as the kernel reports it.", 'gauge', [], (t) => [t.nice]);
  perThread('earshot_thread_policy', "A thread's scheduling policy (other, fifo, rr, batch, idle) and real-time priority as the value.", 'gauge', ['policy'], (t) => [t.rtPriority, { policy: t.policy }]);
  perThread('earshot_thread_cpu', 'The CPU a thread last ran on.', 'gauge', ['cpus'], (t) => [t.processor, { cpus: t.cpus }]);
  perThread('earshot_thread_voluntary_context_switches_total', 'Times a thread gave up the CPU (waiting for I/O, a lock, a timer).', 'counter', [], (t) => [t.voluntaryCtxt]);
  perThread('earshot_thread_involuntary_context_switches_total', 'Times a thread was preempted: a high rate on the audio thread means it is losing the CPU.', 'counter', [], (t) => [t.involuntaryCtxt]);
  perThread('earshot_thread_cpu_seconds_total', 'CPU time a thread has used (user + system).', 'counter', [], (t) => [(t.utimeTicks + t.stimeTicks) / CLOCK_TICKS]);
  new Gauge({
    name: 'earshot_threads',
    help: 'Threads of this process by scheduler state.',
    labelNames: ['state'],
    registers,
    collect() {
      this.reset();
      const by: Record<string, number> = {};
      for (const t of now().threads) by[t.state] = (by[t.state] ?? 0) + 1;
      for (const [state, n] of Object.entries(by)) this.set({ state }, n);
    },
  });

  let scraping: Promise<string> | undefined;
  return {
    contentType: registry.contentType,
    scrape() {
      // Concurrent scrapes share one reading rather than racing on `snap`.
      scraping ??= (async () => {
        try {
          snap = takeSnapshot(ctx);
          return await Registry.merge([registry, processRegistry()]).metrics();
        } finally {
          scraping = undefined;
        }
      })();
      return scraping;
    },
  };
}

/**
 * The main thread's event-loop delay (perf_hooks' histogram, since the meeting started running)
 * as a Prometheus summary: quantiles, _sum and _count.
 */
function loopDelaySummary(ctx: RunContext) {
  const name = 'earshot_event_loop_delay_seconds';
  const help = 'Main-thread event-loop delay since the meeting started running (beyond the 100 ms period of the perf_hooks monitor that measures it).';
  return {
    name,
    help,
    type: 'summary',
    get() {
      const h = ctx.eventLoopDelay;
      const count = h.count;
      return {
        name,
        help,
        type: 'summary',
        aggregator: 'sum',
        values: [
          ...LOOP_DELAY_QUANTILES.map((q) => ({ labels: { quantile: q }, value: h.percentileMs(q * 100) / 1000 })),
          { metricName: `${name}_sum`, labels: {}, value: (h.meanMs / 1000) * count },
          { metricName: `${name}_count`, labels: {}, value: count },
        ],
      };
    },
  } as never;
}

let processMetrics: Registry | undefined;

/**
 * The standard process_* and nodejs_* metrics (prom-client's defaults, under their standard names,
 * for standard dashboards): facts about the process, so one registry per process, shared by every
 * meeting's /metrics (its collectors run from the first scrape on, never once per meeting).
 */
function processRegistry(): Registry {
  if (processMetrics) return processMetrics;
  processMetrics = new Registry();
  collectDefaultMetrics({ register: processMetrics });
  // Three of the defaults are gauges named *_total, which promtool flags; their by-type siblings
  // (nodejs_active_handles...) carry the same counts.
  for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) processMetrics.removeSingleMetric(name);
  return processMetrics;
}

/** USER_HZ: /proc reports CPU times in these ticks; 100 on every Linux ABI Node supports. */
const CLOCK_TICKS = 100;

/**
 * One of the worker's histograms (1% resolution, in shared memory) as a
 * Prometheus histogram with coarser, fixed buckets. prom-client's Histogram
 * only accumulates observations, so this object speaks the registry's
 * `get()` protocol directly.
 */
function histogramMetric(ctx: RunContext, name: string, helpText: string, pick: (s: RtStats) => Histogram) {
  const help = `${helpText} _sum is estimated from bucket midpoints.`;
  return {
    name,
    help,
    type: 'histogram',
    get() {
      const stats = pick(ctx.stats);
      let total = 0;
      let sumUs = 0;
      for (let i = 0; i < stats.counts.length; i++) {
        const n = stats.counts[i]!;
        if (n === 0) continue;
        total += n;
        sumUs += n * bucketMidUs(i);
      }
      const values = LATENESS_LE_SECONDS.map((le) => ({
        metricName: `${name}_bucket`,
        labels: { le },
        value: stats.countAtOrBelowUs(le * 1e6),
      }));
      values.push({ metricName: `${name}_bucket`, labels: { le: '+Inf' as never }, value: total });
      return {
        name,
        help,
        type: 'histogram',
        aggregator: 'sum',
        values: [...values, { metricName: `${name}_sum`, labels: {}, value: sumUs / 1e6 }, { metricName: `${name}_count`, labels: {}, value: total }],
      };
    },
  } as never;
}

/** Midpoint of RtStats' lateness bucket i, in µs (mirrors its bucket layout). */
function bucketMidUs(i: number): number {
  if (i < 100) return i + 0.5;
  const k = i - 100;
  const d = Math.floor(k / 900) + 2;
  return (100 + (k % 900) + 0.5) * 10 ** (d - 2);
}
