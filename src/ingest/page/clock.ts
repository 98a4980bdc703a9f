/**
 * One page's audio clock mapped onto the meeting timeline.
 *
 * All tracks of a page are tapped from one AudioContext, so one mapping serves them all and
 * keeps them aligned with each other to the sample: timeline sample = page frame + shift.
 * The shift comes from the page's stamps: a period's last sample leaves the audio thread at
 * (or, delayed by delivery, after) the page wall-clock time it carries, so the smallest
 * `pageMs - frameMs` seen is the page clock's reading of frame 0. Time probes (NTP-style,
 * the smallest round trip wins) give the page wall clock against ours. The audio clock may
 * drift against the wall clock (a sound card's crystal): the drift is measured over 5 s windows,
 * and when it has moved the audio more than STEP_MS away from where it belongs, the shift steps
 * (counted) rather than letting the participant slide along the timeline.
 */
import { SAMPLE_RATE } from '../../realtime/frame';

const WINDOW_MS = 5000;
/**
 * The first periods reach the page's worker late (queued while its port was being wired), so
 * for this long the placement follows the earliest phase seen, moving only earlier.
 */
const SETTLE_MS = 1000;
/** Misplacement tolerated before the shift steps: far above delivery jitter, well below a word. */
export const STEP_MS = 20;
const MS_PER_SAMPLE = 1000 / SAMPLE_RATE;

export class PageClock {
  /** Page wall clock minus ours (ms), and the round trip it was measured with. */
  private offsetMs = 0;
  private bestRttMs = Infinity;
  private shift: number | undefined;
  /** The page wall-clock reading of page frame 0 behind `shift` (what the page keeps for a restarted earshot). */
  private anchor = NaN;
  private windowStartMs = NaN;
  private settleUntilMs = NaN;
  private windowMinPhase = Infinity;
  private firstWindow: { frameMs: number; phase: number } | undefined;
  /** Times the shift was corrected (drift or a page clock jump). */
  steps = 0;
  /** Audio clock against the wall clock, parts per million (positive: audio runs slow), once measured. */
  driftPpm = 0;

  /** @param originMs our wall clock (performance.timeOrigin + now) at timeline sample 0 */
  constructor(private readonly originMs: number) {}

  /** A clock probe came back: we sent at `sentMs`, the page read `pageMs`, we got it at `recvMs`. */
  probe(sentMs: number, pageMs: number, recvMs: number): void {
    const rtt = recvMs - sentMs;
    if (rtt < 0 || rtt > this.bestRttMs) return;
    this.bestRttMs = rtt;
    this.offsetMs = pageMs - (sentMs + recvMs) / 2;
  }

  /** Where this page's audio clock sits, as the page wall clock's reading of frame 0 (NaN before any audio). */
  get anchorPageMs(): number {
    return this.anchor;
  }

  /**
   * A restarted earshot takes over the placement the page kept from before (the anchor), so
   * the audio it resends lands exactly where the first earshot would have put it.
   */
  adopt(anchorPageMs: number): void {
    this.place(anchorPageMs);
    this.settleUntilMs = -Infinity; // settled already
  }

  /** Page wall clock (ms) to seconds on the meeting timeline. */
  timelineSec(pageMs: number): number {
    return (pageMs - this.offsetMs - this.originMs) / 1000;
  }

  /** A period of `samples` starting at page frame `frame` left the page's audio thread at `pageMs`. */
  observe(frame: number, samples: number, pageMs: number): void {
    const frameMs = (frame + samples) * MS_PER_SAMPLE;
    const phase = pageMs - frameMs;
    if (this.shift === undefined) {
      this.place(phase);
      this.settleUntilMs = pageMs + SETTLE_MS;
    }
    if (Number.isNaN(this.windowStartMs)) this.windowStartMs = pageMs;
    if (phase < this.windowMinPhase) {
      this.windowMinPhase = phase;
      if (pageMs < this.settleUntilMs && this.estimate(phase) < this.shift!) this.place(phase);
    }
    if (pageMs - this.windowStartMs < WINDOW_MS) return;
    // A window closed: where does the audio belong now, and how fast is that moving?
    const best = this.windowMinPhase;
    if (!this.firstWindow) this.firstWindow = { frameMs, phase: best };
    else if (frameMs > this.firstWindow.frameMs) this.driftPpm = ((best - this.firstWindow.phase) / (frameMs - this.firstWindow.frameMs)) * 1e6;
    const want = this.estimate(best);
    if (Math.abs(want - this.shift!) * MS_PER_SAMPLE > STEP_MS) {
      this.place(best);
      this.steps++;
    }
    this.windowMinPhase = Infinity;
    this.windowStartMs = pageMs;
  }

  /** Timeline sample of page frame `frame` (call after observe). */
  position(frame: number): number {
    return frame + (this.shift ?? 0);
  }

  private estimate(phase: number): number {
    return Math.round((phase - this.offsetMs - this.originMs) / MS_PER_SAMPLE);
  }

  private place(phase: number): void {
    this.shift = this.estimate(phase);
    this.anchor = phase;
  }
}
