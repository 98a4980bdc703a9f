/**
 * One configuration of `earshot repro`: a real `earshot run --input -` child
 * fed by the source emulator, its stdout on the emulated serial console,
 * optionally under a stressor; then the run's own account (summary.json,
 * events.jsonl), the offline detector's account of the recording, and the
 * source's ground truth, side by side.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { native } from '../native';
import { CLI } from '../paths';
import { SerialConsole } from './serial';
import type { SourceReport } from './source';
import { parseStress, startStress } from './stress';

export interface ReproConfig {
  name: string;
  realtimeThread: 'main' | 'worker';
  /** console-sync | stdout | file (file: a file in the run's folder) */
  logSink: 'console-sync' | 'stdout' | 'file';
  stress?: string;
  rtNice?: number;
  rtCpus?: string;
  rtPolicy?: string;
}

export interface ReproCommon {
  pcmPath: string;
  durationMs: number;
  workDir: string;
  /** Partner-style trace records per second (the story's chatty module). */
  chatter: number;
  baud: number;
  bufferMs: number;
  /** Pops `earshot detect` finds in the clean input itself: not counted against a run. */
  baselinePops?: TimelineMark[];
  log?: (line: string) => void;
}

export interface TimelineMark {
  t: number;
  durationMs: number;
  kind: string;
}

export interface ReproRun {
  name: string;
  realtimeThread: string;
  logSink: string;
  stress: string | null;
  rtNice: number | null;
  rtCpus: string | null;
  rtPolicy: string | null;
  groundTruthDroppedMs: number;
  groundTruthDropEvents: number;
  deadlineMisses: number | null;
  dropouts: number | null;
  /** Our lateness p99 and the source's jitter p99 (ms), from summary.json: misses come from the first only. */
  latenessP99Ms: number | null;
  sourceJitterP99Ms: number | null;
  /** Pops in the recording that the clean input does not have (±50 ms). */
  detectedPops: number | null;
  /** Every pop `earshot detect` found in the recording, the input's own included. */
  detectedPopsRaw: number | null;
  eventLoopDelayMaxMs: number | null;
  logRecordsWritten: number | null;
  logRecordsDropped: number | null;
  /** Ground-truth drops with a runtime event (dropout/deadline_miss) within ±20 ms of their start. */
  groundTruthMatched: number;
  /** The same within ±200 ms: tells a shifted timeline from a missed event. */
  groundTruthMatchedWithin200ms: number;
  /** Per lost span: runtime event time minus ground-truth time (ms), null when earshot saw nothing. */
  groundTruthOffsetsMs: Array<number | null>;
  consoleBytes: number;
  /** What each stressor child applied, e.g. "irq-like fifo:50 cpus 0". */
  stressApplied: string[];
  notes: string[];
  marks: { groundTruth: TimelineMark[]; runtime: TimelineMark[]; detected: TimelineMark[] };
  dir: string;
}

const MATCH_TOLERANCE_S = 0.02;
const RUNTIME_KINDS = new Set(['dropout', 'deadline_miss', 'overrun']);

export function runArgs(c: ReproConfig, common: ReproCommon, dir: string): string[] {
  const args = ['run', '--input', '-', '--record', join(dir, 'rec'), '--wav', '--realtime-thread', c.realtimeThread];
  args.push('--log-sink', c.logSink === 'file' ? `file:${join(dir, 'earshot.log')}` : c.logSink);
  args.push('--log-level', 'info,partners=trace', '--log-chatter', String(common.chatter));
  if (c.rtNice !== undefined) args.push('--rt-nice', String(c.rtNice));
  if (c.rtCpus !== undefined) args.push('--rt-cpus', c.rtCpus);
  if (c.rtPolicy !== undefined) args.push('--rt-policy', c.rtPolicy);
  return args;
}

function slug(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
}

function exitOf(child: ReturnType<typeof spawn>): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });
}

function readJson<T>(path: string): T | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

