/**
 * The gap detector's main-thread half: turns the flags and sequence numbers
 * of the frames drained from the ring into events on the meeting timeline.
 * Runs of frames with the same problem become one event, emitted when the
 * run ends (or at flush), so a 2 s stall is one event, not a hundred.
 */
import type { MeetingEvent } from '../events';
import { CONCEALED, DEADLINE_MISSED, DISCONTINUITY_BEFORE, FRAME_MS, type Frame, frameTime, SAMPLE_RATE } from '../realtime/frame';

interface Run {
  start: number;
  frames: number;
  maxLatenessUs: number;
}

export class GapDetector {
  private expected = 0;
  private readonly open = new Map<'deadline_miss' | 'dropout', Run>();

  /** `firstSeq`: where this stream starts on the timeline (a participant joining mid-meeting). */
  constructor(
    private readonly report: (e: MeetingEvent) => void,
    firstSeq = 0,
  ) {
    this.expected = firstSeq;
  }

  frame(f: Frame): void {
    if (f.seq !== this.expected) {
      // The worker found the ring full and dropped these frames rather than wait.
      const lost = f.seq - this.expected;
      this.report({ t: frameTime(this.expected), kind: 'egress_overrun', durationMs: lost * FRAME_MS, frames: lost });
    }
    if (f.flags & DISCONTINUITY_BEFORE && f.droppedBefore) {
      // Late audio arrived for time already concealed: the overlap was dropped to keep the timeline on the wall clock.
      const samples = f.droppedBefore;
      this.report({ t: frameTime(f.seq), kind: 'late_audio_dropped', durationMs: round(samples / (SAMPLE_RATE / 1000)), frames: 0, detail: { samples } });
    }
    this.expected = f.seq + 1;
    this.track('dropout', (f.flags & CONCEALED) !== 0, f);
    this.track('deadline_miss', (f.flags & DEADLINE_MISSED) !== 0, f);
  }

  /** Emits the runs still open (end of the meeting). */
  flush(): void {
    for (const kind of [...this.open.keys()]) this.close(kind);
  }

  private track(kind: 'deadline_miss' | 'dropout', hit: boolean, f: Frame): void {
    const run = this.open.get(kind);
    if (hit) {
      if (run) {
        run.frames++;
        run.maxLatenessUs = Math.max(run.maxLatenessUs, f.latenessUs);
      } else this.open.set(kind, { start: f.seq, frames: 1, maxLatenessUs: f.latenessUs });
    } else if (run) this.close(kind);
  }

  private close(kind: 'deadline_miss' | 'dropout'): void {
    const run = this.open.get(kind)!;
    this.open.delete(kind);
    const detail = kind === 'deadline_miss' ? { maxLatenessMs: round(run.maxLatenessUs / 1000) } : undefined;
    this.report({ t: frameTime(run.start), kind, durationMs: run.frames * FRAME_MS, frames: run.frames, ...(detail && { detail }) });
  }

}

const round = (x: number) => Math.round(x * 1000) / 1000;
