/**
 * Ground truth for the detector benchmark: events injected with a fixed seed into real
 * recordings, each placed where the recording is active (a click in digital silence is not
 * an event anyone hears) and at least MIN_GAP_MS from the previous one, so that one-to-one
 * matching is unambiguous.
 */
import type { DetectKind } from '../src/detect/analyze';
import { rms } from '../src/detect/stats';
import { mulberry32 } from '../src/util/prng';
import { clickOracleZ, spliceOracleZ } from './detect-oracle';

export interface TruthEvent {
  kind: DetectKind;
  /** What was done, for the per-variant breakdown (e.g. `dropout-grid`, `inserted-silence`). */
  variant: string;
  start: number; // sample index in the injected signal
  end: number;
  /** Clicks: peak level in dB re the local RMS; splices: milliseconds lost (for breakdowns). */
  size?: number;
  /** Clicks and splices: matched-filter SNR against the clean source's own model (see detect-oracle). */
  oracleZ?: number;
  /** Splices: where the cut starts in the clean source (the injected signal's `start` is where it lands). */
  srcAt?: number;
  /** Clicks: the pulse's peak in dB re the RMS of the 20 ms before it (the audible-set rule). */
  levelDb?: number;
  /**
   * In the audible set (the targets' set, defined from the injected event and the clean
   * source only): clicks at or above 0 dB re the 20 ms before, splices with oracle z >= 20,
   * every dropout, inserted silence, repeat and clipping.
   */
  audible: boolean;
}

/** The audible set's thresholds (issue 16's decision). */
export const AUDIBLE_CLICK_DB = 0;
export const AUDIBLE_SPLICE_Z = 20;

/** The benchmark's fixed seed: every bench that injects events injects the same ones. */
export const SEED = 20240611;

/** Each recording's own seed, from SEED and its name (so adding a recording moves no other's events). */
export function seedFor(name: string): number {
  let h = SEED;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 16777619);
  return h >>> 0;
}

/** Spacing between injected events: wider than every matching tolerance and every event. */
const MIN_GAP_MS = 120;
/** Extra random spacing on top, so positions do not fall into a pattern. */
const JITTER_MS = 200;
/** A region counts as active when its RMS over ACTIVE_WIN_MS is above this (dBFS). */
const ACTIVE_DB = -40;
const ACTIVE_WIN_MS = 20;
const LSB16 = 1 / 32768;

const KINDS: readonly string[] = [
  'click', 'dropout', 'dropout-grid', 'inserted-silence', 'splice', 'splice-grid',
  'repeat-insert', 'repeat-replace', 'clipping',
];

export interface Injected {
  samples: Float32Array;
  truth: TruthEvent[];
}

/**
 * `withoutClicks`: the same copy with every click's pulse left out (same draws, same places,
 * same truth): the counterfactual that isolates what a codec makes of each click.
 */
