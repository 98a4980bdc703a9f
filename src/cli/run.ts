/**
 * `earshot run`: one meeting, as a thin client of the library (startMeeting). The CLI owns what
 * the library must not touch: the flags and MEETING_ID, the signal handlers (the first SIGINT or
 * SIGTERM stops the meeting in order; a second finishes the recording and the summary and drops
 * the partners), the human report on stderr (stdout carries only machine output: the JSON log
 * lines of the default stdout sink), and the exit status.
 */
import { parseFlags } from './args';
import { LOG_FLAGS_HELP, logFlags, loggingOptionsFrom } from '../logging';
import { partnerFlags, partnerUsage } from '../partners/specs';
import { startMeeting, type Meeting } from '../run/meeting';
import type { MeetingOptions, PartnersRequired, RecordExisting } from '../run/options';
import type { RunSummary } from '../run/summary';
import { UserError } from '../errors';

const HELP = `usage: earshot run --input SPEC [options]
       earshot run --queue URL [--record-root DIR] [options]   (meetings from the queue: --queue --help)

  --input SPEC             file:PATH | pulse:SOURCE | alsa:DEVICE | lavfi:GRAPH | url:URL | - (raw s16le 48 kHz on stdin)
                           | page:HOST:PORT (every participant from the meeting page: the bot injects the capture
                           script of earshot/page, captureScript({ url: 'ws://HOST:PORT/', token }))
  --page-token-env VAR     page input: the meeting's token, read from $VAR (the bot gives the script the same)
  --participant-transcripts MODE      page input: what the partners hear - mix (default), each (a connection per
                           participant, speaker = participant), or multichannel[:N] (one connection, each
                           participant a channel of its own: Deepgram multichannel, N slots, default 8, max 20)
  --capture-silent-after DUR           page input: a live participant silent this long is capture_silent (default 10s)
  --max-jitter DUR         how unevenly the input may arrive (default 500ms, 20ms-5s): bursts and chunks
                           whose audio comes at most DUR after its time lose nothing and raise no event
                           (e.g. stdin pushed in 400 ms chunks, Pulse's 100 ms bursts). Audio missing for
                           longer is concealed, a dropout; audio arriving after its time was concealed is
                           dropped as late_audio_dropped. Deadline misses are only our own thread's lateness.
  --meeting-id ID          tags every log line, event, transcript and the summary (default: $MEETING_ID, else a UUID)
  --record DIR             write audio.opus, events.jsonl, transcripts.jsonl and summary.json in DIR
  --record-existing MODE   when DIR already holds a meeting: refuse (default) | segment (a new DIR/segment-N) | replace
  --wav                    also write audio.wav
  --no-pace                read file/lavfi input as fast as possible (no wall clock, no deadlines)
  --duration DUR           stop after DUR of meeting time (e.g. 30s, 5m)
  --first-audio-timeout D  give up when the source has sent no audio after D (default 15s, or --duration if shorter)
  --channels 1|2           mono (default) or stereo
  --bitrate N              Opus bitrate in bit/s (default 64000)
  --conceal MODE           silence | fade (default fade: raised-cosine ramps, no click)
  --rt-nice N              nice value for the audio thread only (e.g. -10; needs CAP_SYS_NICE or RLIMIT_NICE)
  --rt-cpus LIST           pin the audio thread to these CPUs (e.g. 1 or 2-3)
  --rt-policy P[:PRIO]     other | fifo | rr, e.g. fifo:20, PRIO 1-99 (needs CAP_SYS_NICE or RLIMIT_RTPRIO)
  --rt-strict              fail when a priority request is refused (default: warn and go on)
  --realtime-thread T      worker (default) | main (LEGACY: audio on the event loop, for earshot repro)
  --metrics ADDR           serve Prometheus /metrics, /healthz, /readyz (e.g. :9464; binds 127.0.0.1)
  --heartbeat DUR          log a per-thread heartbeat every DUR
${partnerUsage}
  --partners-required P    all (default) | any | none: which partners must deliver for exit status 0
  --partner-close-timeout D  how long partners may take to finish after the recording is final (default 5s)
${LOG_FLAGS_HELP}
  --test-stall-main AT:MS, --test-stall-worker AT:MS, --bench-frame-times FILE
                           TEST ONLY: busy-loop a thread once at timeline AT ms; write per-frame times

Stopping: the first SIGINT/SIGTERM ends the meeting in order: the recording and summary.json within
about a second, then the partners (up to --partner-close-timeout). A second signal drops the partners.

Exit status: 0 the meeting ended and everything asked for was delivered; 1 the meeting failed (the
source failed for good, the audio worker failed) or the recording is incomplete (a disk error);
2 a bad flag or input, or a side service that cannot start (nothing was recorded); 3 the recording
is complete but a partner that --partners-required names never delivered (stderr says why).
`;

