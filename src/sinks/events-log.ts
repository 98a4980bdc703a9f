/**
 * events.jsonl: one MeetingEvent per line (DESIGN.md's shape), appended
 * asynchronously. The file exists (empty) from the start, so "no events" and
 * "no recording" are told apart.
 */
import type { MeetingEvent } from '../events';
import { AsyncFileWriter } from './file-writer';

export class EventsLog {
  private readonly writer: AsyncFileWriter;
  private position = 0;
  count = 0;

  constructor(path: string) {
    this.writer = new AsyncFileWriter(path);
  }

  get bytesWritten(): number {
    return this.writer.bytesWritten;
  }

  get pendingBytes(): number {
    return this.writer.pendingBytes;
  }

  get error(): Error | null {
    return this.writer.error;
  }

  append(e: MeetingEvent): void {
    // Events are rare and matter more than audio bytes: they are never dropped for space.
    const line = Buffer.from(JSON.stringify(e) + '\n', 'utf8');
    this.writer.write(line, this.position);
    this.position += line.length;
    this.count++;
  }

  close(): Promise<void> {
    return this.writer.close();
  }
}
