/**
 * Where a meeting's start goes: milestones on the process's monotonic clock (performance.now(),
 * ms since the process started), reported in the summary as ms after startMeeting() was called,
 * and when that was after the process started (module loading, for a process's first meeting).
 * A fleet pays the start of every meeting; this says which part of it is ours and which is
 * ffmpeg's (its own start and first packet: ingest spawned -> first audio).
 */

export type StartupMark = 'workerReady' | 'ingestSpawned' | 'firstAudio' | 'firstFrame';

export interface StartupTimes {
  /** startMeeting() was called this long after the process started. */
  processMs: number;
  /** After startMeeting(): the audio worker prioritised and waiting for input. */
  workerReadyMs: number | null;
  /** ffmpeg spawned (none for stdin input). */
  ingestSpawnedMs: number | null;
  /** The first frame's audio arrived at the audio worker (ffmpeg's first packet, for a file or a device). */
  firstAudioMs: number | null;
  /** The first frame, encoded, handed to the recorder and the partners. */
  firstFrameMs: number | null;
}

const round = (ms: number) => Math.round(ms * 10) / 10;

export class StartupClock {
  private readonly t0 = performance.now();
  private readonly marks = new Map<StartupMark, number>();

  /** The first time only: a restarted ingest is not the meeting's start. */
  mark(m: StartupMark, at = performance.now()): void {
    if (!this.marks.has(m)) this.marks.set(m, at);
  }

  /** A mark taken on the monotonic ns clock (process.hrtime, CLOCK_MONOTONIC) that the audio thread stamps frames with. */
  markMonotonic(m: StartupMark, ns: number): void {
    this.mark(m, performance.now() - (Number(process.hrtime.bigint()) - ns) / 1e6);
  }

  times(): StartupTimes {
    const at = (m: StartupMark) => {
      const t = this.marks.get(m);
      return t === undefined ? null : round(t - this.t0);
    };
    return {
      processMs: round(this.t0),
      workerReadyMs: at('workerReady'),
      ingestSpawnedMs: at('ingestSpawned'),
      firstAudioMs: at('firstAudio'),
      firstFrameMs: at('firstFrame'),
    };
  }
}