export const options = {
  input: { type: 'string' },
  'max-jitter': { type: 'string' },
  'page-token-env': { type: 'string' },
  'participant-transcripts': { type: 'string' },
  'capture-silent-after': { type: 'string' },
  'meeting-id': { type: 'string' },
  record: { type: 'string' },
  'record-existing': { type: 'string' },
  wav: { type: 'boolean' },
  'no-pace': { type: 'boolean' },
  duration: { type: 'string' },
  'first-audio-timeout': { type: 'string' },
  channels: { type: 'string' },
  bitrate: { type: 'string' },
  conceal: { type: 'string' },
  'rt-nice': { type: 'string' },
  'rt-cpus': { type: 'string' },
  'rt-policy': { type: 'string' },
  'rt-strict': { type: 'boolean' },
  'realtime-thread': { type: 'string' },
  metrics: { type: 'string' },
  heartbeat: { type: 'string' },
  'partners-required': { type: 'string' },
  'partner-close-timeout': { type: 'string' },
  'test-stall-main': { type: 'string' },
  'test-stall-worker': { type: 'string' },
  'bench-frame-times': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  ...logFlags,
  ...partnerFlags,
} as const;

export const RUN_HELP = HELP;

/** `stop`: ends the meeting in order as the first SIGTERM would (the queue bot's lost lease). */
export async function main(argv: string[], stop?: AbortSignal): Promise<number> {
  // `--queue URL [--record-root DIR]`: take the meetings from the fleet's queue (run-queue.ts).
  if (argv.some((a) => /^--queue(=|$)/.test(a))) return (await import('./run-queue')).main(argv, main);
  const { values } = parseFlags('run', argv, options);
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (!values.input) throw new UserError('--input is required - e.g. --input file:samples/speech.wav (see `earshot run --help`)');
  const log = loggingOptionsFrom(values);
  const opts: MeetingOptions = {
    input: values.input,
    ...(values.input.startsWith('page:') && { pageToken: pageToken(values['page-token-env']) }),
    participantTranscripts: values['participant-transcripts'] as MeetingOptions['participantTranscripts'],
    captureSilentAfter: values['capture-silent-after'],
    meetingId: values['meeting-id'] ?? (process.env.MEETING_ID || undefined),
    record: values.record,
    recordExisting: values['record-existing'] as RecordExisting | undefined,
    wav: !!values.wav,
    pace: !values['no-pace'],
    duration: values.duration,
    firstAudioTimeout: values['first-audio-timeout'],
    channels: int(values.channels, '--channels', 1, 2) as 1 | 2 | undefined,
    bitrate: int(values.bitrate, '--bitrate', 6000, 510000),
    conceal: values.conceal as MeetingOptions['conceal'],
    maxJitter: values['max-jitter'],
    priority: {
      nice: int(values['rt-nice'], '--rt-nice', -20, 19),
      cpus: values['rt-cpus'],
      policy: values['rt-policy'],
      strict: !!values['rt-strict'],
    },
    realtimeThread: values['realtime-thread'] as MeetingOptions['realtimeThread'],
    metrics: values.metrics,
    heartbeat: values.heartbeat,
    partnersRequired: values['partners-required'] as PartnersRequired | undefined,
    partnerCloseTimeout: values['partner-close-timeout'],
    partnerFlags: values,
    log: { sink: log.sink ?? 'stdout', level: log.level },
    test: {
      stallMain: stall(values['test-stall-main'], '--test-stall-main'),
      stallWorker: stall(values['test-stall-worker'], '--test-stall-worker'),
      frameTimesFile: values['bench-frame-times'],
      logChatter: log.chatter,
    },
  };
  // A signal during the start (a second or two: the worker, ffmpeg) stops the meeting as soon as it runs.
  const early = new AbortController();
  const onEarly = () => early.abort();
  process.once('SIGINT', onEarly).once('SIGTERM', onEarly);
  stop?.addEventListener('abort', onEarly, { once: true });
  let meeting: Meeting;
  try {
    meeting = await startMeeting({ ...opts, signal: early.signal });
  } finally {
    process.off('SIGINT', onEarly).off('SIGTERM', onEarly);
    stop?.removeEventListener('abort', onEarly);
  }
  const signals = onSignals(meeting);
  const onStop = () => void meeting.stop();
  stop?.addEventListener('abort', onStop, { once: true });
  const summary = await meeting.finished;
  stop?.removeEventListener('abort', onStop);
  signals.remove();
  report(summary, meeting);
  return exitStatus(summary);
}

function int(text: string | undefined, flag: string, min: number, max: number): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) throw new UserError(`${flag} "${text}" - use a whole number from ${min} to ${max}`);
  return n;
}

