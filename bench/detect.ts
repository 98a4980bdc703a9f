/**
 * `npm run bench:detect`: accuracy, false events on clean audio and speed of the offline
 * detector, with ffmpeg's adeclick beside it.
 *
 * Ground truth: events injected with a fixed seed into real recordings (drum loops and music
 * from supersonic-scsynth-samples, Debian's 8 kHz asterisk prompts, Debian's alsa sounds),
 * scored one-to-one (±5 ms clicks, ±10 ms others). Clipping that is already in a source
 * recording (runs of 2+ full-scale samples: some drum masters are clipped) is real, so
 * detections on it are left out of the score for both detectors and counted on their own line.
 * Flags: --quick (a subset, for a dev loop), --no-adeclick, --verbose (list misses and false
 * events, and tally which of the impulse tests each missed click or splice failed).
 */
import { ChannelAnalyzer, type DetectEvent, type DetectKind } from '../src/detect/analyze';
import { debugSink } from '../src/detect/impulses';
import { adeclick } from './detect-adeclick';
import { loadCorpus, speedSignal48k, type Source } from './detect-corpus';
import { inject, SEED, seedFor, type TruthEvent } from './detect-inject';
import { add, emptyTally, KINDS, match, prf, type Interval, type Tally } from './detect-score';

const args = new Set(process.argv.slice(2));
const QUICK = args.has('--quick');
const VERBOSE = args.has('--verbose');
/** Block size the benchmark feeds the analyzer with (the CLI's reader uses its own). */
const BLOCK = 4096;

const TARGET_F1_ALL = 0.95;
const TARGET_F1_KIND = 0.9;
const TARGET_FP_PER_MIN = 1;
const TARGET_SPEED = 300;

function analyze(x: Float32Array, fs: number, block = BLOCK): DetectEvent[] {
  const a = new ChannelAnalyzer(fs, 0);
  for (let i = 0; i < x.length; i += block) a.push(x.subarray(i, Math.min(x.length, i + block)));
  return a.finish();
}

/**
 * Clipping that is really in a recording: runs of 2+ samples within 0.1 % of full scale (the
 * issue's "runs at full scale"). Some drum masters here are clipped (loop_amen_full holds
 * hundreds of such runs); reporting them is right, so detections on them are neither true nor
 * false positives — they are left out of the score and counted on their own line. Runs inside
 * an injected clipping burst are the injected event's, not pre-existing.
 */
const FULL_SCALE = 0.999;
function preexistingClipping(x: Float32Array, fs: number, injected: Interval[] = []): Interval[] {
  const runs: Interval[] = [];
  let start = -1;
  let sign = 0;
  for (let i = 0; i <= x.length; i++) {
    const v = i < x.length ? x[i] : 0;
    const s = v >= FULL_SCALE ? 1 : v <= -FULL_SCALE ? -1 : 0;
    if (s !== 0 && s === sign) continue;
    if (sign !== 0 && i - start >= 2) {
      const r = { kind: 'clipping' as DetectKind, startSec: start / fs, endSec: i / fs };
      if (!injected.some((t) => t.kind === 'clipping' && r.endSec >= t.startSec - 0.01 && r.startSec <= t.endSec + 0.01)) runs.push(r);
    }
    sign = s;
    start = i;
  }
  return runs;
}

/** Splits detections into those on pre-existing clipping (left out of the score) and the rest. */
function withoutPreexisting(found: DetectEvent[], pre: Interval[]): { kept: DetectEvent[]; onPre: number } {
  const kept: DetectEvent[] = [];
  let onPre = 0;
  for (const e of found) {
    if (e.kind === 'clipping' && pre.some((r) => e.endSec >= r.startSec - 0.01 && e.startSec <= r.endSec + 0.01)) onPre++;
    else kept.push(e);
  }
  return { kept, onPre };
}

function toIntervals(truth: TruthEvent[], fs: number): Interval[] {
  return truth.map((t) => ({ kind: t.kind, startSec: t.start / fs, endSec: t.end / fs, variant: t.variant, size: t.size, oracleZ: t.oracleZ }));
}

function pct(v: number): string {
  return (100 * v).toFixed(1).padStart(5);
}

