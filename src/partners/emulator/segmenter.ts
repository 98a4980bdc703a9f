/**
 * The emulator cannot transcribe, so it finds speech by energy: 10 ms windows
 * above a threshold, closed after `hangoverMs` of quiet. Deterministic and
 * streaming, so a test can run the same detector over the whole recording
 * and compare the partner's (mapped) times with the truth.
 */
export interface Segment {
  start: number;
  end: number;
}

export interface SegmenterOptions {
  thresholdDb?: number;
  hangoverMs?: number;
  minSpeechMs?: number;
}

export class EnergySegmenter {
  private readonly win: number;
  private readonly threshold: number;
  private readonly hangoverWins: number;
  private readonly minWins: number;
  private acc = 0;
  private accN = 0;
  private winIndex = 0;
  private speechStart = -1;
  private lastLoud = -1;
  /** Seconds of audio consumed. */
  get time(): number {
    return (this.winIndex * this.win + this.accN) / this.rate;
  }

  constructor(
    readonly rate: number,
    opts: SegmenterOptions = {},
  ) {
    this.win = Math.round(rate / 100);
    const db = opts.thresholdDb ?? -40;
    this.threshold = (10 ** (db / 20) * 32768) ** 2;
    this.hangoverWins = Math.round((opts.hangoverMs ?? 300) / 10);
    this.minWins = Math.round((opts.minSpeechMs ?? 60) / 10);
  }

  /** True while inside a segment (speech seen, hangover not yet elapsed). */
  get inSpeech(): boolean {
    return this.speechStart >= 0;
  }

  /** Start (seconds) of the open segment. */
  get currentStart(): number {
    return (this.speechStart * this.win) / this.rate;
  }

  /** Feeds mono samples; calls back at segment starts and ends (times in seconds). */
  push(samples: Int16Array, onStart: (t: number) => void, onEnd: (s: Segment) => void): void {
    const w = this.win;
    for (let i = 0; i < samples.length; i++) {
      const v = samples[i]!;
      this.acc += v * v;
      if (++this.accN < w) continue;
      const loud = this.acc / w > this.threshold;
      const k = this.winIndex++;
      this.acc = 0;
      this.accN = 0;
      if (loud) {
        if (this.speechStart < 0) {
          this.speechStart = k;
          onStart((k * w) / this.rate);
        }
        this.lastLoud = k;
      } else if (this.speechStart >= 0 && k - this.lastLoud >= this.hangoverWins) {
        const seg = { start: (this.speechStart * w) / this.rate, end: ((this.lastLoud + 1) * w) / this.rate };
        const long = this.lastLoud + 1 - this.speechStart >= this.minWins;
        this.speechStart = -1;
        if (long) onEnd(seg);
      }
    }
  }

  /** Ends the current segment at the end of the audio, if one is open. */
  flush(onEnd: (s: Segment) => void): void {
    if (this.speechStart < 0) return;
    const w = this.win;
    const seg = { start: (this.speechStart * w) / this.rate, end: ((this.lastLoud + 1) * w) / this.rate };
    const long = this.lastLoud + 1 - this.speechStart >= this.minWins;
    this.speechStart = -1;
    if (long) onEnd(seg);
  }
}

/** Whole-recording segments (ground truth for tests). */
export function segmentAll(samples: Int16Array, rate: number, opts?: SegmenterOptions): Segment[] {
  const seg = new EnergySegmenter(rate, opts);
  const out: Segment[] = [];
  seg.push(samples, () => {}, (s) => out.push(s));
  seg.flush((s) => out.push(s));
  return out;
}

/** Pseudo-words over a segment: ~300 ms each, evenly spaced. */
export function wordsFor(start: number, end: number): { word: string; start: number; end: number }[] {
  const n = Math.max(1, Math.round((end - start) / 0.3));
  const step = (end - start) / n;
  const round = (x: number) => Math.round(x * 1000) / 1000;
  return Array.from({ length: n }, (_, i) => ({
    word: `w${Math.round((start + i * step) * 100)}`,
    start: round(start + i * step),
    end: round(start + (i + 1) * step),
  }));
}