export function inject(src: Float32Array, fs: number, seed: number, withoutClicks = false): Injected {
  const rand = mulberry32(seed);
  const ms = (v: number) => Math.round((v * fs) / 1000);
  const out = new Float32Array(src.length + ms(40) * Math.ceil(src.length / ms(MIN_GAP_MS)));
  const truth: TruthEvent[] = [];
  let o = 0; // output write position
  let i = 0; // source read position
  const copy = (n: number) => {
    n = Math.min(n, src.length - i);
    out.set(src.subarray(i, i + n), o);
    i += n;
    o += n;
  };
  const activeAt = (k: number) =>
    rms(src, k - ms(ACTIVE_WIN_MS), k) >= 10 ** (ACTIVE_DB / 20) &&
    rms(src, k, k + ms(ACTIVE_WIN_MS)) >= 10 ** (ACTIVE_DB / 20);
  const margin = ms(60);
  copy(ms(MIN_GAP_MS / 2) + Math.floor(rand() * ms(JITTER_MS)));
  while (i < src.length - margin) {
    const kind = KINDS[Math.floor(rand() * KINDS.length)];
    const grid = kind.endsWith('-grid') || kind.startsWith('repeat') ? ms(rand() < 0.5 ? 10 : 20) : 0;
    if (grid) {
      // Move forward to the next output position on the frame grid.
      copy((grid - (o % grid)) % grid);
    }
    if (i >= src.length - margin) break;
    if (!activeAt(i)) {
      copy(grid || ms(5));
      continue;
    }
    switch (kind) {
      case 'click': {
        const w = 1 + Math.floor(rand() * 5);
        const db = -10 + rand() * 30;
        const amp = rms(src, i - ms(10), i + ms(10)) * 10 ** (db / 20);
        const sign = rand() < 0.5 ? -1 : 1;
        const start = o;
        copy(w);
        const pulse: number[] = [];
        for (let k = 0; k < w; k++) {
          const shape = k === Math.floor(w / 2) ? 1 : 0.5 + 0.5 * rand();
          const before = out[start + k];
          const v = clamp(before + sign * amp * shape);
          if (!withoutClicks) out[start + k] = v;
          pulse.push(v - before);
        }
        const oracleZ = clickOracleZ(src, fs, i - w, pulse);
        const before = rms(src, i - w - ms(20), i - w);
        const levelDb = 20 * Math.log10(Math.max(...pulse.map(Math.abs)) / Math.max(before, LSB16));
        truth.push({ kind: 'click', variant: `click`, start, end: start + w, size: db, oracleZ, levelDb, audible: levelDb >= AUDIBLE_CLICK_DB });
        break;
      }
      case 'dropout':
      case 'dropout-grid': {
        const d = ms(2.5 + rand() * 37.5);
        const start = o;
        const dither = rand() < 0.3; // near-digital silence: ±1 LSB of noise instead of zeros
        for (let k = 0; k < d; k++) out[o + k] = dither ? Math.round(rand() * 2 - 1) * LSB16 : 0;
        o += d;
        i += d;
        truth.push({ kind: 'dropout', variant: kind + (dither ? '-dither' : ''), start, end: start + d, audible: true });
        break;
      }
      case 'inserted-silence': {
        const d = ms(2.5 + rand() * 37.5);
        out.fill(0, o, o + d);
        truth.push({ kind: 'dropout', variant: kind, start: o, end: o + d, audible: true });
        o += d;
        break;
      }
      case 'splice':
      case 'splice-grid': {
        const d = Math.max(1, ms(1 + rand() * 19));
        const oracleZ = spliceOracleZ(src, fs, i, d);
        i += d;
        truth.push({ kind: 'discontinuity', variant: kind, start: o, end: o, srcAt: i - d, size: (d * 1000) / fs, oracleZ, audible: oracleZ >= AUDIBLE_SPLICE_Z });
        break;
      }
      case 'repeat-insert':
      case 'repeat-replace': {
        const L = grid;
        if (i < L) { copy(L); continue; }
        out.set(src.subarray(i - L, i), o);
        truth.push({ kind: 'repeat', variant: `${kind}-${Math.round((L * 1000) / fs)}ms`, start: o, end: o + L, audible: true });
        o += L;
        if (kind === 'repeat-replace') i += L;
        break;
      }
      case 'clipping': {
        // A burst too hot for the converter: a smooth gain bump, then a hard limit at full scale.
        const len = ms(5 + rand() * 25);
        const ramp = ms(2);
        let peak = 0;
        for (let k = 0; k < len; k++) peak = Math.max(peak, Math.abs(src[i + k] ?? 0));
        if (peak < 1e-3) { copy(len); continue; }
        const gain = (1.3 + rand() * 1.7) / peak;
        const start = o;
        copy(len);
        let first = -1;
        let last = -1;
        const full = 32767 / 32768;
        for (let k = 0; k < len; k++) {
          const env = k < ramp ? k / ramp : k >= len - ramp ? (len - k) / ramp : 1;
          const g = 1 + (gain - 1) * env;
          let v = out[start + k] * g;
          if (v >= full || v <= -full) {
            v = v > 0 ? full : -full;
            if (first < 0) first = start + k;
            last = start + k;
          }
          out[start + k] = v;
        }
        if (first >= 0) truth.push({ kind: 'clipping', variant: 'clipping', start: first, end: last + 1, audible: true });
        break;
      }
    }
    copy(ms(MIN_GAP_MS) + Math.floor(rand() * ms(JITTER_MS)));
  }
  copy(src.length - i);
  return { samples: out.slice(0, o), truth };
}

function clamp(v: number): number {
  return v > 32767 / 32768 ? 32767 / 32768 : v < -1 ? -1 : v;
}
