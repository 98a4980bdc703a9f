import type { Frame } from '../realtime/frame';
import type { MeetingEvent } from '../events';

/**
 * Where the main thread's fan-out sends every frame (best-effort domain).
 * `write` must not block: a slow sink buffers within a bound and counts what
 * it drops. `frame.pcm`/`frame.opus` are only valid during the call.
 */
export interface FrameSink {
  readonly name: string;
  /**
   * Optional: the ms of audio this sink takes at once at no cost to its output (a partner's
   * chunk). The main thread drains the ring once per the shortest of these, capped (run/meeting).
   */
  readonly batchMs?: number;
  write(frame: Frame): void;
  /** Optional: events on the meeting timeline, as they are detected. */
  event?(e: MeetingEvent): void;
  /** Flush and finalise; called once at the end of the run. */
  close(): Promise<void>;
}
