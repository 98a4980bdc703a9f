/**
 * Offline analysis of one channel. Samples are floats in [-1, 1), pushed in blocks of any
 * size; all state is bounded (a window of a few hundred milliseconds plus fixed tables), so
 * archives stream through in constant memory. Each detector has its own module:
 * dropouts, clipping, repeats, and clicks/splices (impulses); this file runs them over a
 * shared sliding window and settles overlaps between their findings.
 */
import { ClipTracker, CLIP_LEVEL, LOSSY_MIN_CLIP_MS } from './clipping';
import { DipTracker } from './dips';
import { DropoutTracker, SILENCE_LEVEL } from './dropouts';
import type { RawEvent } from './events';
import { ImpulseDetector } from './impulses';
import { LevelHistory, levelDb } from './level';
import { RepeatTracker } from './repeats';
import { ReplayTracker } from './replays';

export type DetectKind = 'click' | 'dropout' | 'discontinuity' | 'repeat' | 'clipping';

export interface DetectEvent {
  kind: DetectKind;
  startSec: number;
  endSec: number;
  channel: number;
  /** The defect's level in dB relative to the audio's RMS over the 20 ms before it (see level.ts). */
  score: number;
}

export interface DetectOptions {
  /** Multiplies every detection threshold's strictness: >1 finds more, <1 fewer. Default 1. */
  sensitivity?: number;
  /** Bits of the source's integer samples (for full-scale and digital-silence tests); 0 for float. */
  bitsPerSample?: number;
  /** Decoded from a lossy codec (Opus, Vorbis, MP3, AAC...): holes are looked for by level too (dips.ts). */
  lossy?: boolean;
}

/** Samples copied in per step, whatever the caller's block size (bounds the window; large enough that sliding the kept history is rare). */
const CHUNK = 32768;
/**
 * Clicks and splices at the edges of a dropout, a repeated block or a clipped burst are that
 * event's own edges, not separate events: they are dropped within this margin of one.
 */
const EDGE_MARGIN_MS = 3;
/**
 * Coded audio: a hole found by level (dips.ts) this close to a repeat or a clipped burst is that
 * event's smeared edge. Bench (Opus copies, tuning part, --quick): false dropouts in the injected
 * copies 94 -> 38 (37 had been at repeats, 25 at clipping), found 549 -> 545 of 731; 3 ms: 45 and 546.
 */
const LOSSY_EXPLAINED_MS = 10;

export class ChannelAnalyzer {
  private readonly keep: number;
  private readonly x: Float32Array;
  private readonly ef: Float32Array;
  private base = 0;
  private len = 0;
  private readonly dropouts: DropoutTracker;
  private readonly dips: DipTracker | undefined;
  private readonly shallowDips: DipTracker | undefined;
  private readonly shallowFound: RawEvent[] = [];
  private shallowReferenced = 0;
  private readonly replays: ReplayTracker | undefined;
  private readonly dipFound: RawEvent[] = [];
  private dipReferenced = 0;
  private readonly clips: ClipTracker;
  private readonly repeats: RepeatTracker;
  private readonly impulses: ImpulseDetector;
  private readonly found: RawEvent[] = [];
  private readonly impulseFound: RawEvent[] = [];
  private readonly history: LevelHistory;
  private referenced = 0;
  private impulseReferenced = 0;
  private finished = false;

  constructor(
    readonly sampleRate: number,
    readonly channel: number,
    readonly opts: DetectOptions = {},
  ) {
    if (!(sampleRate > 0)) throw new RangeError(`sample rate must be positive, got ${sampleRate}`);
    const sens = opts.sensitivity ?? 1;
    if (!(sens > 0)) throw new RangeError(`sensitivity must be positive, got ${sens}`);
    const bits = opts.bitsPerSample ?? 0;
    // Integer sources: silence is within 1.5 LSB of 16 bits or one LSB of their own, whichever is
    // larger (8-bit audio's quietest step is far above 16-bit's); full scale is their top codes.
    const lsb = bits > 0 ? 2 ** (1 - bits) : 0;
    const silence = Math.max(SILENCE_LEVEL, 1.01 * lsb);
    const clip = bits > 0 && bits <= 16 ? Math.min(CLIP_LEVEL, 1 - 2.01 * lsb) : CLIP_LEVEL;
    this.dropouts = new DropoutTracker(sampleRate, silence, sens);
    this.dips = opts.lossy ? new DipTracker(sampleRate, sens) : undefined;
    this.shallowDips = opts.lossy ? new DipTracker(sampleRate, sens, true) : undefined;
    this.replays = opts.lossy ? new ReplayTracker(sampleRate, sens) : undefined;
    this.clips = new ClipTracker(sampleRate, clip, opts.lossy ? LOSSY_MIN_CLIP_MS : 0);
    this.repeats = new RepeatTracker(sampleRate, sens);
    this.impulses = new ImpulseDetector(sampleRate, sens, !!opts.lossy);
    this.history = new LevelHistory(sampleRate);
    this.keep = Math.max(RepeatTracker.lookback(sampleRate), ReplayTracker.lookback(sampleRate), this.impulses.lookback()) + 64;
    const cap = this.keep + CHUNK;
    this.x = new Float32Array(cap);
    this.ef = new Float32Array(cap);
  }

