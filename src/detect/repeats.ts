/**
 * Repeats: a block played twice, exactly or almost exactly (a stuck or replayed buffer), at a
 * lag of 2.5-40 ms. Every 8-sample window is hashed (coarsely quantised, so that near-exact
 * copies still collide) and looked up among the windows of the last 40 ms; a hit is verified
 * sample by sample and followed until the copy ends. Natural audio never matches itself to
 * within a few LSB for milliseconds; exactly periodic synthetic tones do, but for far longer
 * than any stuck buffer, so runs longer than MAX_REPEAT_PERIODS lags are left alone.
 */
import type { RawEvent } from './events';

const MIN_LAG_MS = 2.5;
const MAX_LAG_MS = 40;
/** Samples per hashed window. */
const WINDOW = 8;
/** Hash quantisation: 1/2048 of full scale (16 LSB at 16 bits), coarse enough for near-exact copies to collide. */
const QSCALE = 2048;
/** Windows quieter than 2 quantisation steps per sample on average (about -60 dBFS) are not hashed: silence repeats trivially. */
const GATE_STEPS = 2;
/** "Almost exactly": a sample matches its lagged twin within 2 LSB of 16-bit audio plus 0.2 % of its value (-54 dB). */
const TOL_ABS = 2 / 32768;
const TOL_REL = 0.002;
/** A run of matches survives this many isolated mismatches in a row (a codec's rounding). */
const MAX_MISSES = 2;
/** A repeat covers at least 80 % of its lag (a replayed block is one lag long) and at least MIN_LAG_MS. */
const MIN_RUN_FRACTION = 0.8;
/** Longer than this many lags is a periodic sound (a synthetic tone), not a stuck buffer. */
const MAX_REPEAT_PERIODS = 6;
/** The repeated block must be audible: RMS of at least -50 dBFS. */
const MIN_RMS_DB = -50;

export class RepeatTracker {
  private readonly minLag: number;
  private readonly maxLag: number;
  /** Last position (mod 2^32, as int32) whose window hashed to each slot: small enough to stay in cache. */
  private readonly table: Int32Array;
  /** The full 32-bit hash stored in each slot: a slot shared by another window is not verified. */
  private readonly tags: Int32Array;
  private readonly mask: number;
  private readonly minRms: number;
  private readonly ring = new Int32Array(RING);
  private hash = 0;
  private gate = 0;
  private lag = 0;
  private runStart = -1;
  private runEnd = -1;
  private misses = 0;
  private started = -1;

  constructor(sampleRate: number, sensitivity: number) {
    this.minLag = Math.max(WINDOW, Math.round((MIN_LAG_MS * sampleRate) / 1000));
    this.maxLag = Math.round((MAX_LAG_MS * sampleRate) / 1000);
    let size = 1024;
    while (size < 4 * this.maxLag) size <<= 1;
    // Empty slots hold the most negative int32: its distance to any position is out of lag range.
    this.table = new Int32Array(size).fill(-0x80000000);
    this.tags = new Int32Array(size);
    this.mask = size - 1;
    this.minRms = 10 ** (MIN_RMS_DB / 20) / sensitivity;
  }

  /** How far back this tracker reads behind the newest sample. */
  static lookback(sampleRate: number): number {
    return 2 * Math.round((MAX_LAG_MS * sampleRate) / 1000) + WINDOW + 16;
  }

