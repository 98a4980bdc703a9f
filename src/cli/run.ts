/**
 * `earshot run`: one meeting, from ingest to recording and partners.
 * Flags follow DESIGN.md's command line; each domain owns its own flags.
 */
import { parseFlags } from './args';
import { parseSource } from '../ingest/spec';
import { createLogging, LOG_FLAGS_HELP, logFlags, loggingOptionsFrom, moduleLogger, type Logging } from '../logging';
import { createPartnerSinks, parsePartnerSpecs, partnerFlags, partnerUsage } from '../partners';
import { opsFlags, startOps, validateOpsFlags } from '../ops/flags';
import { MAX_JITTER_DEFAULT_MS, MAX_JITTER_RANGE_MS } from '../realtime/audio-loop';
import { parsePolicy, type SchedRequest } from '../realtime/sched';
import { MeetingEvents } from '../run/events';
import { runMeeting } from '../run/pipeline';
import { RECORDING_FILES, Recorder } from '../sinks/recorder';
import { FrameTimesSink } from '../sinks/frame-times';
import type { FrameSink } from '../sinks/sink';
import { parseCpuList, parseDuration, UserError } from '../util/duration';

const HELP = `usage: earshot run --input SPEC [options]
       earshot run --queue URL [--record-root DIR] [options]   (meetings from the queue: --queue --help)

  --input SPEC           file:PATH | pulse:SOURCE | alsa:DEVICE | lavfi:GRAPH | url:URL | - (raw s16le 48 kHz on stdin)
  --max-jitter DUR       how unevenly the input may arrive (default 500ms, 20ms-5s): bursts and chunks
                         whose audio comes at most DUR after its time lose nothing and raise no event
                         (e.g. stdin pushed in 400 ms chunks, Pulse's 100 ms bursts). Audio missing for
                         longer is concealed, a dropout; audio arriving after its time was concealed is
                         dropped as late_audio_dropped. Deadline misses are only our own thread's lateness.
  --record DIR           write audio.opus, events.jsonl and summary.json in DIR
  --wav                  also write audio.wav
  --no-pace              read file/lavfi input as fast as possible (no wall clock, no deadlines)
  --duration DUR         stop after DUR of meeting time (e.g. 30s, 5m)
  --channels 1|2         mono (default) or stereo
  --bitrate N            Opus bitrate in bit/s (default 64000)
  --conceal MODE         silence | fade (default fade: raised-cosine ramps, no click)
  --rt-nice N            nice value for the audio thread only (e.g. -10; needs CAP_SYS_NICE or RLIMIT_NICE)
  --rt-cpus LIST         pin the audio thread to these CPUs (e.g. 1 or 2-3)
  --rt-policy P[:PRIO]   other | fifo | rr, e.g. fifo:20 (needs CAP_SYS_NICE or RLIMIT_RTPRIO)
  --rt-strict            fail when a priority request is refused (default: warn and go on)
  --realtime-thread T    worker (default) | main (LEGACY: audio on the event loop, for earshot repro)
  --metrics ADDR         serve Prometheus /metrics, /healthz, /readyz (e.g. :9464; binds 127.0.0.1)
  --heartbeat DUR        log a per-thread heartbeat every DUR
${partnerUsage}
${LOG_FLAGS_HELP}
`;

export const options = {
  input: { type: 'string' },
  'max-jitter': { type: 'string' },
  record: { type: 'string' },
  wav: { type: 'boolean' },
  'no-pace': { type: 'boolean' },
  duration: { type: 'string' },
  channels: { type: 'string' },
  bitrate: { type: 'string' },
  conceal: { type: 'string' },
  'rt-nice': { type: 'string' },
  'rt-cpus': { type: 'string' },
  'rt-policy': { type: 'string' },
  'rt-strict': { type: 'boolean' },
  'realtime-thread': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  ...logFlags,
  ...opsFlags,
  ...partnerFlags,
} as const;

