/**
 * `npm run bench:detect`: accuracy, false events on clean audio and speed of the offline
 * detector, with ffmpeg's adeclick beside it.
 *
 * Every injected file is scored twice: as PCM, and after an Opus round trip (16-64 kb/s, one
 * bitrate per file in turn; the events injected before coding, as they happen in capture).
 * The targets apply to the audible set (detect-inject: clicks >= 0 dB re the 20 ms before,
 * splices with oracle z >= 20, every dropout, repeat and clipping); the full set is printed
 * beside it without a target. The held-out part of the corpus (detect-corpus) is printed apart.
 *
 * Ground truth: events injected with a fixed seed into real recordings (drum loops and music
 * from supersonic-scsynth-samples, Debian's 8 kHz asterisk prompts, Debian's alsa sounds),
 * scored one-to-one (±5 ms clicks, ±10 ms others). Clipping that is already in a source
 * recording (runs of 2+ full-scale samples: some drum masters are clipped) is real, so
 * detections on it are left out of the score for both detectors and counted on their own line.
 * Flags: --quick (a subset, for a dev loop), --no-adeclick, --verbose (list misses and false
 * events, and tally which of the impulse tests each missed click or splice failed).
 */
import type { DetectEvent, DetectKind } from '../src/detect/analyze';
import { debugSink } from '../src/detect/impulses';
import { adeclick } from './detect-adeclick';
import { loadCorpus, speedSignal48k, type Source } from './detect-corpus';
import { AUDIBLE_CLICK_DB, AUDIBLE_SPLICE_Z, inject, SEED, seedFor, type TruthEvent } from './detect-inject';
import { OPUS_KBPS, opusRoundTrip } from './detect-opus';
import { add, analyze, BLOCK, emptyTally, KINDS, match, prf, type Interval, type Tally } from './detect-score';

const args = new Set(process.argv.slice(2));
const QUICK = args.has('--quick');
const VERBOSE = args.has('--verbose');

const TARGET_F1_ALL = 0.95;
const TARGET_F1_KIND = 0.9;
const TARGET_FP_PER_MIN = 1;
const TARGET_SPEED = 300;

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
  return truth.map((t) => ({ kind: t.kind, startSec: t.start / fs, endSec: t.end / fs, variant: t.variant, size: t.size, oracleZ: t.oracleZ, levelDb: t.levelDb, audible: t.audible }));
}

function pct(v: number): string {
  return (100 * v).toFixed(1).padStart(5);
}

function row(label: string, t: Tally): string {
  const { p, r, f1 } = prf(t);
  return `${label.padEnd(16)} ${String(t.tp + t.fn).padStart(6)} ${String(t.tp).padStart(6)} ${String(t.fp).padStart(6)}` +
    `  ${pct(p)}  ${pct(r)}  ${f1.toFixed(3)}`;
}

type Coding = 'pcm' | 'opus';
type Part = 'tuning' | 'held-out';
const PARTS: Part[] = ['tuning', 'held-out'];
/** --coding pcm|opus: one of the two (a dev loop); both by default. */
const CODINGS: Coding[] = process.argv.includes('--coding') ? [process.argv[process.argv.indexOf('--coding') + 1] as Coding] : ['pcm', 'opus'];

/** Everything one (coding, part) pair of runs adds up to. */
interface Totals {
  full: Map<DetectKind, Tally>;
  audible: Map<DetectKind, Tally>;
  perSet: Map<string, Tally>;
  variants: Map<string, { n: number; hit: number }>;
  byLevel: Map<string, { n: number; hit: number }>;
  byOracle: Map<string, { n: number; hit: number }>;
  onPre: number;
  cleanBySet: Map<string, { min: number; n: number; kinds: Map<string, number> }>;
}

const newTotals = (): Totals => ({
  full: new Map(KINDS.map((k) => [k, emptyTally()])), audible: new Map(KINDS.map((k) => [k, emptyTally()])), perSet: new Map(),
  variants: new Map(), byLevel: new Map(), byOracle: new Map(), onPre: 0, cleanBySet: new Map(),
});

function hit(map: Map<string, { n: number; hit: number }>, key: string, found: boolean): void {
  const b = map.get(key) ?? { n: 0, hit: 0 };
  b.n++;
  if (found) b.hit++;
  map.set(key, b);
}

