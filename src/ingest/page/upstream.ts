/**
 * Losses upstream of the capture, from WebRTC's own receive statistics: a track's `inbound-rtp`
 * counters arrive every second; what the browser concealed (`concealedSamples`), lost
 * (`packetsLost`) or time-stretched in that second becomes `upstream_loss` events for the
 * participant. Where the page's 20 ms probe located a gap (no packet played out), each gap is
 * an event at its place on the timeline, carrying the figures of the seconds it spans (held
 * while the gap is still open); otherwise one event covers the second, placed at its end minus
 * the concealed time and marked `located: false`.
 */
import type { MeetingEvent } from '../../events';
import type { PageClock } from './clock';
import type { TrackStats } from './server';

/** Concealment below this in a second (10 ms at 48 kHz) is NetEq's routine smoothing, not a loss. */
const MIN_CONCEALED = 480;
const RATE = 48_000;
/**
 * A probe's gap starts at the last packet played out; that packet's audio (20 ms) plays after
 * it, and reaches the capture tap through Web Audio's input buffering. With 20 ms here the
 * events landed 26-42 ms early against the recordings (Chromium 156, test/participants-page):
 * the tap sees a packet's audio about 55 ms after the receiver stamps it.
 */
const GAP_START_LAG_MS = 55;

const COUNTERS = ['concealedSamples', 'silentConcealedSamples', 'concealmentEvents', 'packetsLost', 'packetsReceived', 'insertedSamplesForDeceleration', 'removedSamplesForAcceleration'] as const;

export class UpstreamLoss {
  private readonly last = new Map<string, Record<string, number>>();
  /** Figures of seconds whose gap is still open, per track. */
  private readonly held = new Map<string, Record<string, number>>();
  /** Per participant: samples concealed upstream, over the meeting. */
  readonly concealedSamples = new Map<string, number>();

  constructor(private readonly report: (e: MeetingEvent) => void) {}

  stats(participant: string, key: string, m: TrackStats, clock: PageClock): void {
    const prev = this.last.get(key);
    this.last.set(key, m.stats);
    if (!prev) return; // counters since the track started: its first packets' set-up, not a loss in the meeting
    const delta: Record<string, number> = {};
    const held = this.held.get(key);
    this.held.delete(key);
    for (const k of COUNTERS) delta[k] = (m.stats[k] ?? 0) - (prev[k] ?? 0) + (held?.[k] ?? 0);
    const emitted = (m.stats.jitterBufferEmittedCount ?? 0) - (prev.jitterBufferEmittedCount ?? 0);
    if (emitted > 0) delta.jitterBufferDelayMs = Math.round((((m.stats.jitterBufferDelay ?? 0) - (prev.jitterBufferDelay ?? 0)) / emitted) * 1000);
    const concealed = delta.concealedSamples!;
    const fresh = concealed - (held?.concealedSamples ?? 0);
    if (fresh > 0) this.concealedSamples.set(participant, (this.concealedSamples.get(participant) ?? 0) + fresh);
    if (m.openGap !== null && !m.gaps.length) {
      this.held.set(key, delta);
      return;
    }
    if (concealed < MIN_CONCEALED && delta.packetsLost! <= 0 && !m.gaps.length) return;
    const detail = { ...delta, located: m.gaps.length > 0 };
    if (!m.gaps.length) {
      const durationMs = Math.round((concealed / RATE) * 1000);
      this.report({ t: round(clock.timelineSec(m.pageMs) - durationMs / 1000), kind: 'upstream_loss', durationMs, frames: Math.round(durationMs / 20), participant, detail });
      return;
    }
    m.gaps.forEach(([start, end], i) => {
      const durationMs = Math.round(end - start);
      this.report({ t: round(clock.timelineSec(start + GAP_START_LAG_MS)), kind: 'upstream_loss', durationMs, frames: Math.round(durationMs / 20), participant, detail: i === 0 ? detail : { located: true } });
    });
  }
}

const round = (x: number) => Math.round(x * 1000) / 1000;
