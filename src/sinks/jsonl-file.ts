/**
 * A JSON Lines file of the recording (events.jsonl, transcripts.jsonl): one
 * object per line, appended asynchronously. The file exists (empty) from the
 * start, so "none" and "not recorded" are told apart. Bounded when asked: if
 * the disk falls behind by `maxPendingBytes`, lines are dropped and counted
 * (events are rare and never dropped; transcripts may be).
 */
import { AsyncFileWriter } from './file-writer';

export class JsonLinesFile {
  private readonly writer: AsyncFileWriter;
  private position = 0;
  count = 0;
  dropped = 0;

  constructor(
    path: string,
    onError?: (err: NodeJS.ErrnoException) => void,
    private readonly maxPendingBytes = Infinity,
  ) {
    this.writer = new AsyncFileWriter(path, onError);
  }

  get bytesWritten(): number {
    return this.writer.bytesWritten;
  }

  get error(): Error | null {
    return this.writer.error;
  }

  append(obj: object): void {
    if (this.writer.pendingBytes > this.maxPendingBytes) {
      this.dropped++;
      return;
    }
    const line = Buffer.from(JSON.stringify(obj) + '\n', 'utf8');
    this.writer.write(line, this.position);
    this.position += line.length;
    this.count++;
  }

  close(): Promise<void> {
    return this.writer.close();
  }
}