const sum = (m: Map<DetectKind, Tally>): Tally => { const t = emptyTally(); for (const v of m.values()) add(t, v); return t; };
const cleanRate = (c: Totals['cleanBySet']): { min: number; n: number } => {
  let min = 0, n = 0;
  for (const v of c.values()) { min += v.min; n += v.n; }
  return { min, n };
};

function main(): void {
  const t0 = performance.now();
  const corpus = loadCorpus({ speechStride: QUICK ? 6 : 1 });
  const injected = corpus.filter((s) => s.inject).map((s) => ({ src: s, ...inject(s.samples, s.sampleRate, seedFor(s.name)) }));
  const sec = (s: Source) => s.samples.length / s.sampleRate;
  const minutes = (held: boolean) => corpus.filter((s) => s.heldOut === held).reduce((a, s) => a + sec(s), 0) / 60;
  const events = (held: boolean) => injected.filter((s) => s.src.heldOut === held).reduce((a, s) => a + s.truth.length, 0);
  console.log(`earshot detect benchmark${QUICK ? ' (--quick subset)' : ''}: ${corpus.length} recordings ` +
    `(tuning part ${minutes(false).toFixed(1)} min, held-out part ${minutes(true).toFixed(1)} min, clean), ` +
    `${injected.length} injected copies with ${events(false)} + ${events(true)} events (seed ${SEED}); each scored as PCM and after an Opus round trip at ${OPUS_KBPS.join('/')} kb/s`);
  const kbpsFor = (name: string) => OPUS_KBPS[seedFor(name) % OPUS_KBPS.length]!;

  const totals = new Map<string, Totals>();
  const get = (c: Coding, p: Part) => { const k = `${c}/${p}`; if (!totals.has(k)) totals.set(k, newTotals()); return totals.get(k)!; };
  const whyMissed = new Map<string, number>();
  const adeclickInput = new Map<number, { parts: Float32Array[]; truth: Interval[]; joins: number[]; length: number }>();
  for (const coding of CODINGS) {
    for (const inj of injected) {
      const fs = inj.src.sampleRate;
      const T = get(coding, inj.src.heldOut ? 'held-out' : 'tuning');
      const truth = toIntervals(inj.truth, fs);
      const x = coding === 'pcm' ? inj.samples : opusRoundTrip(inj.samples, fs, kbpsFor(inj.src.name));
      const rate = coding === 'pcm' ? fs : 48000;
      if (VERBOSE && coding === 'pcm') { debugSink.features = []; debugSink.long = []; }
      // Clipping already in the source is judged on the PCM copy (the codec blurs full-scale runs).
      const split = withoutPreexisting(analyze(x, rate, BLOCK, coding === 'opus'), preexistingClipping(inj.samples, fs, truth));
      const feats = debugSink.features ?? [];
      debugSink.features = undefined;
      debugSink.long = undefined;
      T.onPre += split.onPre;
      const m = match(truth, split.kept);
      const setT = T.perSet.get(inj.src.set) ?? emptyTally();
      for (const [k, t] of m.perKind) add(T.full.get(k)!, t);
      for (const [k, t] of m.audible) { add(T.audible.get(k)!, t); add(setT, t); }
      T.perSet.set(inj.src.set, setT);
      const missedSet = new Set(m.missed);
      for (const t of truth) {
        const found = !missedSet.has(t);
        hit(T.variants, t.variant!, found);
        if (t.kind === 'click' && t.levelDb !== undefined) {
          const lo = Math.max(-20, Math.min(20, Math.floor(t.levelDb / 5) * 5));
          hit(T.byLevel, `click ${lo}..${lo + 5} dB`, found);
        }
        if (t.oracleZ !== undefined) {
          const edges = [0, 5, 10, 20, 40, Infinity];
          const k = edges.findIndex((e) => t.oracleZ! < e) - 1;
          hit(T.byOracle, `${t.kind === 'click' ? 'click' : 'splice'} oracle z ${edges[k]}..${edges[k + 1] === Infinity ? '' : edges[k + 1]}`, found);
        }
      }
      if (VERBOSE && coding === 'pcm') {
        for (const e of m.missed) {
          if (e.kind !== 'click' && e.kind !== 'discontinuity') continue;
          const s0 = Math.round(e.startSec * fs) - Math.round(0.005 * fs);
          const e0 = Math.round(e.endSec * fs) + Math.round(0.005 * fs);
          const near = feats.filter((f) => f.at >= s0 - 20 && f.at <= e0);
          let why = 'no candidate';
          if (near.length) {
            const fails = near.map((f) => (e.kind === 'click' ? f.clickFails : f.spliceFails)).sort((p, q) => p.length - q.length)[0];
            why = fails.length ? fails.join('+') : 'passed (lost to another event or kind)';
          }
          whyMissed.set(`${e.kind}: ${why}`, (whyMissed.get(`${e.kind}: ${why}`) ?? 0) + 1);
        }
      }
      if (VERBOSE) {
        for (const e of m.missed) if (e.audible !== false) console.log(`  ${coding} miss  ${inj.src.name} ${e.kind}/${e.variant} @${e.startSec.toFixed(4)}`);
        for (const e of m.false) console.log(`  ${coding} false ${inj.src.name} ${e.kind} @${e.startSec.toFixed(4)}-${e.endSec.toFixed(4)}`);
      }
      if (coding === 'pcm' && !inj.src.heldOut) {
        const a = adeclickInput.get(fs) ?? { parts: [], truth: [], joins: [], length: 0 };
        const off = a.length / fs;
        for (const t of truth) a.truth.push({ ...t, startSec: t.startSec + off, endSec: t.endSec + off });
        a.joins.push(a.length);
        a.parts.push(inj.samples);
        a.length += inj.samples.length;
        adeclickInput.set(fs, a);
      }
    }
    // False events on the untouched (clean) recordings, coded the same way.
    for (const s of corpus) {
      const T = get(coding, s.heldOut ? 'held-out' : 'tuning');
      const x = coding === 'pcm' ? s.samples : opusRoundTrip(s.samples, s.sampleRate, kbpsFor(s.name));
      const split = withoutPreexisting(analyze(x, coding === 'pcm' ? s.sampleRate : 48000, BLOCK, coding === 'opus'), preexistingClipping(s.samples, s.sampleRate));
      T.onPre += split.onPre;
      const c = T.cleanBySet.get(s.set) ?? { min: 0, n: 0, kinds: new Map() };
      c.min += sec(s) / 60;
      c.n += split.kept.length;
      for (const e of split.kept) c.kinds.set(e.kind, (c.kinds.get(e.kind) ?? 0) + 1);
      T.cleanBySet.set(s.set, c);
      if (VERBOSE) for (const e of split.kept) console.log(`  ${coding} clean ${s.name} ${e.kind} @${e.startSec.toFixed(4)} ${e.score} dB`);
    }
  }

  const header = 'kind             events     TP     FP  prec%  rec%    F1';
  for (const coding of CODINGS) {
    console.log(`\n======== ${coding === 'pcm' ? 'PCM (as injected)' : `Opus round trip (${OPUS_KBPS.join('/')} kb/s, decoded at 48 kHz)`} ========`);
    for (const part of PARTS) {
      const T = get(coding, part);
      console.log(`\n[${coding} ${part}] audible set (targets; clicks >= ${AUDIBLE_CLICK_DB} dB re the 20 ms before, splices oracle z >= ${AUDIBLE_SPLICE_Z}, all others)`);
      console.log(header);
      for (const k of KINDS) console.log(row(k, T.audible.get(k)!));
      console.log(row('ALL', sum(T.audible)));
      console.log(`[${coding} ${part}] full set (every injected event, no target)`);
      for (const k of KINDS) console.log(row(k, T.full.get(k)!));
      console.log(row('ALL', sum(T.full)));
      console.log(`audible set by recording set:`);
      for (const [s, t] of T.perSet) console.log(row(`  ${s}`, t));
      const { min, n } = cleanRate(T.cleanBySet);
      console.log(`false events on the clean recordings (${coding}, ${part}): ${n} in ${min.toFixed(2)} min = ${(n / min).toFixed(2)}/min`);
      for (const [s, c] of T.cleanBySet) {
        console.log(`  ${s.padEnd(12)} ${c.min.toFixed(2).padStart(6)} min  ${String(c.n).padStart(4)} events  ${(c.n / c.min).toFixed(2).padStart(6)}/min  ${[...c.kinds].map(([k, v]) => `${k}:${v}`).join(' ')}`);
      }
      console.log(`(clipping already in the source recordings, reported and left out of the score: ${T.onPre} detections)`);
    }
    // Breakdowns over both parts.
    const both = [get(coding, 'tuning'), get(coding, 'held-out')];
    const merged = (f: (t: Totals) => Map<string, { n: number; hit: number }>) => {
      const m = new Map<string, { n: number; hit: number }>();
      for (const t of both) for (const [k, v] of f(t)) { const b = m.get(k) ?? { n: 0, hit: 0 }; b.n += v.n; b.hit += v.hit; m.set(k, b); }
      return m;
    };
    const show = (title: string, m: Map<string, { n: number; hit: number }>, order: (k: string) => number) => {
      console.log(title);
      for (const [v, { n, hit: h }] of [...m].sort((p, q) => order(p[0]) - order(q[0]) || (p[0] < q[0] ? -1 : 1))) console.log(`  ${v.padEnd(26)} ${String(h).padStart(5)}/${String(n).padEnd(5)} ${pct(h / n)}%`);
    };
    show(`[${coding}] recall by injected variant (both parts):`, merged((t) => t.variants), () => 0);
    show(`[${coding}] click recall by level re the 20 ms before (audible from ${AUDIBLE_CLICK_DB} dB):`, merged((t) => t.byLevel), (k) => parseFloat(k.split(' ')[1]!));
    show(`[${coding}] recall by oracle z (matched-filter SNR against the clean source's own model; splices audible from z ${AUDIBLE_SPLICE_Z}):`, merged((t) => t.byOracle),
      (k) => (k.startsWith('click') ? 0 : 1000) + parseFloat(k.split(' ')[3]!));
  }
  if (VERBOSE) {
    console.log('missed clicks/splices (PCM) by the tests their nearest candidate failed (--verbose):');
    for (const [k, n] of [...whyMissed].sort((p, q) => q[1] - p[1])) console.log(`  ${String(n).padStart(5)}  ${k}`);
  }

  // Speed: one thread, 48 kHz mono.
  const x48 = args.has('--no-speed') ? new Float32Array(48000) : speedSignal48k();
  // Warm the JIT on the whole signal (an archive sweep's worker stays warm), then the best of several passes.
  analyze(x48, 48000);
  const reps = QUICK ? 1 : 5;
  // CPU time of this (single) thread as well as wall time: on a shared machine the wall figure measures the neighbours too.
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
  const speed = x48.length / 48000 / bestCpu;
  console.log(`\nspeed: ${(x48.length / 48000).toFixed(1)} s of 48 kHz mono on one thread: ${bestCpu.toFixed(3)} s CPU = ` +
    `${speed.toFixed(0)}x real time (wall ${best.toFixed(3)} s = ${(x48.length / 48000 / best).toFixed(0)}x; load average ${require('node:os').loadavg()[0].toFixed(1)})`);

  // adeclick beside ours on the PCM tuning part, kind-agnostic (it only says "repaired here").
  const pcmTuning = get(CODINGS[0]!, 'tuning');
  const fpPerMin = cleanRate(pcmTuning.cleanBySet).n / cleanRate(pcmTuning.cleanBySet).min;
  if (!args.has('--no-adeclick')) {
    const ad = emptyTally();
    const adAudible = emptyTally();
    const ours = emptyTally();
    const oursAudible = emptyTally();
    let adClean = 0;
    let adSeconds = 0;
    let adAudio = 0;
    for (const [fs, a] of adeclickInput) {
      const x = new Float32Array(a.length);
      let o = 0;
      for (const p of a.parts) { x.set(p, o); o += p.length; }
      const run = adeclick(x, fs);
      adSeconds += run.seconds;
      adAudio += a.length / fs;
      const nearJoin = (i: number) => a.joins.some((j) => Math.abs(i - j) < fs * 0.02);
      const pre = preexistingClipping(x, fs, a.truth);
      const onPre = (s: number, e: number) => pre.some((r) => e / fs >= r.startSec - 0.01 && s / fs <= r.endSec + 0.01);
      const found: Interval[] = run.ranges.filter(([s, e]) => !nearJoin(s) && !onPre(s, e)).map(([s, e]) => ({ kind: 'click' as DetectKind, startSec: s / fs, endSec: e / fs }));
      const m = match(a.truth, found, true);
      for (const t of m.perKind.values()) add(ad, t);
      for (const t of m.audible.values()) add(adAudible, t);
      const oursFound: Interval[] = [];
      let off = 0;
      for (const p of a.parts) {
        for (const e of analyze(p, fs)) oursFound.push({ ...e, startSec: e.startSec + off / fs, endSec: e.endSec + off / fs });
        off += p.length;
      }
      const mo = match(a.truth, withoutPreexisting(oursFound as DetectEvent[], pre).kept, true);
      for (const t of mo.perKind.values()) add(ours, t);
      for (const t of mo.audible.values()) add(oursAudible, t);
    }
    const cleanByRate = new Map<number, Float32Array[]>();
    for (const s of corpus) if (!s.heldOut) cleanByRate.set(s.sampleRate, [...(cleanByRate.get(s.sampleRate) ?? []), s.samples]);
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
    const cleanMin = cleanRate(pcmTuning.cleanBySet).min;
    console.log('\nside by side on the PCM tuning part (kind-agnostic matching: a detection of any kind at the right place counts)');
    console.log('detector                   set      prec%  rec%    F1   false/min clean   x real time');
    const line = (name: string, set: string, t: Tally, fpm: number, sp: string) => {
      const { p, r, f1 } = prf(t);
      console.log(`${name.padEnd(26)} ${set.padEnd(8)} ${pct(p)} ${pct(r)}  ${f1.toFixed(3)}  ${fpm.toFixed(2).padStart(12)}   ${sp}`);
    };
    line('earshot', 'audible', oursAudible, fpPerMin, `${speed.toFixed(0)} (48k, 1 thread)`);
    line('earshot', 'full', ours, fpPerMin, '');
    line('ffmpeg adeclick=m=s', 'audible', adAudible, adClean / cleanMin, `${(adAudio / adSeconds).toFixed(0)} (mixed rates)`);
    line('ffmpeg adeclick=m=s', 'full', ad, adClean / cleanMin, '');
  }

  console.log('\ntargets (audible set; false events on all clean material, held-out part included)');
  const ok = (b: boolean) => (b ? 'met   ' : 'MISSED');
  for (const coding of CODINGS) {
    for (const scope of ['all', 'held-out'] as const) {
      const parts = scope === 'all' ? PARTS : (['held-out'] as Part[]);
      const per = new Map<DetectKind, Tally>(KINDS.map((k) => [k, emptyTally()]));
      let min = 0;
      let n = 0;
      for (const p of parts) {
        for (const [k, t] of get(coding, p).audible) add(per.get(k)!, t);
        const c = cleanRate(get(coding, p).cleanBySet);
        min += c.min;
        n += c.n;
      }
      const f = prf(sum(per)).f1;
      const label = `${coding} ${scope === 'all' ? 'whole corpus' : 'held-out part'}`;
      console.log(`  ${ok(f >= TARGET_F1_ALL)} ${label}: F1 overall ${f.toFixed(3)} >= ${TARGET_F1_ALL}`);
      for (const k of KINDS) {
        const fk = prf(per.get(k)!).f1;
        console.log(`  ${ok(fk >= TARGET_F1_KIND)} ${label}: F1 ${k.padEnd(13)} ${fk.toFixed(3)} >= ${TARGET_F1_KIND}`);
      }
      console.log(`  ${ok(n / min <= TARGET_FP_PER_MIN)} ${label}: false events on clean material ${(n / min).toFixed(2)}/min <= ${TARGET_FP_PER_MIN} (${n} in ${min.toFixed(1)} min)`);
    }
  }
  console.log(`  ${ok(speed >= TARGET_SPEED)} speed ${speed.toFixed(0)}x >= ${TARGET_SPEED}x real time (48 kHz mono, one thread)`);
  console.log(`\n(bench wall time ${((performance.now() - t0) / 1000).toFixed(1)} s)`);
}

main();