export async function runScenario(c: ReproConfig, common: ReproCommon): Promise<ReproRun> {
  const dir = join(common.workDir, slug(c.name));
  mkdirSync(dir, { recursive: true });
  const notes: string[] = [];
  const say = common.log ?? (() => {});

  const stressSpec = c.stress ? parseStress(c.stress) : undefined;
  // The stressor outlives the run's start-up; it is stopped right after the run.
  const stress = stressSpec ? await startStress(stressSpec, common.durationMs + 60_000) : undefined;
  if (stress && !stress.effective) {
    notes.push(`stressor ${c.stress} could not take effect (${stress.notes.join('; ')}): this run is unstressed`);
  }
  const serial = await SerialConsole.open({ baud: common.baud, capturePath: join(dir, 'console.txt') });
  const fifo = join(dir, 'capture.fifo');
  if (!existsSync(fifo)) native().mkfifo(fifo);
  const sourceReport = join(dir, 'source.json');
  let earshotCode: number | null = null;
  try {
    const source = spawn(
      process.execPath,
      [join(__dirname, 'source.js'), '--pcm', common.pcmPath, '--fifo', fifo, '--buffer-ms', String(common.bufferMs), '--report', sourceReport],
      { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
    );
    const sourceExit = exitOf(source);
    await Promise.race([
      new Promise((resolve) => source.once('message', resolve)),
      sourceExit.then((code) => {
        throw new Error(`the source emulator exited before starting (code ${code})`);
      }),
    ]);

    const stdin = openSync(fifo, 'r');
    const stdout = serial.openWriter();
    const args = runArgs(c, common, dir);
    writeFileSync(join(dir, 'command.txt'), `earshot ${args.join(' ')}\n`);
    const run = spawn(process.execPath, [CLI, ...args], { stdio: [stdin, stdout, 'pipe'] });
    closeSync(stdin);
    closeSync(stdout);
    let stderr = '';
    run.stderr!.setEncoding('utf8').on('data', (d: string) => {
      if (stderr.length < 20_000) stderr += d;
    });
    const runExit = exitOf(run);
    const timeout = setTimeout(() => {
      notes.push('earshot run did not finish in time and was killed');
      run.kill('SIGKILL');
      source.kill('SIGKILL');
    }, common.durationMs + 90_000);
    earshotCode = await runExit;
    await sourceExit;
    clearTimeout(timeout);
    writeFileSync(join(dir, 'stderr.txt'), stderr);
    if (earshotCode !== 0) notes.push(`earshot run exited ${earshotCode}: ${stderr.trim().split('\n').pop() ?? ''}`);
  } finally {
    stress?.stop();
  }
  const drained = await serial.finish({ fast: true, timeoutMs: 20_000 }).catch((err: Error) => {
    notes.push(err.message);
    return { bytes: 0, lines: 0 };
  });

  const gt = readJson<SourceReport>(sourceReport);
  if (!gt) notes.push('the source emulator wrote no report');
  if (gt && !gt.scheduling.startsWith('fifo')) notes.push(`source emulator at ${gt.scheduling}`);
  const summary = readJson<{
    deadlineMisses: number;
    dropouts: number;
    latenessMs?: { p99: number };
    sourceJitterMs?: { p99: number };
    eventLoopDelayMaxMs?: number;
    log?: { written: number; dropped: number };
  }>(join(dir, 'rec', 'summary.json'));
  const runtime: TimelineMark[] = [];
  const eventsPath = join(dir, 'rec', 'events.jsonl');
  if (existsSync(eventsPath)) {
    for (const line of readFileSync(eventsPath, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      try {
        const e = JSON.parse(line) as { t: number; kind: string; durationMs: number };
        runtime.push({ t: e.t, durationMs: e.durationMs, kind: e.kind });
      } catch {
        /* a torn last line from a killed run */
      }
    }
  }
  const groundTruth: TimelineMark[] = (gt?.drops ?? []).map((d) => ({ t: d.t, durationMs: d.durationMs, kind: 'overrun' }));
  const detected = await detectPops(join(dir, 'rec', 'audio.wav'), notes);
  const matchedWithin = (tol: number) =>
    groundTruth.filter((g) => runtime.some((r) => RUNTIME_KINDS.has(r.kind) && Math.round(Math.abs(r.t - g.t) * 1000) <= tol * 1000)).length; // in whole ms: 2.06 vs 2.08 is 20 ms, not 20.000000000000018
  const matched = matchedWithin(MATCH_TOLERANCE_S);
  // For each lost span, how far earshot's nearest runtime event sits from it on the timeline.
  const offsetsMs = groundTruth.map((g) => {
    let best: number | null = null;
    for (const r of runtime) {
      if (!RUNTIME_KINDS.has(r.kind)) continue;
      const d = Math.round((r.t - g.t) * 1000);
      if (best === null || Math.abs(d) < Math.abs(best)) best = d;
    }
    return best;
  });

  const result: ReproRun = {
    name: c.name,
    realtimeThread: c.realtimeThread,
    logSink: c.logSink,
    stress: c.stress ?? null,
    rtNice: c.rtNice ?? null,
    rtCpus: c.rtCpus ?? null,
    rtPolicy: c.rtPolicy ?? null,
    groundTruthDroppedMs: gt?.droppedMs ?? 0,
    groundTruthDropEvents: gt?.drops.length ?? 0,
    deadlineMisses: summary?.deadlineMisses ?? null,
    dropouts: summary?.dropouts ?? null,
    latenessP99Ms: summary?.latenessMs?.p99 ?? null,
    sourceJitterP99Ms: summary?.sourceJitterMs?.p99 ?? null,
    detectedPops: detected ? detected.filter((d) => !(common.baselinePops ?? []).some((b) => Math.abs(b.t - d.t) <= 0.05)).length : null,
    detectedPopsRaw: detected ? detected.length : null,
    eventLoopDelayMaxMs: summary?.eventLoopDelayMaxMs ?? null,
    logRecordsWritten: summary?.log?.written ?? null,
    logRecordsDropped: summary?.log?.dropped ?? null,
    stressApplied: stress?.notes ?? [],
    groundTruthMatched: matched,
    groundTruthMatchedWithin200ms: matchedWithin(0.2),
    groundTruthOffsetsMs: offsetsMs,
    consoleBytes: drained.bytes,
    notes,
    marks: { groundTruth, runtime, detected: detected ?? [] },
    dir,
  };
  say(`  ${c.name}: ground truth ${result.groundTruthDroppedMs} ms in ${result.groundTruthDropEvents} drops, deadline misses ${result.deadlineMisses}, dropouts ${result.dropouts}`);
  return result;
}

/** `earshot detect --json` on the recording: clicks, dropouts and splices are pops. */
export async function detectPops(wav: string, notes: string[]): Promise<TimelineMark[] | undefined> {
  if (!existsSync(wav)) {
    notes.push('no recording to analyse: pops from the ground truth only');
    return undefined;
  }
  const child = spawn(process.execPath, [CLI, 'detect', '--json', '--jobs', '1', '--fail-on', 'none', wav], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const code = await exitOf(child);
  const line = out.split('\n').find((l) => l.startsWith('{'));
  if (code !== 0 || !line) {
    notes.push(`earshot detect failed (${code}): ${err.trim().split('\n').pop() ?? ''}`);
    return undefined;
  }
  const res = JSON.parse(line) as { events?: Array<{ kind: string; startSec: number; endSec: number }>; error?: string };
  if (res.error) {
    notes.push(`earshot detect: ${res.error}`);
    return undefined;
  }
  return (res.events ?? [])
    .filter((e) => e.kind === 'click' || e.kind === 'dropout' || e.kind === 'discontinuity')
    .map((e) => ({ t: e.startSec, durationMs: Math.round((e.endSec - e.startSec) * 1000), kind: e.kind }));
}