function stall(text: string | undefined, flag: string): { atMs: number; ms: number } | undefined {
  if (text === undefined) return undefined;
  const m = /^(\d+):(\d+)$/.exec(text);
  if (!m) throw new UserError(`${flag} "${text}" - use AT_MS:DURATION_MS, e.g. 2000:500`);
  return { atMs: Number(m[1]), ms: Number(m[2]) };
}

/**
 * The first signal stops the meeting in order; the second finishes the essentials (the recording
 * and the summary are final within about a second of the first) and drops the partners. An
 * exception that escapes (a bug) still finalises the recording before the process exits 70.
 */
function onSignals(meeting: Meeting): { remove(): void } {
  let count = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    count++;
    if (count === 1) {
      process.stderr.write(`earshot: ${signal}: finishing the recording and the summary; partners get up to their close timeout (signal again to drop them)\n`);
      void meeting.stop();
    } else {
      process.stderr.write(`earshot: ${signal} again: dropping the partners\n`);
      void meeting.stop({ now: true });
    }
  };
  const onCrash = (err: Error) => {
    process.stderr.write(`earshot: internal error: ${err?.stack ?? String(err)}\n`);
    process.exitCode = 70;
    setTimeout(() => process.exit(70), 3000).unref();
    void meeting.stop({ now: true }).then(() => process.exit(70));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('uncaughtException', onCrash);
  return {
    remove() {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      process.off('uncaughtException', onCrash);
    },
  };
}

/** The policy in the help text. */
export function exitStatus(s: RunSummary): number {
  if (s.outcome === 'failed' || s.recording?.error) return 1;
  return s.ok ? 0 : 3;
}

/** The human report, on stderr: what happened, where the files are, and what went wrong, last. */
function report(s: RunSummary, meeting: Meeting): void {
  const out: string[] = [];
  if (s.frames > 0 || s.outcome !== 'failed') {
    const where = s.recording ? `recorded in ${s.recording.dir}` : 'not recorded (no --record)';
    out.push(`earshot: meeting ${s.meetingId}: ${s.durationSec.toFixed(2)} s of audio, ${s.frames} frames, ${where}; ended: ${s.outcome.replace('_', ' ')}`);
    out.push(
      `  deadline misses ${s.deadlineMisses}, dropouts ${s.dropouts}, concealed ${s.concealedSamples} samples, late audio dropped ${s.lateAudioDroppedSamples} samples, egress overruns ${s.egressOverruns}`,
    );
    out.push(`  our lateness ms p50 ${s.latenessMs.p50} p99 ${s.latenessMs.p99} p99.9 ${s.latenessMs.p999} max ${s.latenessMs.max}`);
    out.push(
      `  source jitter ms p50 ${s.sourceJitterMs.p50} p99 ${s.sourceJitterMs.p99} max ${s.sourceJitterMs.max}; jitter buffer added ms p99 ${s.addedLatencyMs.p99} max ${s.addedLatencyMs.max}`,
    );
    const audio = s.threads.find((t) => t.role === 'audio' || t.role === 'main+audio');
    if (audio) out.push(`  audio thread tid ${audio.tid}: nice ${audio.nice}, policy ${audio.policy}, cpus ${audio.cpus}`);
    if (s.recording) out.push(`  files: ${s.recording.files.join(', ')}`);
    for (const p of s.partners) {
      out.push(p.outcome.delivered ? `  partner ${p.name}: delivered, ${p.audioSecSent.toFixed(2)} s sent, gaps ${p.gapsMs} ms` : `  partner ${p.name}: NEVER DELIVERED`);
    }
  }
  // The lines that need action come last, one each.
  for (const p of s.partners) if (!p.outcome.delivered) out.push(`earshot: ${p.outcome.reason ?? `partner ${p.name} never delivered - check its URL, key and status`}`);
  if (s.recording?.error) out.push(`earshot: recording incomplete: ${s.recording.error} - free space or pick another --record directory`);
  if (s.error) out.push(`earshot: ${s.error.message}`);
  if (meeting.summaryError) out.push(`earshot: ${meeting.summaryError}; the summary follows:\n${JSON.stringify(s)}`);
  process.stderr.write(out.join('\n') + '\n');
}

/** The page token from the environment variable the operator named (never from argv, where any user can read it). */
function pageToken(env: string | undefined): string {
  if (!env) throw new UserError('--input page: needs --page-token-env VAR - the token the capture script in the meeting page presents (set $VAR for earshot and give the bot the same)');
  const token = process.env[env];
  if (!token) throw new UserError(`--page-token-env ${env}: $${env} is not set - export the meeting's page token in it`);
  return token;
}