  scan(x: Float32Array, base: number, from: number, to: number, out: RawEvent[]): void {
    if (this.started < 0) this.started = from;
    const B = 0x01000193;
    const BK = powHash(B, WINDOW);
    const gateMin = GATE_STEPS * WINDOW;
    // The hot loop keeps the tracker's state in locals (written back below and around calls
    // that read it): V8 does not keep object fields in registers across typed-array stores.
    const ring = this.ring;
    const table = this.table;
    const tags = this.tags;
    const mask = this.mask;
    const minLag = this.minLag;
    const maxLag = this.maxLag;
    const firstFull = this.started + WINDOW - 1;
    let hash = this.hash;
    let gate = this.gate;
    let running = this.runStart >= 0;
    for (let n = from; n < to; n++) {
      const i = n - base;
      // Rounded quantisation (offset keeps the truncation a floor for |x| < 32); the ring
      // remembers each window's outgoing value instead of re-quantising it.
      const q = ((x[i] * QSCALE + 65536.5) | 0) - 65536;
      const slotQ = n & (RING - 1);
      const old = ring[slotQ];
      ring[slotQ] = q;
      hash = (Math.imul(hash, B) + q - Math.imul(old, BK)) | 0;
      gate += (q < 0 ? -q : q) - (old < 0 ? -old : old);
      if (running) {
        const L = this.lag;
        const ref = x[i - L];
        const d = x[i] - ref;
        if ((d < 0 ? -d : d) <= TOL_ABS + TOL_REL * (ref < 0 ? -ref : ref)) {
          this.runEnd = n + 1;
          this.misses = 0;
        } else if (++this.misses > MAX_MISSES) {
          this.settle(x, base, out);
          running = false;
        }
      }
      if (n < firstFull || gate < gateMin) continue;
      let h = hash;
      h ^= h >>> 15;
      h = Math.imul(h, 0x2c1b3c6d);
      h ^= h >>> 12;
      const slot = h & mask;
      if (!running && tags[slot] === h) {
        const L = ((n | 0) - table[slot]) | 0;
        if (L >= minLag && L <= maxLag && n - L >= this.started && this.verify(x, i, L)) {
          this.open(x, base, n, L);
          running = true;
        }
      }
      table[slot] = n | 0;
      tags[slot] = h;
    }
    this.hash = hash;
    this.gate = gate;
  }

  finish(x: Float32Array, base: number, out: RawEvent[]): void {
    if (this.runStart >= 0) this.settle(x, base, out);
  }

  private verify(x: Float32Array, i: number, L: number): boolean {
    for (let k = 0; k < WINDOW; k++) {
      const ref = x[i - k - L];
      const d = x[i - k] - ref;
      if ((d < 0 ? -d : d) > TOL_ABS + TOL_REL * (ref < 0 ? -ref : ref)) return false;
    }
    return true;
  }

  /** Starts following lag L from the verified window ending at n, extended backwards over matching samples. */
  private open(x: Float32Array, base: number, n: number, L: number): void {
    let s = n - WINDOW + 1;
    const limit = Math.max(base + L, this.started + L, n - 2 * L);
    while (s - 1 >= limit) {
      const ref = x[s - 1 - L - base];
      const d = x[s - 1 - base] - ref;
      if ((d < 0 ? -d : d) > TOL_ABS + TOL_REL * (ref < 0 ? -ref : ref)) break;
      s--;
    }
    this.lag = L;
    this.runStart = s;
    this.runEnd = n + 1;
    this.misses = 0;
  }

  private settle(x: Float32Array, base: number, out: RawEvent[]): void {
    const L = this.lag;
    const len = this.runEnd - this.runStart;
    this.runStart = -1;
    if (len < Math.max(this.minLag, MIN_RUN_FRACTION * L) || len > MAX_REPEAT_PERIODS * L) return;
    let s = 0;
    for (let n = this.runEnd - len; n < this.runEnd; n++) s += x[n - base] * x[n - base];
    const level = Math.sqrt(s / len);
    if (level < this.minRms) return;
    out.push({ kind: 'repeat', start: this.runEnd - len, end: this.runEnd, level });
  }
}

/** Ring of the last WINDOW quantised samples: the slot of sample n holds sample n - WINDOW (WINDOW is a power of two). */
const RING = WINDOW;

function powHash(b: number, k: number): number {
  let r = 1;
  for (let i = 0; i < k; i++) r = Math.imul(r, b);
  return r;
}
