/**
 * The boundary around the sinks: every frame goes to every sink still in
 * service, and a sink that throws is taken out of service for the rest of
 * the meeting (one log line, one `component_error` event, counted), so one
 * broken sink costs its own output and never the others' or the meeting.
 */
import type { MeetingEvent } from '../events';
import type { Frame } from '../realtime/frame';
import { FRAME_MS, frameTime } from '../realtime/frame';
import type { FrameSink } from '../sinks/sink';

export class FanOut {
  private live: FrameSink[];
  /** Sinks taken out of service, with why. */
  readonly failed = new Map<string, string>();

  constructor(
    sinks: FrameSink[],
    private readonly report: (e: MeetingEvent) => void,
  ) {
    this.live = [...sinks];
  }

  /** Frames per drain of the ring: the shortest batch a sink asks for, at most `maxMs`. */
  drainFrames(maxMs: number): number {
    const ms = Math.min(maxMs, ...this.live.map((s) => s.batchMs ?? maxMs));
    return Math.max(1, Math.floor(ms / FRAME_MS));
  }

  write = (frame: Frame): void => {
    for (const sink of this.live) {
      try {
        sink.write(frame);
      } catch (err) {
        this.fail(sink, err, frameTime(frame.seq));
      }
    }
  };

  private fail(sink: FrameSink, err: unknown, t: number): void {
    const message = err instanceof Error ? err.message : String(err);
    this.live = this.live.filter((s) => s !== sink);
    this.failed.set(sink.name, message);
    this.report({ t, kind: 'component_error', durationMs: 0, frames: 0, detail: { component: sink.name, error: message } });
  }
}