function row(label: string, t: Tally): string {
  const { p, r, f1 } = prf(t);
  return `${label.padEnd(16)} ${String(t.tp + t.fn).padStart(6)} ${String(t.tp).padStart(6)} ${String(t.fp).padStart(6)}` +
    `  ${pct(p)}  ${pct(r)}  ${f1.toFixed(3)}`;
}

/** `[lo, lo+w)` label of the w-wide bucket that v falls in, within [min, max). */
function bucket(v: number, w: number, min: number, max: number): string {
  const lo = Math.max(min, Math.min(max - w, Math.floor(v / w) * w));
  return `${lo}..${lo + w}`;
}

function main(): void {
  const t0 = performance.now();
  const corpus = loadCorpus({ speechStride: QUICK ? 6 : 1 });
  const injected = corpus.filter((s) => s.inject).map((s) => ({ src: s, ...inject(s.samples, s.sampleRate, seedFor(s.name)) }));
  const sec = (s: Source) => s.samples.length / s.sampleRate;
  console.log(`earshot detect benchmark${QUICK ? ' (--quick subset)' : ''}: ${corpus.length} recordings, ` +
    `${(corpus.reduce((a, s) => a + sec(s), 0) / 60).toFixed(1)} min clean; ${injected.length} injected copies, ` +
    `${injected.reduce((a, s) => a + s.truth.length, 0)} events (seed ${SEED})`);

  // Accuracy on injected copies.
  const total = new Map<DetectKind, Tally>(KINDS.map((k) => [k, emptyTally()]));
  const perSet = new Map<string, Tally>();
  const variants = new Map<string, { n: number; hit: number }>();
  const bySize = new Map<string, { n: number; hit: number }>();
  const byOracle = new Map<string, { n: number; hit: number }>();
  let injectedOnPre = 0;
  // --verbose: why each missed click/splice was missed (the tests its nearest candidate failed).
  const whyMissed = new Map<string, number>();
  const adeclickInput = new Map<number, { parts: Float32Array[]; truth: Interval[]; joins: number[]; length: number }>();
  for (const inj of injected) {
    const fs = inj.src.sampleRate;
    const truth = toIntervals(inj.truth, fs);
    if (VERBOSE) { debugSink.features = []; debugSink.long = []; }
    const split = withoutPreexisting(analyze(inj.samples, fs), preexistingClipping(inj.samples, fs, truth));
    const feats = debugSink.features ?? [];
    const longs = debugSink.long ?? [];
    debugSink.features = undefined;
    debugSink.long = undefined;
    const found = split.kept;
    injectedOnPre += split.onPre;
    const m = match(truth, found);
    const setT = perSet.get(inj.src.set) ?? emptyTally();
    for (const [k, t] of m.perKind) { add(total.get(k)!, t); add(setT, t); }
    perSet.set(inj.src.set, setT);
    const missedSet = new Set(m.missed);
    for (const t of truth) {
      const v = variants.get(t.variant!) ?? { n: 0, hit: 0 };
      v.n++;
      if (!missedSet.has(t)) v.hit++;
      variants.set(t.variant!, v);
      if (t.oracleZ !== undefined) {
        const edges = [0, 5, 10, 20, 40, Infinity];
        const k = edges.findIndex((e) => t.oracleZ! < e) - 1;
        const key = `${t.kind === 'click' ? 'click' : 'splice'} oracle z ${edges[k]}..${edges[k + 1] === Infinity ? '' : edges[k + 1]}`;
        const b = byOracle.get(key) ?? { n: 0, hit: 0 };
        b.n++;
        if (!missedSet.has(t)) b.hit++;
        byOracle.set(key, b);
      }
      if (t.size === undefined) continue;
      const key = t.kind === 'click' ? `click ${bucket(t.size, 5, -10, 20)} dB` : `splice ${bucket(t.size, 5, 0, 20)} ms lost`;
      const b = bySize.get(key) ?? { n: 0, hit: 0 };
      b.n++;
      if (!missedSet.has(t)) b.hit++;
      bySize.set(key, b);
    }
    if (VERBOSE) {
      for (const e of m.missed) {
        if (e.kind !== 'click' && e.kind !== 'discontinuity') continue;
        const s0 = Math.round(e.startSec * fs) - Math.round(0.005 * fs);
        const e0 = Math.round(e.endSec * fs) + Math.round(0.005 * fs);
        const near = feats.filter((f) => f.at >= s0 - 20 && f.at <= e0);
        let why = 'no candidate';
        for (let k = 0; k < longs.length; k += 2) if (longs[k] <= e0 && longs[k + 1] >= s0) why = 'cluster too long';
        if (near.length) {
          const fails = near.map((f) => (e.kind === 'click' ? f.clickFails : f.spliceFails)).sort((p, q) => p.length - q.length)[0];
          why = fails.length ? fails.join('+') : 'passed (lost to another event or kind)';
        }
        const key = `${e.kind}: ${why}`;
        whyMissed.set(key, (whyMissed.get(key) ?? 0) + 1);
      }
      for (const e of m.missed) console.log(`  miss  ${inj.src.name} ${e.kind}/${e.variant} @${e.startSec.toFixed(4)}`);
      for (const e of m.false) console.log(`  false ${inj.src.name} ${e.kind} @${e.startSec.toFixed(4)}-${e.endSec.toFixed(4)}`);
    }
    const a = adeclickInput.get(fs) ?? { parts: [], truth: [], joins: [], length: 0 };
    const off = a.length / fs;
    for (const t of truth) a.truth.push({ ...t, startSec: t.startSec + off, endSec: t.endSec + off });
    a.joins.push(a.length);
    a.parts.push(inj.samples);
    a.length += inj.samples.length;
    adeclickInput.set(fs, a);
  }
  const all = emptyTally();
  console.log('\nearshot on injected events (one-to-one, ±5 ms clicks, ±10 ms others)');
  console.log('kind             events     TP     FP  prec%  rec%    F1');
  for (const k of KINDS) { add(all, total.get(k)!); console.log(row(k, total.get(k)!)); }
  console.log(row('ALL', all));
  console.log(`(clipping already in the source recordings — runs of 2+ samples at full scale — is reported ` +
    `and left out of the score: ${injectedOnPre} such detections in the injected copies)`);
  console.log('by recording set:');
  for (const [s, t] of perSet) console.log(row(`  ${s}`, t));
  console.log('recall by injected variant:');
  for (const [v, { n, hit }] of [...variants].sort()) console.log(`  ${v.padEnd(26)} ${String(hit).padStart(5)}/${String(n).padEnd(5)} ${pct(hit / n)}%`);
  if (VERBOSE) {
    console.log('missed clicks/splices by the tests their nearest candidate failed (--verbose):');
    for (const [k, n] of [...whyMissed].sort((p, q) => q[1] - p[1])) console.log(`  ${String(n).padStart(5)}  ${k}`);
  }
  console.log('recall by size (clicks: level re the local 20 ms RMS; splices: audio removed):');
  const order = (k: string) => (k.startsWith('click') ? 0 : 1000) + parseFloat(k.split(' ')[1]);
  for (const [v, { n, hit }] of [...bySize].sort((p, q) => order(p[0]) - order(q[0]))) {
    console.log(`  ${v.padEnd(26)} ${String(hit).padStart(5)}/${String(n).padEnd(5)} ${pct(hit / n)}%`);
  }

  console.log('recall by oracle z (an event\'s matched-filter SNR against the clean source\'s own model; in Gaussian noise z 5 could be found at 1 false event/min, and bench:detect-floor shows how far above that clean speech reaches):');
  const oracleOrder = (k: string) => (k.startsWith('click') ? 0 : 1000) + parseFloat(k.split(' ')[3]);
  for (const [v, { n, hit }] of [...byOracle].sort((p, q) => oracleOrder(p[0]) - oracleOrder(q[0]))) {
    console.log(`  ${v.padEnd(26)} ${String(hit).padStart(5)}/${String(n).padEnd(5)} ${pct(hit / n)}%`);
  }

  // False events on the untouched originals.
  console.log('\nfalse events on the untouched originals');
  let cleanMin = 0;
  let cleanEvents = 0;
  const cleanBySet = new Map<string, { min: number; n: number; kinds: Map<string, number> }>();
  let cleanOnPre = 0;
  for (const s of corpus) {
    const split = withoutPreexisting(analyze(s.samples, s.sampleRate), preexistingClipping(s.samples, s.sampleRate));
    const ev = split.kept;
    cleanOnPre += split.onPre;
    const min = sec(s) / 60;
    cleanMin += min;
    cleanEvents += ev.length;
    const c = cleanBySet.get(s.set) ?? { min: 0, n: 0, kinds: new Map() };
    c.min += min;
    c.n += ev.length;
    for (const e of ev) c.kinds.set(e.kind, (c.kinds.get(e.kind) ?? 0) + 1);
    cleanBySet.set(s.set, c);
    if (VERBOSE) for (const e of ev) console.log(`  clean ${s.name} ${e.kind} @${e.startSec.toFixed(4)} score ${e.score.toFixed(2)}`);
  }
  for (const [s, c] of cleanBySet) {
    console.log(`  ${s.padEnd(10)} ${c.min.toFixed(2).padStart(6)} min  ${String(c.n).padStart(4)} events  ` +
      `${(c.n / c.min).toFixed(2).padStart(6)}/min  ${[...c.kinds].map(([k, n]) => `${k}:${n}`).join(' ')}`);
  }
  const fpPerMin = cleanEvents / cleanMin;
  console.log(`  (not counted: ${cleanOnPre} clipping events on full-scale runs that are really in the originals)`);
  console.log(`  ${'all'.padEnd(10)} ${cleanMin.toFixed(2).padStart(6)} min  ${String(cleanEvents).padStart(4)} events  ${fpPerMin.toFixed(2).padStart(6)}/min`);

  // Speed: one thread, 48 kHz mono.
  const x48 = speedSignal48k();
  // Warm the JIT on the whole signal (an archive sweep's worker stays warm; the first pass's
  // figure swings 200-330x here with tiering and GC), then take the best of several passes.
  analyze(x48, 48000);
  const reps = QUICK ? 1 : 5;
  // CPU time of this (single) thread as well as wall time: on a shared, loaded machine the
  // wall figure measures the neighbours too.
  let best = Infinity;
  let bestCpu = Infinity;
  for (let r = 0; r < reps; r++) {
    const ts = performance.now();
    const c0 = process.cpuUsage();
    analyze(x48, 48000);
    const c = process.cpuUsage(c0);
    best = Math.min(best, (performance.now() - ts) / 1000);
    bestCpu = Math.min(bestCpu, (c.user + c.system) / 1e6);
  }
  const wallSpeed = x48.length / 48000 / best;
  const speed = x48.length / 48000 / bestCpu;
  console.log(`\nspeed: ${(x48.length / 48000).toFixed(1)} s of 48 kHz mono on one thread: ${bestCpu.toFixed(3)} s CPU = ` +
    `${speed.toFixed(0)}x real time (wall ${best.toFixed(3)} s = ${wallSpeed.toFixed(0)}x; load average ${require('node:os').loadavg()[0].toFixed(1)})`);

  // adeclick beside ours, kind-agnostic (it only says "repaired here").
  let ad: Tally | undefined;
  let adClean = 0;
  let adSeconds = 0;
  let adAudio = 0;
  let oursAny = emptyTally();
  const adByKind = new Map<DetectKind, Tally>(KINDS.map((k) => [k, emptyTally()]));
  if (!args.has('--no-adeclick')) {
    ad = emptyTally();
    for (const [fs, a] of adeclickInput) {
      const x = new Float32Array(a.length);
      let o = 0;
      for (const p of a.parts) { x.set(p, o); o += p.length; }
      const run = adeclick(x, fs);
      adSeconds += run.seconds;
      adAudio += a.length / fs;
      const nearJoin = (i: number) => a.joins.some((j) => Math.abs(i - j) < fs * 0.02);
      // Both detectors are scored with the pre-existing clipping left out, as above.
      const pre = preexistingClipping(x, fs, a.truth);
      const onPre = (s: number, e: number) => pre.some((r) => e / fs >= r.startSec - 0.01 && s / fs <= r.endSec + 0.01);
      const found: Interval[] = run.ranges.filter(([s, e]) => !nearJoin(s) && !onPre(s, e))
        .map(([s, e]) => ({ kind: 'click' as DetectKind, startSec: s / fs, endSec: e / fs }));
      const m = match(a.truth, found, true);
      for (const [k, t] of m.perKind) { add(ad, t); add(adByKind.get(k)!, t); }
      // The same kind-agnostic score for ours, for a like-for-like row.
      const oursFound: Interval[] = [];
      let off = 0;
      for (const p of a.parts) {
        for (const e of analyze(p, fs)) oursFound.push({ ...e, startSec: e.startSec + off / fs, endSec: e.endSec + off / fs });
        off += p.length;
      }
      const oursScored = withoutPreexisting(oursFound as DetectEvent[], pre).kept;
      for (const [, t] of match(a.truth, oursScored, true).perKind) add(oursAny, t);
    }
    const cleanByRate = new Map<number, Float32Array[]>();
    for (const s of corpus) cleanByRate.set(s.sampleRate, [...(cleanByRate.get(s.sampleRate) ?? []), s.samples]);
    for (const [fs, parts] of cleanByRate) {
      const n = parts.reduce((v, p) => v + p.length, 0);
      const x = new Float32Array(n);
      const joins: number[] = [];
      let o = 0;
      for (const p of parts) { joins.push(o); x.set(p, o); o += p.length; }
      const run = adeclick(x, fs);
      const pre = preexistingClipping(x, fs);
      adClean += run.ranges.filter(([s, e]) => !joins.some((j) => Math.abs(s - j) < fs * 0.02) &&
        !pre.some((r) => e / fs >= r.startSec - 0.01 && s / fs <= r.endSec + 0.01)).length;
    }
  }

  console.log('\nside by side (kind-agnostic matching: a detection of any kind at the right place counts)');
  console.log('detector                   prec%  rec%    F1   false/min clean   x real time');
  const line = (name: string, t: Tally, fpm: number, sp: string) => {
    const { p, r, f1 } = prf(t);
    console.log(`${name.padEnd(26)} ${pct(p)} ${pct(r)}  ${f1.toFixed(3)}  ${fpm.toFixed(2).padStart(12)}   ${sp}`);
  };
  if (ad) {
    line('earshot', oursAny, fpPerMin, `${speed.toFixed(0)} (48k, 1 thread)`);
    line('ffmpeg adeclick=m=s', ad, adClean / cleanMin, `${(adAudio / adSeconds).toFixed(0)} (mixed rates)`);
    console.log('adeclick recall by kind: ' + KINDS.map((k) => `${k} ${pct(prf(adByKind.get(k)!).r)}%`).join(', '));
  }

  console.log('\ntargets');
  const ok = (b: boolean) => (b ? 'met   ' : 'MISSED');
  console.log(`  ${ok(prf(all).f1 >= TARGET_F1_ALL)} F1 overall ${prf(all).f1.toFixed(3)} >= ${TARGET_F1_ALL}`);
  for (const k of KINDS) {
    const f = prf(total.get(k)!).f1;
    console.log(`  ${ok(f >= TARGET_F1_KIND)} F1 ${k.padEnd(13)} ${f.toFixed(3)} >= ${TARGET_F1_KIND}`);
  }
  console.log(`  ${ok(fpPerMin <= TARGET_FP_PER_MIN)} false events on clean originals ${fpPerMin.toFixed(2)}/min <= ${TARGET_FP_PER_MIN}`);
  for (const [s, c] of cleanBySet) {
    console.log(`  ${ok(c.n / c.min <= TARGET_FP_PER_MIN)}   ${s.padEnd(10)} ${(c.n / c.min).toFixed(2)}/min`);
  }
  console.log(`  ${ok(speed >= TARGET_SPEED)} speed ${speed.toFixed(0)}x >= ${TARGET_SPEED}x real time (48 kHz mono, one thread)`);
  console.log(`\n(bench wall time ${((performance.now() - t0) / 1000).toFixed(1)} s)`);
}

main();
