/**
 * Real-time counters in shared memory: written only by the audio worker
 * (plain stores, no locks, no allocation), read by the main thread for the
 * summary, the metrics and the heartbeat. Names follow W3C webrtc-stats where
 * one fits.
 */
export const enum Stat {
  Frames,
  ConcealedSamples, // webrtc-stats concealedSamples
  ConcealmentEvents, // webrtc-stats concealmentEvents: one per gap, so also the dropout count
  TotalSamplesDuration, // webrtc-stats totalSamplesDuration (seconds)
  DeadlineMisses, // deadline_misses_total: frames our own thread handled more than a frame period late
  EgressOverruns,
  LateAudioDropped, // samples of late audio dropped where concealment already filled their time
  LatenessMaxUs,
  InputBytes,
  LastInputFrameNs, // monotonic time of the last frame of real (not concealed) input, for /healthz
  Count,
}

/**
 * Histograms with ~1% resolution from 1 µs to 1000 s: linear below 100 µs,
 * then 900 buckets per decade (three significant digits).
 */
const LINEAR = 100;
const PER_DECADE = 900;
const DECADES = 8;
export const LATENESS_BUCKETS = LINEAR + PER_DECADE * DECADES;

/** One histogram over a slice of shared memory; `max` is tracked exactly. */
export class Histogram {
  constructor(
    readonly counts: Float64Array,
    private readonly maxSlot: Float64Array,
    private readonly maxIndex: number,
  ) {}

  record(us: number): void {
    const v = us < 0 ? 0 : Math.floor(us);
    let i: number;
    if (v < LINEAR) i = v;
    else {
      const d = Math.min(Math.floor(Math.log10(v)), DECADES + 1);
      const m = Math.min(Math.floor(v / 10 ** (d - 2)), 999);
      i = LINEAR + (d - 2) * PER_DECADE + (m - 100);
    }
    this.counts[Math.min(i, LATENESS_BUCKETS - 1)]! += 1;
    if (v > this.maxSlot[this.maxIndex]!) this.maxSlot[this.maxIndex] = v;
  }

  get maxUs(): number {
    return this.maxSlot[this.maxIndex]!;
  }

  /** Value (µs) at quantile q in [0, 1] (lower bucket edge). */
  quantileUs(q: number): number {
    let total = 0;
    for (let i = 0; i < LATENESS_BUCKETS; i++) total += this.counts[i]!;
    if (total === 0) return 0;
    const target = Math.max(1, Math.ceil(q * total));
    let seen = 0;
    for (let i = 0; i < LATENESS_BUCKETS; i++) {
      seen += this.counts[i]!;
      if (seen >= target) return bucketLowerUs(i);
    }
    return this.maxUs;
  }

  /** Count of samples at or below `us` (for Prometheus-style cumulative buckets). */
  countAtOrBelowUs(us: number): number {
    let n = 0;
    for (let i = 0; i < LATENESS_BUCKETS && bucketLowerUs(i) <= us; i++) n += this.counts[i]!;
    return n;
  }

  /** ms figures for summaries: p50, p99, p99.9 and max. */
  summaryMs(): { p50: number; p99: number; p999: number; max: number } {
    const ms = (us: number) => Math.round(us) / 1000;
    return { p50: ms(this.quantileUs(0.5)), p99: ms(this.quantileUs(0.99)), p999: ms(this.quantileUs(0.999)), max: ms(this.maxUs) };
  }
}

/** Extra maxima kept beside the histograms (the lateness max is Stat.LatenessMaxUs). */
const enum Max {
  SourceJitter,
  Held,
  Count,
}

export class RtStats {
  readonly v: Float64Array;
  /** Our lateness: how late our own thread handled each frame (µs). */
  readonly lateness: Histogram;
  /** The source's delivery jitter: how late each frame's input arrived against the source's clock (µs). */
  readonly sourceJitter: Histogram;
  /** Added latency: how long each frame of real audio waited in the jitter buffer (µs). */
  readonly held: Histogram;

  static create(): RtStats {
    return new RtStats(new SharedArrayBuffer((Stat.Count + Max.Count + 3 * LATENESS_BUCKETS) * 8));
  }

  constructor(readonly buffer: SharedArrayBuffer) {
    this.v = new Float64Array(buffer, 0, Stat.Count);
    const maxima = new Float64Array(buffer, Stat.Count * 8, Max.Count);
    const hist = (k: number) => new Float64Array(buffer, (Stat.Count + Max.Count + k * LATENESS_BUCKETS) * 8, LATENESS_BUCKETS);
    this.lateness = new Histogram(hist(0), this.v, Stat.LatenessMaxUs);
    this.sourceJitter = new Histogram(hist(1), maxima, Max.SourceJitter);
    this.held = new Histogram(hist(2), maxima, Max.Held);
  }

  /** The lateness histogram's buckets (metrics read them directly). */
  get hist(): Float64Array {
    return this.lateness.counts;
  }

  recordLateness(us: number): void {
    this.lateness.record(us);
  }

  latenessQuantileUs(q: number): number {
    return this.lateness.quantileUs(q);
  }

  countAtOrBelowUs(us: number): number {
    return this.lateness.countAtOrBelowUs(us);
  }

  get(s: Stat): number {
    return this.v[s]!;
  }
}

function bucketLowerUs(i: number): number {
  if (i < LINEAR) return i;
  const k = i - LINEAR;
  const d = Math.floor(k / PER_DECADE) + 2;
  return (100 + (k % PER_DECADE)) * 10 ** (d - 2);
}
