/**
 * transcripts.jsonl in the recording folder: one line per final (and, with
 * --partner-interim, interim) result, on the meeting timeline. Shared by all
 * partners of a run; bounded: if the disk stalls, lines are dropped and counted.
 */
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';

import type { TranscriptSegment } from './status';

export type TranscriptLine = TranscriptSegment;

const MAX_PENDING_BYTES = 4 << 20;

export class TranscriptWriter {
  private readonly out: WriteStream;
  written = 0;
  dropped = 0;

  constructor(readonly path: string) {
    mkdirSync(join(path, '..'), { recursive: true });
    this.out = createWriteStream(path, { flags: 'a' });
    this.out.on('error', () => {
      /* counted below as drops; the run goes on */
    });
  }

  static inDir(dir: string): TranscriptWriter {
    return new TranscriptWriter(join(dir, 'transcripts.jsonl'));
  }

  write(line: TranscriptLine): void {
    if (this.out.destroyed || this.out.writableLength > MAX_PENDING_BYTES) {
      this.dropped++;
      return;
    }
    this.out.write(JSON.stringify(line) + '\n');
    this.written++;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.out.destroyed) return resolve();
      this.out.end(() => resolve());
    });
  }
}
