/**
 * Where a meeting's audio comes from, as the meeting's control plane drives it: the meeting page's
 * participants (`page:`, the participants' pipeline) or one source through ffmpeg or stdin (the
 * audio pipeline), and the watchdog on a live capture device that delivers only digital silence.
 * The participants' side (its WebSocket receiver, per-participant partners) loads only for a page
 * input: a meeting from ffmpeg or stdin never pays its modules' start-up and memory.
 */
import type { EarshotError } from '../errors';
import { SilenceWatchdog, silenceSink } from '../ingest/silence';
import { moduleLogger, type Logging } from '../logging';
import type { PartnerContext } from '../partners';
import type { PagePipeline } from '../participants/pipeline';
import type { FrameSink } from '../sinks/sink';
import type { MeetingEvents } from './events';
import type { TranscriptSegment } from './partner-types';
import { AudioPipeline } from './pipeline';
import type { ResolvedOptions } from './resolve';
import type { StartupClock } from './startup';

export interface SourceDeps {
  o: ResolvedOptions;
  logging: Logging;
  events: MeetingEvents;
  recordDir?: string;
  partnerContext(): PartnerContext;
  onTranscript(t: TranscriptSegment): void;
  /** A component is down (`why`) or back (undefined), for the meeting's health. */
  onProblem(component: string, why: string | undefined): void;
  onFatal(err: EarshotError): void;
  onFirstFrame(): void;
  /** Start-up milestones (the audio pipeline marks them; the page pipeline has no ffmpeg nor worker start of its own to mark). */
  startup?: StartupClock;
}

export function createPipeline(d: SourceDeps): AudioPipeline | PagePipeline {
  const o = d.o;
  if (o.input.kind === 'page') {
    const { PagePipeline } = require('../participants/pipeline') as typeof import('../participants/pipeline');
    const t = o.participantTranscripts;
    return new PagePipeline({
      input: o.input,
      bitrate: o.bitrate,
      conceal: o.conceal,
      maxJitterMs: o.maxJitterMs,
      sched: o.sched,
      strict: o.strict,
      durationMs: o.durationMs,
      log: moduleLogger(d.logging, 'ingest'),
      events: d.events,
      recordDir: d.recordDir,
      silentAfterMs: o.captureSilentAfterMs,
      token: o.pageToken,
      // Transcripts per speaker: the partners once per participant, or once with a channel each (else they get the mix).
      ...(t.mode !== 'mix' &&
        o.partners.length && {
          transcripts: new (require('../participants/partners') as typeof import('../participants/partners')).ParticipantPartners(
            // each: transcripts beside each participant's recording; multichannel: the meeting's transcripts.jsonl (its own onTranscript).
            { ...d.partnerContext(), specs: o.partners, recordDir: d.recordDir, ...(t.mode === 'each' && { onTranscript: d.onTranscript }) },
            t.mode === 'multichannel' ? { slots: t.slots, log: moduleLogger(d.logging, 'partners') } : undefined,
          ),
        }),
      onSilence: (silent) => d.onProblem('capture', silent.length ? `capture silent: ${silent.join(', ')}` : undefined),
    });
  }
  return new AudioPipeline({
    input: o.input,
    channels: o.channels,
    loop: { bitrate: o.bitrate, conceal: o.conceal, maxJitterMs: o.maxJitterMs },
    sched: o.sched,
    strict: o.strict,
    realtimeThread: o.realtimeThread,
    durationMs: o.durationMs,
    ingestLog: moduleLogger(d.logging, 'ingest'),
    onEvent: d.events.report,
    onFatal: d.onFatal,
    onFirstFrame: d.onFirstFrame,
    startup: d.startup,
    test: o.test,
  });
}

/** The partners that stream the mixed meeting (none when the participants are heard apart). */
export function mixPartners(o: ResolvedOptions): ResolvedOptions['partners'] {
  return o.input.kind === 'page' && o.participantTranscripts.mode !== 'mix' ? [] : o.partners;
}

/**
 * A live capture device (a Pulse monitor, an ALSA device) that delivers only digital silence for
 * `captureSilentAfter` is capture_silent, and the meeting degraded until sound comes back.
 */
export function captureWatchdog(d: Pick<SourceDeps, 'o' | 'events' | 'onProblem'>, timelineSec: () => number): FrameSink | undefined {
  const o = d.o;
  if (o.input.kind !== 'pulse' && o.input.kind !== 'alsa') return undefined;
  const watchdog = new SilenceWatchdog({
    afterMs: o.captureSilentAfterMs,
    report: d.events.report,
    timelineSec: () => timelineSec() - o.captureSilentAfterMs / 1000,
    onChange: (silent) => d.onProblem('capture', silent.length ? `capture silent: ${o.input.shown} delivers only digital silence` : undefined),
  }).start();
  const sink = silenceSink(watchdog);
  return { ...sink, close: async () => (await sink.close(), watchdog.stop()) };
}

/** A page input's pipeline (the participants'), told apart without loading its module. */
export function isPage(p: AudioPipeline | PagePipeline): p is PagePipeline {
  return 'page' in p;
}