  push(block: Float32Array): void {
    if (this.finished) throw new Error('push() after finish()');
    for (let off = 0; off < block.length; off += CHUNK) {
      const chunk = block.subarray(off, Math.min(block.length, off + CHUNK));
      this.makeRoom(chunk.length);
      const from = this.base + this.len;
      this.x.set(chunk, this.len);
      this.len += chunk.length;
      const to = this.base + this.len;
      this.history.push(this.x, this.base, from, to);
      this.dropouts.scan(this.x, this.base, from, to, this.found);
      this.dips?.scan(this.x, this.base, from, to, this.dipFound);
      this.shallowDips?.scan(this.x, this.base, from, to, this.shallowFound);
      this.replays?.scan(this.x, this.base, from, to, this.dipFound);
      this.clips.scan(this.x, this.base, from, to, this.found);
      this.repeats.scan(this.x, this.base, from, to, this.found);
      this.impulses.advance(this.x, this.ef, this.base, to, this.impulseFound);
      this.reference();
    }
  }

  /** Gives each event found since the last call its reference level, while the history still holds it. */
  private reference(): void {
    for (; this.referenced < this.found.length; this.referenced++) {
      const e = this.found[this.referenced];
      e.ref = this.history.rmsBefore(e.start) ?? e.level;
    }
    for (; this.dipReferenced < this.dipFound.length; this.dipReferenced++) {
      const e = this.dipFound[this.dipReferenced];
      e.ref = this.history.rmsBefore(e.start) ?? e.level;
    }
    for (; this.shallowReferenced < this.shallowFound.length; this.shallowReferenced++) {
      const e = this.shallowFound[this.shallowReferenced];
      e.ref = this.history.rmsBefore(e.start) ?? e.level;
    }
    for (; this.impulseReferenced < this.impulseFound.length; this.impulseReferenced++) {
      const e = this.impulseFound[this.impulseReferenced];
      e.ref = this.history.rmsBefore(e.start) ?? e.level;
    }
  }

  finish(): DetectEvent[] {
    if (!this.finished) {
      this.finished = true;
      const total = this.base + this.len;
      // Clicks and splices are not looked for in the last ~20 ms (their test needs the audio after them).
      this.impulses.advance(this.x, this.ef, this.base, total, this.impulseFound, true);
      this.dropouts.finish(this.x, this.base, total, this.found);
      this.dips?.finish(this.dipFound);
      this.shallowDips?.finish(this.shallowFound);
      this.replays?.finish(this.dipFound);
      this.clips.finish(total, this.found);
      this.repeats.finish(this.x, this.base, this.found);
      this.reference();
    }
    return this.settle();
  }

  /** Drops clicks/splices that are the edges of a bigger event, then sorts and converts to seconds. */
  private settle(): DetectEvent[] {
    const fs = this.sampleRate;
    const margin = Math.round((EDGE_MARGIN_MS * fs) / 1000);
    // A hole of exact silence or an exact copy is the exact trackers' (exact edges): the lossy
    // tests' finding of the same event is dropped, and they report only the others.
    const exact = this.found.filter((e) => e.kind === 'dropout' || e.kind === 'repeat');
    // A shallow hole (dips.ts's second tracker) that a deep one covers is the same hole.
    const deep = this.dipFound.filter((e) => e.kind === 'dropout');
    for (const d of this.shallowFound) if (!deep.some((e) => e.start <= d.end + margin && e.end + margin >= d.start)) this.dipFound.push(d);
    // In coded audio a replayed frame's joins and the end of a clipped burst dip in level as the
    // codec smears them: a hole found by level within LOSSY_EXPLAINED_MS of one is that event's.
    // (Not near an exact copy: in decoded audio those are runs of digital silence, the holes' own.)
    const near = Math.round((LOSSY_EXPLAINED_MS * fs) / 1000);
    const explains = [...this.found.filter((e) => e.kind === 'clipping'), ...this.dipFound.filter((e) => e.kind === 'repeat')];
    for (const d of this.dipFound) {
      if (exact.some((e) => e.kind === d.kind && e.start <= d.end + margin && e.end + margin >= d.start)) continue;
      if (d.kind === 'dropout' && explains.some((e) => e.start <= d.end + near && e.end + near >= d.start)) continue;
      this.found.push(d);
    }
    // A repeat inside a clipped burst is its flat tops matching each other: the clipping says it.
    const clipped = this.found.filter((e) => e.kind === 'clipping');
    const big = this.found
      .filter((e) => e.kind !== 'repeat' || !clipped.some((c) => c.start - margin <= e.start && c.end + margin >= e.end))
      .sort((p, q) => p.start - q.start);
    const kept: RawEvent[] = [...big];
    let j = 0;
    for (const e of this.impulseFound) {
      while (j < big.length && big[j].end + margin < e.start) j++;
      let covered = false;
      for (let k = j; k < big.length && big[k].start - margin <= e.end; k++) {
        if (big[k].end + margin >= e.start && !clippedPeak(big[k], e)) { covered = true; break; }
      }
      if (!covered) kept.push(e);
    }
    kept.sort((p, q) => p.start - q.start);
    return kept.map((e) => ({
      kind: e.kind,
      startSec: e.start / fs,
      endSec: e.end / fs,
      channel: this.channel,
      score: levelDb(e.level, e.ref ?? e.level),
    }));
  }

  private makeRoom(n: number): void {
    if (this.len + n <= this.x.length) return;
    const shift = this.len - this.keep;
    for (const a of [this.x, this.ef]) a.copyWithin(0, shift, this.len);
    this.base += shift;
    this.len = this.keep;
  }
}

/**
 * A clipped run inside a click's own samples is the click's peak reaching full scale: it does
 * not hide the click (PCM tuning part: 9 audible clicks of oracle z >= 40 were lost so).
 */
function clippedPeak(big: RawEvent, e: RawEvent): boolean {
  return e.kind === 'click' && big.kind === 'clipping' && big.start >= e.start && big.end <= e.end;
}
