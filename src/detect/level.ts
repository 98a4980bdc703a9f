/**
 * The recent level of a channel, kept so that every event's score can be its defect's level
 * in dB relative to the audio just before it (the 20 ms before its start): one scale for
 * every kind, the one the bench's "audible set" is defined on. Mean squares of 1 ms blocks in
 * a ring of about 30 s; constant memory whatever the file's length.
 */

/** Block length of the history. */
const BLOCK_MS = 1;
/** Blocks kept (~33 s): an event reported later than this after its start falls back to its own level. */
const RING = 32768;
/** The reference: this much audio before the event's start. */
export const REF_MS = 20;
/** Reference floor: 1 LSB of 16-bit audio (a defect in digital silence is measured against that). */
const FLOOR = 1 / 32768;

export class LevelHistory {
  private readonly block: number;
  private readonly ring = new Float32Array(RING);
  private done = 0; // complete blocks so far
  private acc = 0;
  private fill = 0;

  constructor(sampleRate: number) {
    this.block = Math.max(1, Math.round((BLOCK_MS * sampleRate) / 1000));
  }

  /** Takes absolute samples [from, to) of `x` (whose index 0 is absolute `base`). */
  push(x: Float32Array, base: number, from: number, to: number): void {
    const B = this.block;
    let acc = this.acc;
    let fill = this.fill;
    for (let i = from - base, end = to - base; i < end; i++) {
      acc += x[i] * x[i];
      if (++fill === B) {
        this.ring[this.done++ & (RING - 1)] = acc / B;
        acc = 0;
        fill = 0;
      }
    }
    this.acc = acc;
    this.fill = fill;
  }

  /** RMS of the REF_MS before absolute sample `start` (whole blocks), floored; undefined when no longer held. */
  rmsBefore(start: number): number | undefined {
    const end = Math.floor(start / this.block); // the block holding `start` is left out
    const n = REF_MS / BLOCK_MS;
    const from = Math.max(0, end - n);
    if (end > this.done || from < this.done - RING) return undefined;
    if (end <= from) return FLOOR;
    let s = 0;
    for (let k = from; k < end; k++) s += this.ring[k & (RING - 1)];
    return Math.max(FLOOR, Math.sqrt(s / (end - from)));
  }
}

/** A defect of linear level `level` against a reference RMS, in dB (rounded to 0.1). */
export function levelDb(level: number, ref: number): number {
  return Math.round(200 * Math.log10(Math.max(level, FLOOR / 100) / Math.max(ref, FLOOR))) / 10;
}
