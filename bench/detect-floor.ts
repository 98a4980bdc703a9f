/**
 * npm run bench:detect-floor
 *
 * How far down the oracle-z scale a detector must reach for the click and splice F1 targets,
 * and how often clean speech itself reaches that far. Clean recordings are scanned with the
 * statistic the oracle z is made of (the two-sided AR residual of a one-sample click, against
 * the recording's own local model): its peaks are what a detector told the true model would
 * flag on audio with nothing wrong in it. The level they exceed N times a minute is a floor:
 * events under it cannot be told from clean audio by that statistic at N false events a
 * minute, and the injected events above it bound recall, hence F1 (at precision 1).
 *
 * The null is generous to the detector twice over: the scale is the largest of three hops'
 * (so clean peaks come out lower), and only the 8 kHz telephone prompts are scanned (drum
 * attacks would raise the floor). It is not generous in one way: a detector's other tests
 * (isolation, pulse fit) may tell some natural peaks (onsets) from clicks. Splices are held
 * to the same floor: their oracle z is in the same units (residual energy the event adds,
 * over the background), though a join statistic searches more shapes than a one-sample
 * click and its null is, if anything, heavier. So this is an estimate of the ceiling, to
 * read beside what earshot reaches in bench:detect, not a proof.
 */
import { FIT_MS, localModel } from './detect-oracle';
import { loadCorpus } from './detect-corpus';
import { inject, SEED, seedFor } from './detect-inject';
import { testOrder } from '../src/detect/lpc';
import { HOP_MS } from '../src/detect/screen';

/** One peak per block: a click's matching tolerance. */
const BLOCK_MS = 5;
/** File edges are left out (no model either side; the detector skips them too). */
const EDGE_MS = 50;
/** False events a minute at which the floor is read (the target is 1). */
const RATES_PER_MIN = [1, 3, 10];

/** Per-block peaks of the clean recording's one-sample-click z. */
function nullPeaks(x: Float32Array, fs: number): number[] {
  const P = testOrder(fs);
  const H = Math.round((HOP_MS * fs) / 1000);
  const half = Math.max(4 * P, Math.round((FIT_MS * fs) / 1000));
  const edge = Math.round((EDGE_MS * fs) / 1000);
  const hops = Math.floor(x.length / H);
  const models = Array.from({ length: hops }, (_, h) => localModel(x, P, h * H + (H >> 1) - half, h * H + (H >> 1) + half));
  const z = new Float32Array(x.length);
  for (let h = 1; h < hops - 1; h++) {
    const m = models[h];
    if (!m || h * H < edge || (h + 1) * H + P > x.length - edge) continue;
    const sigma = Math.max(m.sigma, models[h - 1]?.sigma ?? 0, models[h + 1]?.sigma ?? 0);
    const { a } = m;
    let norm = 0;
    for (let k = 0; k <= P; k++) norm += a[k] * a[k];
    const e = new Float64Array(H + P);
    for (let n = 0; n < H + P; n++) {
      let v = 0;
      for (let k = 0; k <= P; k++) v += a[k] * x[h * H + n - k];
      e[n] = v;
    }
    for (let n = 0; n < H; n++) {
      let v = 0;
      for (let k = 0; k <= P; k++) v += a[k] * e[n + k];
      z[h * H + n] = Math.abs(v) / Math.sqrt(norm) / sigma;
    }
  }
  const B = Math.round((BLOCK_MS * fs) / 1000);
  const peaks: number[] = [];
  for (let s = 0; s < x.length; s += B) {
    let m = 0;
    for (let n = s; n < Math.min(x.length, s + B); n++) if (z[n] > m) m = z[n];
    peaks.push(m);
  }
  return peaks;
}

function main(): void {
  const corpus = loadCorpus({ speechStride: 1 });
  const speech = corpus.filter((s) => s.set === 'speech8k');
  const minutes = speech.reduce((m, s) => m + s.samples.length / s.sampleRate / 60, 0);
  const peaks = speech.flatMap((s) => nullPeaks(s.samples, s.sampleRate)).sort((p, q) => q - p);
  // Every injected click and splice, and the audible set the targets apply to (issue 16: clicks
  // by their level, so an audible click may still sit under the floor; splices by oracle z >= 20).
  const all = { click: [] as number[], discontinuity: [] as number[] };
  const audible = { click: [] as number[], discontinuity: [] as number[] };
  for (const s of corpus.filter((c) => c.inject)) {
    for (const t of inject(s.samples, s.sampleRate, seedFor(s.name)).truth) {
      if ((t.kind !== 'click' && t.kind !== 'discontinuity') || t.oracleZ === undefined) continue;
      all[t.kind].push(t.oracleZ);
      if (t.audible) audible[t.kind].push(t.oracleZ);
    }
  }
  console.log(`clean 8 kHz telephone prompts: ${minutes.toFixed(1)} min scanned; injected events from all sets (seed ${SEED})`);
  for (const [name, oracle] of [['all injected', all], ['audible set', audible]] as const) {
    console.log(` ${name}:`);
    for (const rate of RATES_PER_MIN) {
      const level = peaks[Math.max(0, Math.round(rate * minutes) - 1)];
      const parts = (['click', 'discontinuity'] as const).map((k) => {
        const above = oracle[k].filter((z) => z > level).length;
        const r = above / oracle[k].length;
        return `${k} ${above}/${oracle[k].length} above: recall <= ${(100 * r).toFixed(1)}%, F1 <= ${((2 * r) / (1 + r)).toFixed(3)}`;
      });
      console.log(`  clean speech exceeds z ${level.toFixed(1).padStart(5)} ${String(rate).padStart(2)}x a minute; ${parts.join('; ')}`);
    }
  }
}

main();
