/**
 * The pipe between ffmpeg and the audio worker. It is made as a named pipe,
 * opened, and its name removed at once: from then on it is reached only
 * through our descriptor's /proc/<pid>/fd/<n> link, which ffmpeg (at every
 * restart) and the worker open like a path. Nothing is left on disk, even
 * when the process is killed. We hold the read-write end until ingest is
 * stopped: when the audio side finishes first (--duration), ffmpeg must see a
 * clean stop, not EPIPE and a "crash" to restart from.
 */
import { closeSync, constants, mkdtempSync, openSync, rmdirSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { native } from '../native';

export class IngestFifo {
  private constructor(
    /** The path ffmpeg and the worker open: /proc/<pid>/fd/<n>. */
    readonly path: string,
    private readonly hold: number,
  ) {}

  static create(): IngestFifo {
    const dir = mkdtempSync(join(tmpdir(), 'earshot-'));
    const named = join(dir, 'ingest.pcm');
    try {
      native().mkfifo(named);
      const hold = openSync(named, constants.O_RDWR | constants.O_NONBLOCK);
      return new IngestFifo(`/proc/${process.pid}/fd/${hold}`, hold);
    } finally {
      try {
        unlinkSync(named);
      } catch {
        // never made
      }
      rmdirSync(dir);
    }
  }

  remove(): void {
    closeSync(this.hold);
  }
}
