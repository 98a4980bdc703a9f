/**
 * The audio worker's own view of its ingest process (ffmpeg): a pidfd, which poll(2) sees
 * readable the moment the process exits. A clean exit (status 0) is the end of the source,
 * known without waiting for the main thread, which may be busy: a late word from it would be
 * taken for missing input and concealed, a dropout that never happened. Any other exit is a
 * crash, which the main thread answers with a restart (or with the end, for a source that
 * cannot restart).
 */
import { native } from '../native';
import { Control } from './protocol';

export class IngestExit {
  private watched = 0;
  /** The pidfd to poll, or -1. */
  fd = -1;

  constructor(private readonly control: Int32Array) {}

  /** Follows the pid the main thread published for the running ffmpeg (it changes at each restart). */
  follow(): void {
    const pid = Atomics.load(this.control, Control.IngestPid);
    if (pid === this.watched) return;
    this.close();
    this.watched = pid;
    if (pid <= 0) return;
    try {
      this.fd = native().pidfdOpen(pid);
    } catch {
      // Already gone and reaped: the main thread's word is the only one left.
    }
  }

  /** After poll saw the pidfd readable: true when the process exited cleanly. */
  cleanEnd(): boolean {
    let status = -2;
    try {
      status = native().childExit(this.fd);
    } catch {
      // waitid(P_PIDFD) needs Linux 5.4 (pidfd_open came in 5.3): the main thread's word decides.
    }
    this.close(); // readable for good: watch no more until the next ffmpeg
    return status === 0;
  }

  close(): void {
    if (this.fd >= 0) native().closeFd(this.fd);
    this.fd = -1;
  }
}
