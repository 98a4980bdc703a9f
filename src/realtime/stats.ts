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
  DeadlineMisses, // deadline_misses_total
  EgressOverruns,
  InputOverruns, // input that ran ahead of the clock and was dropped
  LatenessMaxUs,
  InputBytes,
  LastInputFrameNs, // monotonic time of the last frame of real (not concealed) input, for /healthz
  Count,
}

/**
 * Lateness histogram with ~1% resolution from 1 µs to 1000 s: linear below
 * 100 µs, then 900 buckets per decade (three significant digits).
 */
const LINEAR = 100;
const PER_DECADE = 900;
const DECADES = 8;
export const LATENESS_BUCKETS = LINEAR + PER_DECADE * DECADES;

export class RtStats {
  readonly v: Float64Array;
  readonly hist: Float64Array;

  static create(): RtStats {
    return new RtStats(new SharedArrayBuffer((Stat.Count + LATENESS_BUCKETS) * 8));
  }

  constructor(readonly buffer: SharedArrayBuffer) {
    this.v = new Float64Array(buffer, 0, Stat.Count);
    this.hist = new Float64Array(buffer, Stat.Count * 8, LATENESS_BUCKETS);
  }

  recordLateness(us: number): void {
    const v = us < 0 ? 0 : Math.floor(us);
    let i: number;
    if (v < LINEAR) i = v;
    else {
      const d = Math.min(Math.floor(Math.log10(v)), DECADES + 1);
      const m = Math.min(Math.floor(v / 10 ** (d - 2)), 999);
      i = LINEAR + (d - 2) * PER_DECADE + (m - 100);
    }
    this.hist[Math.min(i, LATENESS_BUCKETS - 1)]! += 1;
    if (v > this.v[Stat.LatenessMaxUs]!) this.v[Stat.LatenessMaxUs] = v;
  }

  /** Lateness (µs) at quantile q in [0, 1], from the histogram (lower bucket edge). */
  latenessQuantileUs(q: number): number {
    let total = 0;
    for (let i = 0; i < LATENESS_BUCKETS; i++) total += this.hist[i]!;
    if (total === 0) return 0;
    const target = Math.max(1, Math.ceil(q * total));
    let seen = 0;
    for (let i = 0; i < LATENESS_BUCKETS; i++) {
      seen += this.hist[i]!;
      if (seen >= target) return bucketLowerUs(i);
    }
    return this.v[Stat.LatenessMaxUs]!;
  }

  /** Count of lateness samples at or below `us` (for Prometheus-style cumulative buckets). */
  countAtOrBelowUs(us: number): number {
    let n = 0;
    for (let i = 0; i < LATENESS_BUCKETS && bucketLowerUs(i) <= us; i++) n += this.hist[i]!;
    return n;
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