export async function main(argv: string[]): Promise<number> {
  // `--queue URL [--record-root DIR]`: take the meetings from the fleet's queue (run-queue.ts).
  if (argv.some((a) => /^--queue(=|$)/.test(a))) return (await import('./run-queue')).main(argv, main);
  const { values } = parseFlags('run', argv, options);
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (!values.input) throw new UserError('--input is required - e.g. --input file:samples/speech.wav (see `earshot run --help`)');

  const input = parseSource(values.input, !values['no-pace']);
  const channels = intFlag(values.channels ?? '1', '--channels', 1, 2);
  const bitrate = intFlag(values.bitrate ?? '64000', '--bitrate', 6000, 510000);
  const conceal = values.conceal ?? 'fade';
  if (conceal !== 'silence' && conceal !== 'fade') throw new UserError(`--conceal "${conceal}" - use silence or fade`);
  const realtimeThread = values['realtime-thread'] ?? 'worker';
  if (realtimeThread !== 'worker' && realtimeThread !== 'main') throw new UserError(`--realtime-thread "${realtimeThread}" - use worker or main`);
  const sched: SchedRequest = {};
  if (values['rt-nice'] !== undefined) sched.nice = intFlag(values['rt-nice'], '--rt-nice', -20, 19);
  if (values['rt-cpus'] !== undefined) sched.cpus = parseCpuList(values['rt-cpus']);
  if (values['rt-policy'] !== undefined) {
    const p = parsePolicy(values['rt-policy']);
    if (!p) throw new UserError(`--rt-policy "${values['rt-policy']}" - use other, fifo[:PRIO] or rr[:PRIO] (PRIO 1-99)`);
    Object.assign(sched, p);
  }
  const durationMs = values.duration ? parseDuration(values.duration, '--duration') : undefined;
  const maxJitterMs = values['max-jitter'] ? parseDuration(values['max-jitter'], '--max-jitter') : MAX_JITTER_DEFAULT_MS;
  const [minJitter, maxJitter] = MAX_JITTER_RANGE_MS;
  if (maxJitterMs < minJitter || maxJitterMs > maxJitter) throw new UserError(`--max-jitter ${values['max-jitter']} - use ${minJitter}ms to ${maxJitter / 1000}s`);
  validateOpsFlags(values);
  const partnerSpecs = parsePartnerSpecs(values);

  const logging: Logging = createLogging(loggingOptionsFrom(values));
  const sinks: FrameSink[] = [];
  let recorder: Recorder | undefined;
  const events = new MeetingEvents(logging.logger);
  try {
    if (values.record) {
      recorder = new Recorder({
        dir: values.record,
        channels,
        wav: !!values.wav,
        // The disk fell 30 s behind and frames were dropped from the files (never from capture).
        onOverrun: events.report,
      });
      sinks.push(recorder);
    }
    const partners = createPartnerSinks(partnerSpecs, {
      recordDir: values.record,
      channels,
      logger: moduleLogger(logging, 'partners'),
      onEvent: events.report,
    });
    sinks.push(...partners);
    if (process.env.EARSHOT_BENCH_FRAME_TIMES) sinks.push(new FrameTimesSink(process.env.EARSHOT_BENCH_FRAME_TIMES));
    const { summary, exitCode, error } = await runMeeting({
      input,
      channels,
      loop: { bitrate, conceal, maxJitterMs },
      sched,
      strict: !!values['rt-strict'],
      realtimeThread,
      durationMs,
      logging,
      sinks,
      events,
      services: async (ctx) => {
        const ops = await startOps(values, ctx, moduleLogger(logging, 'ops'));
        return [() => ops.close()];
      },
      partnerStatus: () => partners.map((p) => p.status()),
      recordDir: values.record,
      recordingStats: recorder && (() => recorderStats(recorder!, !!values.wav)),
    });
    const diskError = recorder?.stats().error;
    if (diskError) process.stderr.write(`earshot: recording incomplete: ${diskError} - free space or pick another --record directory\n`);
    report(summary, values.record);
    if (error) process.stderr.write(`earshot: ${error.message}\n`);
    return exitCode;
  } finally {
    await logging.close();
  }
}

function intFlag(text: string, flag: string, min: number, max: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) throw new UserError(`${flag} "${text}" - use a whole number from ${min} to ${max}`);
  return n;
}

function recorderStats(r: Recorder, wav: boolean): { files: string[]; framesDropped: number } {
  const files = [RECORDING_FILES.opus, ...(wav ? [RECORDING_FILES.wav] : []), RECORDING_FILES.events];
  return { files, framesDropped: r.stats().framesDropped };
}

/** The human summary on stdout: where the files are and what happened. */
function report(summary: import('../run/summary').RunSummary, dir: string | undefined): void {
  const audio = summary.threads.find((t) => t.role === 'audio' || t.role === 'main+audio');
  const lines = [
    `earshot: ${summary.durationSec.toFixed(2)} s recorded, ${summary.frames} frames`,
    `  deadline misses ${summary.deadlineMisses}, dropouts ${summary.dropouts}, concealed ${summary.concealedSamples} samples, late audio dropped ${summary.lateAudioDroppedSamples} samples, egress overruns ${summary.egressOverruns}`,
    `  our lateness ms p50 ${summary.latenessMs.p50} p99 ${summary.latenessMs.p99} p99.9 ${summary.latenessMs.p999} max ${summary.latenessMs.max}`,
    `  source jitter ms p50 ${summary.sourceJitterMs.p50} p99 ${summary.sourceJitterMs.p99} max ${summary.sourceJitterMs.max}; jitter buffer added ms p99 ${summary.addedLatencyMs.p99} max ${summary.addedLatencyMs.max}`,
    audio ? `  audio thread tid ${audio.tid}: nice ${audio.nice}, policy ${audio.policy}, cpus ${audio.cpus}` : '',
    dir ? `  files in ${dir}: ${[...(summary.recording?.files ?? []), 'summary.json'].join(', ')}` : '',
  ];
  process.stdout.write(lines.filter(Boolean).join('\n') + '\n');
}
