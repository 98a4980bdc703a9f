/**
 * A waveform overview computed while streaming: min/max per bucket over all
 * channels, in a fixed number of buckets whatever the length. The length is
 * not known up front (ffmpeg streams), so buckets start one frame wide and
 * pairs merge whenever the buffer fills: memory is constant, and the final
 * resolution is within 2x of what a known length would have given.
 */
export interface EnvelopeData {
  min: Float32Array;
  max: Float32Array;
  /** Frames per bucket (the last bucket may be partial). */
  framesPerBucket: number;
  sampleRate: number;
}

export class Envelope {
  private readonly min: Float32Array;
  private readonly max: Float32Array;
  private count = 0;
  private per = 1;
  private fill = 0;
  private curMin = Infinity;
  private curMax = -Infinity;

  constructor(
    private readonly sampleRate: number,
    private readonly capacity = 2048,
  ) {
    this.min = new Float32Array(capacity);
    this.max = new Float32Array(capacity);
  }

  push(block: Float32Array[]): void {
    const n = block[0]?.length ?? 0;
    let i = 0;
    while (i < n) {
      const k = Math.min(this.per - this.fill, n - i);
      let lo = this.curMin;
      let hi = this.curMax;
      for (const ch of block) {
        for (let j = i; j < i + k; j++) {
          const v = ch[j]!;
          if (v < lo) lo = v;
          if (v > hi) hi = v;
        }
      }
      this.curMin = lo;
      this.curMax = hi;
      this.fill += k;
      i += k;
      if (this.fill === this.per) this.close();
    }
  }

  private close(): void {
    this.min[this.count] = this.curMin;
    this.max[this.count] = this.curMax;
    this.count++;
    this.fill = 0;
    this.curMin = Infinity;
    this.curMax = -Infinity;
    // Halve eagerly, when every bucket is complete, so that merged pairs are all full width.
    if (this.count === this.capacity) this.halve();
  }

  private halve(): void {
    const half = this.capacity >> 1;
    for (let b = 0; b < half; b++) {
      this.min[b] = Math.min(this.min[2 * b]!, this.min[2 * b + 1]!);
      this.max[b] = Math.max(this.max[2 * b]!, this.max[2 * b + 1]!);
    }
    this.count = half;
    this.per *= 2;
  }

  finish(): EnvelopeData {
    if (this.fill > 0) {
      // A trailing partial bucket (count < capacity: close() halves eagerly).
      this.min[this.count] = this.curMin;
      this.max[this.count] = this.curMax;
      this.count++;
      this.fill = 0;
    }
    return {
      min: this.min.slice(0, this.count),
      max: this.max.slice(0, this.count),
      framesPerBucket: this.per,
      sampleRate: this.sampleRate,
    };
  }
}
