/**
 * Streaming WAV (PCM s16le, 48 kHz) that stays valid if the process dies:
 * the header's sizes are rewritten on every `flush()` (the recorder calls it
 * each second) and at `end()`. Frames are copied into reused 1 s chunks, so
 * the per-frame cost is one copy and no allocation.
 */
import { FRAME_SAMPLES, SAMPLE_RATE } from '../realtime/frame';
import type { AsyncFileWriter } from './file-writer';

export const WAV_HEADER_BYTES = 44;
/** RIFF sizes are 32-bit: past ~6 h of stereo the header says "as much as fits" and the data goes on. */
const MAX_DATA_BYTES = 0xffffffff - (WAV_HEADER_BYTES - 8);
const FRAMES_PER_CHUNK = 50;

export function wavHeader(channels: number, dataBytes: number): Buffer {
  const data = Math.min(dataBytes, MAX_DATA_BYTES);
  const h = Buffer.alloc(WAV_HEADER_BYTES);
  h.write('RIFF', 0, 'latin1');
  h.writeUInt32LE(WAV_HEADER_BYTES - 8 + data, 4);
  h.write('WAVE', 8, 'latin1');
  h.write('fmt ', 12, 'latin1');
  h.writeUInt32LE(16, 16); // fmt chunk size
  h.writeUInt16LE(1, 20); // PCM
  h.writeUInt16LE(channels, 22);
  h.writeUInt32LE(SAMPLE_RATE, 24);
  h.writeUInt32LE(SAMPLE_RATE * channels * 2, 28); // byte rate
  h.writeUInt16LE(channels * 2, 32); // block align
  h.writeUInt16LE(16, 34); // bits per sample
  h.write('data', 36, 'latin1');
  h.writeUInt32LE(data, 40);
  return h;
}

interface Chunk {
  bytes: Uint8Array;
  samples: Int16Array;
}

export class WavStream {
  private readonly frameBytes: number;
  private readonly free: Chunk[] = [];
  private chunk: Chunk | null = null;
  /** File offset where the staged chunk starts, and how much of it is filled. */
  private chunkPosition = WAV_HEADER_BYTES;
  private chunkFill = 0;
  /** End of the audio already handed to the writer: what the header may claim. */
  private submittedEnd = WAV_HEADER_BYTES;
  private headerDataBytes = -1;

  constructor(
    private readonly writer: AsyncFileWriter,
    private readonly channels: number,
  ) {
    this.frameBytes = FRAME_SAMPLES * channels * 2;
    this.writeHeader();
  }

  /** Bytes copied here but not yet handed to the writer. */
  get stagedBytes(): number {
    return this.chunkFill;
  }

  /** Copies one frame of interleaved s16le (host order; Linux targets are little-endian). */
  writeFrame(pcm: Int16Array): void {
    const chunk = this.chunk ?? (this.chunk = this.takeChunk());
    chunk.samples.set(pcm.subarray(0, FRAME_SAMPLES * this.channels), this.chunkFill / 2);
    this.chunkFill += this.frameBytes;
    if (this.chunkFill === chunk.bytes.length) this.submitChunk();
  }

  /** Keeps the timeline through `frames` missing frames: zeros in the staged chunk, or a hole in the file. */
  skipFrames(frames: number): void {
    const bytes = frames * this.frameBytes;
    const chunk = this.chunk;
    if (chunk && this.chunkFill + bytes < chunk.bytes.length) {
      chunk.bytes.fill(0, this.chunkFill, this.chunkFill + bytes);
      this.chunkFill += bytes;
      return;
    }
    this.submitChunk();
    // A hole reads back as zeros and costs no buffer; the next write extends the file over it.
    this.chunkPosition += bytes;
  }

  /** Hands staged audio to the writer and rewrites the header to cover it. */
  flush(): void {
    this.submitChunk();
    this.writeHeader();
  }

  private writeHeader(): void {
    const dataBytes = this.submittedEnd - WAV_HEADER_BYTES;
    if (dataBytes === this.headerDataBytes) return;
    this.headerDataBytes = dataBytes;
    this.writer.write(wavHeader(this.channels, dataBytes), 0);
  }

  private submitChunk(): void {
    const chunk = this.chunk;
    if (!chunk || this.chunkFill === 0) return;
    this.chunk = null;
    this.writer.write(chunk.bytes.subarray(0, this.chunkFill), this.chunkPosition, () => this.free.push(chunk));
    this.chunkPosition += this.chunkFill;
    this.submittedEnd = this.chunkPosition;
    this.chunkFill = 0;
  }

  private takeChunk(): Chunk {
    const reused = this.free.pop();
    if (reused) return reused;
    const buffer = new ArrayBuffer(FRAMES_PER_CHUNK * this.frameBytes);
    return { bytes: new Uint8Array(buffer), samples: new Int16Array(buffer) };
  }
}
