/**
 * What an Opus round trip leaves of each audible click and splice, so that a miss on the
 * coded copies can be told from an impossibility (the coded counterpart of detect-oracle).
 *
 * - A click's coded footprint is the difference between two coded copies that differ only
 *   in that click (inject(..., withoutClicks) draws the same events without the pulses).
 *   Its oracle z is detect-oracle's matched-filter SNR of that footprint against the coded
 *   clean copy's own local model, both brought back to the source's rate (where the
 *   information lives: at 48 kHz a model of 8 kHz speech predicts a band-limited pulse too).
 * - A splice's coded z is detect-oracle's splice z computed on the coded clean source: the
 *   join's change to the model's prediction against a residual scale that now holds the
 *   codec's own noise (the codec's smear of the join itself is not modelled).
 *
 * Then the detector's recall on the coded copies by that z, of the right kind and of any
 * kind at the right place (after coding, a click and a splice look alike).
 * Flags: --quick (a sixth of the speech, as bench:detect).
 */
import { execFileSync } from 'node:child_process';
import { loadCorpus } from './detect-corpus';
import { inject, seedFor, type TruthEvent } from './detect-inject';
import { OPUS_KBPS, opusRoundTrip } from './detect-opus';
import { clickOracleZ, spliceOracleZ } from './detect-oracle';
import { analyze, match, type Interval } from './detect-score';

const QUICK = process.argv.includes('--quick');
/** A click's footprint is taken from 3 ms before it to 5 ms after (the codec's look-ahead and smear). */
const BEFORE_MS = 3;
const AFTER_MS = 5;
const EDGES = [0, 5, 10, 20, 40, Infinity];

/** `x` resampled by ffmpeg (the same resampler the round trip went through). */
function resample(x: Float32Array, from: number, to: number): Float32Array {
  if (from === to) return x;
  const b = execFileSync('ffmpeg', ['-v', 'error', '-f', 'f32le', '-ar', String(from), '-ac', '1', '-i', 'pipe:0', '-ar', String(to), '-f', 'f32le', 'pipe:1'],
    { input: Buffer.from(x.buffer, x.byteOffset, x.byteLength), maxBuffer: 1 << 29 });
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

interface Row { kind: 'click' | 'splice'; kbps: number; z: number; codedZ: number; found: boolean; foundAny: boolean }

const bucket = (z: number) => EDGES.findIndex((e) => z < e) - 1;
const label = (k: number) => `${EDGES[k]}..${EDGES[k + 1] === Infinity ? '' : EDGES[k + 1]}`;
const median = (v: number[]) => v.sort((a, b) => a - b)[v.length >> 1] ?? 0;

function main(): void {
  const t0 = performance.now();
  const corpus = loadCorpus({ speechStride: QUICK ? 6 : 1 });
  const kbpsFor = (name: string) => OPUS_KBPS[seedFor(name) % OPUS_KBPS.length]!;
  const rows: Row[] = [];
  for (const s of corpus) {
    if (!s.inject) continue;
    const fs = s.sampleRate;
    const ms = (v: number) => Math.round((v * fs) / 1000);
    const kbps = kbpsFor(s.name);
    const inj = inject(s.samples, fs, seedFor(s.name));
    const audible = inj.truth.filter((t) => t.audible && (t.kind === 'click' || t.kind === 'discontinuity'));
    if (!audible.length) continue;
    const coded = opusRoundTrip(inj.samples, fs, kbps);
    const codedAtFs = resample(coded, 48000, fs);
    const withoutAtFs = resample(opusRoundTrip(inject(s.samples, fs, seedFor(s.name), true).samples, fs, kbps), 48000, fs);
    const cleanAtFs = resample(opusRoundTrip(s.samples, fs, kbps), 48000, fs);
    const found = analyze(coded, 48000, undefined, true);
    const asInterval = (t: TruthEvent): Interval => ({ kind: t.kind, startSec: t.start / fs, endSec: t.end / fs });
    for (const t of audible) {
      let codedZ: number;
      if (t.kind === 'click') {
        const a = t.start - ms(BEFORE_MS);
        const b = t.start + ms(AFTER_MS);
        if (a < 0 || b > codedAtFs.length) continue;
        const footprint = new Float64Array(b - a);
        for (let n = a; n < b; n++) footprint[n - a] = codedAtFs[n] - withoutAtFs[n];
        codedZ = clickOracleZ(withoutAtFs, fs, a, footprint);
      } else {
        codedZ = spliceOracleZ(cleanAtFs, fs, t.srcAt!, Math.round(((t.size ?? 0) * fs) / 1000));
      }
      const one = [asInterval(t)];
      rows.push({
        kind: t.kind === 'click' ? 'click' : 'splice', kbps, z: t.oracleZ ?? 0, codedZ,
        found: match(one, found).missed.length === 0, foundAny: match(one, found, true).missed.length === 0,
      });
    }
  }

  console.log(`earshot detect: what the Opus round trip (${OPUS_KBPS.join('/')} kb/s) leaves of the audible clicks and splices` +
    `${QUICK ? ' (--quick subset)' : ''}, both parts of the corpus; oracle z before coding (bench:detect's) and after (the coded copy's, at the source's rate)`);
  console.log(`${''.padEnd(18)}${EDGES.slice(0, -1).map((_, k) => `z ${label(k)}`.padStart(10)).join('')}    median`);
  for (const kind of ['click', 'splice'] as const) {
    const rs = rows.filter((r) => r.kind === kind);
    for (const [name, z] of [['before coding', (r: Row) => r.z], ['after coding', (r: Row) => r.codedZ]] as const) {
      const n = EDGES.slice(0, -1).map((_, k) => rs.filter((r) => bucket(z(r)) === k).length);
      console.log(`${`${kind}s ${name}`.padEnd(18)}${n.map((c) => `${c} ${((100 * c) / rs.length).toFixed(0)}%`.padStart(10)).join('')}    ${median(rs.map(z)).toFixed(1)}`);
    }
  }
  console.log('\nby bitrate: audible events whose coded z is at least 20, and the coded median');
  for (const kbps of OPUS_KBPS) {
    const cells = (['click', 'splice'] as const).map((kind) => {
      const rs = rows.filter((r) => r.kind === kind && r.kbps === kbps);
      const keep = rs.filter((r) => r.codedZ >= 20).length;
      return `${kind}s ${keep}/${rs.length} ${((100 * keep) / Math.max(1, rs.length)).toFixed(0)}% (median ${median(rs.map((r) => r.codedZ)).toFixed(0)})`;
    });
    console.log(`  ${String(kbps).padStart(2)} kb/s  ${cells.join('   ')}`);
  }
  console.log('\nthe detector on the coded copies, recall by coded z: the right kind / any kind at the place');
  for (const kind of ['click', 'splice'] as const) {
    for (let k = 0; k < EDGES.length - 1; k++) {
      const rs = rows.filter((r) => r.kind === kind && bucket(r.codedZ) === k);
      if (!rs.length) continue;
      const f = rs.filter((r) => r.found).length;
      const any = rs.filter((r) => r.foundAny).length;
      console.log(`  ${`${kind} coded z ${label(k)}`.padEnd(24)} ${`${f}/${rs.length}`.padStart(9)} ${((100 * f) / rs.length).toFixed(1).padStart(5)}%   any kind ${((100 * any) / rs.length).toFixed(1).padStart(5)}%`);
    }
  }
  console.log(`\n(${rows.length} audible clicks and splices, ${((performance.now() - t0) / 1000).toFixed(0)} s)`);
}

main();
