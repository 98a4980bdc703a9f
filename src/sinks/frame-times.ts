/**
 * Per-frame capture times, for bench:realtime only (`earshot run --bench-frame-times FILE`): one
 * line per frame that had input, `seq captureNs` (CLOCK_MONOTONIC, the clock the bench's C
 * pacer stamps its writes with), written at the end. The bench subtracts each frame's write
 * time from its capture time: the audio thread's own wake-up latency, apart from its
 * source's jitter.
 */
import { writeFile } from 'node:fs/promises';
import { CONCEALED, type Frame } from '../realtime/frame';
import type { FrameSink } from './sink';

export class FrameTimesSink implements FrameSink {
  readonly name = 'frame-times';
  private readonly times: number[] = []; // seq, captureNs, seq, captureNs, ...

  constructor(private readonly path: string) {}

  write(frame: Frame): void {
    if (frame.flags & CONCEALED) return; // no input arrived: nothing to time
    this.times.push(frame.seq, frame.captureNs);
  }

  async close(): Promise<void> {
    let text = '';
    for (let i = 0; i < this.times.length; i += 2) text += `${this.times[i]} ${this.times[i + 1]}\n`;
    await writeFile(this.path, text);
  }
}
