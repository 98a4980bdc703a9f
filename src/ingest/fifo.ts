/**
 * The named pipe between ffmpeg and the audio worker. We hold a read end of
 * our own until ingest is stopped: when the audio side finishes first
 * (--duration), ffmpeg must see a clean stop, not EPIPE and a "crash" to
 * restart from. The worker opens its own end and sizes the pipe.
 */
import { closeSync, constants, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { native } from '../native';

export class IngestFifo {
  private constructor(
    readonly path: string,
    private readonly dir: string,
    private readonly hold: number,
  ) {}

  static create(): IngestFifo {
    const dir = mkdtempSync(join(tmpdir(), 'earshot-'));
    const path = join(dir, 'ingest.pcm');
    native().mkfifo(path);
    return new IngestFifo(path, dir, openSync(path, constants.O_RDWR | constants.O_NONBLOCK));
  }

  remove(): void {
    closeSync(this.hold);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
