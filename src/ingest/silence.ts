/**
 * The capture watchdog: a source that should be delivering audio - a live, unmuted participant's
 * track, or the meeting's single input such as a Pulse monitor - and has delivered nothing, or
 * only digital silence, for `afterMs` is a `capture_silent` event and makes the meeting
 * unhealthy until sound comes back. It sits on any source's frames: the owner feeds it the PCM
 * it receives (`sound`), says when a source is expected to deliver (`watch`) or not (`rest`:
 * muted, left), and it checks on its own timer. A silent talker is not digital silence: a
 * microphone's noise floor is hundreds of times above the one-LSB threshold.
 */
import type { MeetingEvent } from '../events';
import { CONCEALED, type Frame } from '../realtime/frame';
import type { FrameSink } from '../sinks/sink';

/** |sample| at or below this is digital silence (one LSB: a float path rounding zero). */
const SILENCE_LSB = 1;
const CHECK_EVERY_MS = 100;

export interface SilenceWatchdogOptions {
  afterMs: number;
  report(e: MeetingEvent): void;
  /** Our wall clock (ms) to seconds on the meeting timeline. */
  timelineSec(ms: number): number;
  /** Told when the set of silent sources changes (health). */
  onChange?(silent: string[]): void;
  now?: () => number;
}

interface Source {
  participant?: string;
  expected: boolean;
  lastSoundMs: number;
  silent: boolean;
}

export class SilenceWatchdog {
  private readonly sources = new Map<string, Source>();
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  /** capture_silent episodes so far. */
  episodes = 0;

  constructor(private readonly o: SilenceWatchdogOptions) {
    this.now = o.now ?? (() => performance.timeOrigin + performance.now());
  }

  start(): this {
    this.timer ??= setInterval(() => this.check(), CHECK_EVERY_MS).unref();
    return this;
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** `id` should deliver audio from now on (joined, unmuted); silence is timed from now. */
  watch(id: string, participant?: string): void {
    const s = this.sources.get(id);
    if (s?.expected) return;
    this.sources.set(id, { participant, expected: true, lastSoundMs: this.now(), silent: false });
    if (s?.silent) this.changed();
  }

  /** `id` is not expected to deliver (muted, left, ended). */
  rest(id: string): void {
    const s = this.sources.get(id);
    if (!s) return;
    s.expected = false;
    if (s.silent) ((s.silent = false), this.changed());
  }

  /** `id` delivered these samples. */
  sound(id: string, pcm: Int16Array): void {
    const s = this.sources.get(id);
    if (!s) return;
    for (let i = 0; i < pcm.length; i++) {
      const v = pcm[i]!;
      if (v > SILENCE_LSB || v < -SILENCE_LSB) {
        s.lastSoundMs = this.now();
        if (s.silent) ((s.silent = false), this.changed());
        return;
      }
    }
  }

  /** The sources silent right now (their ids). */
  silent(): string[] {
    return [...this.sources].filter(([, s]) => s.silent).map(([id]) => id);
  }

  check(): void {
    const now = this.now();
    for (const [id, s] of this.sources) {
      if (!s.expected || s.silent || now - s.lastSoundMs < this.o.afterMs) continue;
      s.silent = true;
      this.episodes++;
      this.o.report({
        t: Math.max(0, this.o.timelineSec(s.lastSoundMs)),
        kind: 'capture_silent',
        durationMs: Math.round(now - s.lastSoundMs),
        frames: 0,
        ...(s.participant !== undefined && { participant: s.participant }),
        detail: { source: id, afterMs: this.o.afterMs },
      });
      this.changed();
    }
  }

  private changed(): void {
    this.o.onChange?.(this.silent());
  }
}

/**
 * The watchdog on a stream of frames - the meeting's single input (a Pulse monitor, a file, stdin)
 * or any other: a sink that hands it every real frame (concealment is not sound) and watches
 * `id` from the first frame on. The caller starts and stops the watchdog.
 */
export function silenceSink(watchdog: SilenceWatchdog, id = 'input'): FrameSink {
  let watching = false;
  return {
    name: 'capture-watchdog',
    write(f: Frame): void {
      if (!watching) ((watching = true), watchdog.watch(id));
      if (!(f.flags & CONCEALED)) watchdog.sound(id, f.pcm);
    },
    close: async () => watchdog.rest(id),
  };
}
