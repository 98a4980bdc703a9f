/**
 * Frames to chunks in the partner's codec: PCM is downmixed and resampled to
 * the partner's rate, Opus packets (already encoded on the audio thread) are
 * taken as they are, and either leaves chunkMs of frames at a time: a chunk
 * ends with the frame that completes it, so it can be sent the moment the
 * main thread drains that frame (the resampler's look-ahead makes a segment's
 * first PCM chunk a few samples shorter instead of holding every chunk back
 * for a frame). Each chunk carries the timeline time of its first sample. A
 * gap in the frame sequence (frames that never reached this sink) ends the
 * current chunk, so every chunk is contiguous audio and the timeline jump is
 * exact.
 */
import { FRAME_MS, FRAME_SAMPLES, SAMPLE_RATE, frameTime, type Frame } from '../../realtime/frame';
import type { PartnerCodec } from '../status';
import { Resampler, downmix } from './resample';

export interface NewChunk {
  data: Buffer;
  /** Samples per channel at the partner's rate. */
  samples: number;
  /** Timeline seconds of its first sample. */
  t: number;
  /** Capture time (ns) of the frame that completed it. */
  captureNs: number;
  /** Opus: the size of each packet in `data`, in order. */
  packets?: number[];
}

export interface ChunkerOptions {
  codec: PartnerCodec;
  sourceChannels: number;
  chunkMs: number;
  /** Shortest chunk the partner takes (ms); a shorter PCM tail is padded with silence. */
  minChunkMs?: number;
}

export class Chunker {
  private readonly rate: number;
  private readonly ch: number;
  private readonly chunkSamples: number;
  /** Frames per chunk, and frames staged in the current one. */
  private readonly chunkFrames: number;
  private framesStaged = 0;
  private readonly resampler?: Resampler;
  private readonly mono?: Int16Array;
  private readonly staging: Int16Array;
  private stagingFill = 0;
  private expectedSeq = -1;
  /** Timeline time of output sample 0 of the current segment, and outputs staged since. */
  private segT0 = 0;
  private segOut = 0;
  private lastCaptureNs = 0;
  /** Opus: packets staged for the current chunk. */
  private packets: Buffer[] = [];
  private packetsT0 = 0;

  constructor(
    private readonly o: ChunkerOptions,
    private readonly emit: (c: NewChunk) => void,
  ) {
    const { codec } = o;
    this.rate = codec.sampleRate;
    this.ch = codec.channels;
    this.chunkSamples = Math.round((this.rate * o.chunkMs) / 1000);
    this.chunkFrames = Math.max(1, Math.round(o.chunkMs / FRAME_MS));
    // Room for a frame's output beyond a chunk: a rate that does not divide evenly never overflows it.
    const frameOut = Math.ceil((FRAME_SAMPLES * this.rate) / SAMPLE_RATE) + 1;
    this.staging = new Int16Array(codec.name === 'opus' ? 0 : (this.chunkSamples + frameOut) * this.ch);
    if (codec.name === 'linear16') {
      if (this.rate !== SAMPLE_RATE) this.resampler = new Resampler(SAMPLE_RATE, this.rate, this.ch);
      if (this.ch === 1 && o.sourceChannels > 1) this.mono = new Int16Array(FRAME_SAMPLES);
    }
  }

  write(frame: Frame): void {
    if (frame.seq !== this.expectedSeq) {
      // A jump in the timeline (first frame, or frames that never reached us):
      // finish the current segment and anchor a new one at this frame.
      this.flush();
      this.segT0 = frameTime(frame.seq);
      this.segOut = 0;
    }
    this.expectedSeq = frame.seq + 1;
    this.lastCaptureNs = frame.captureNs;
    if (this.o.codec.name === 'opus') return this.addPacket(frame);
    let pcm = frame.pcm;
    if (this.mono) pcm = downmix(pcm, this.o.sourceChannels, this.mono);
    this.stage(this.resampler ? this.resampler.process(pcm) : pcm);
    if (++this.framesStaged >= this.chunkFrames && this.stagingFill > 0) this.finishChunk();
  }

  /** Ends the current segment: what is staged leaves as a (shorter) chunk. */
  flush(): void {
    if (this.expectedSeq < 0) return;
    if (this.o.codec.name === 'opus') return this.finishPackets();
    if (this.resampler) {
      this.stage(this.resampler.flush());
      this.resampler.reset();
    }
    if (this.stagingFill > 0) this.finishChunk();
    this.framesStaged = 0;
  }

  private addPacket(frame: Frame): void {
    if (this.packets.length === 0) this.packetsT0 = frameTime(frame.seq);
    this.packets.push(Buffer.from(frame.opus));
    if (this.packets.length >= this.chunkFrames) this.finishPackets();
  }

  private finishPackets(): void {
    if (this.packets.length === 0) return;
    const packets = this.packets;
    this.packets = [];
    this.emit({
      data: Buffer.concat(packets),
      samples: packets.length * FRAME_SAMPLES,
      t: this.packetsT0,
      captureNs: this.lastCaptureNs,
      packets: packets.map((p) => p.length),
    });
  }

  private stage(samples: Int16Array): void {
    const ch = this.ch;
    let i = 0;
    while (i < samples.length) {
      const room = this.staging.length - this.stagingFill * ch;
      const n = Math.min(room, samples.length - i);
      this.staging.set(samples.subarray(i, i + n), this.stagingFill * ch);
      this.stagingFill += n / ch;
      i += n;
      if (this.stagingFill * ch === this.staging.length) this.finishChunk(); // full (never, at rates that divide evenly)
    }
  }

  private finishChunk(): void {
    let samples = this.stagingFill;
    const min = Math.ceil((this.rate * (this.o.minChunkMs ?? 0)) / 1000);
    if (samples < min) {
      this.staging.fill(0, samples * this.ch, min * this.ch);
      samples = min;
    }
    const bytes = samples * 2 * this.ch;
    const data = Buffer.allocUnsafe(bytes);
    data.set(new Uint8Array(this.staging.buffer, this.staging.byteOffset, bytes));
    const t = this.segT0 + this.segOut / this.rate;
    this.segOut += this.stagingFill;
    this.stagingFill = 0;
    this.framesStaged = 0;
    this.emit({ data, samples, t, captureNs: this.lastCaptureNs });
  }
}
