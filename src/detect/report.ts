/**
 * `--report out.html`: a report that scales to a batch. The page opens on a summary (files
 * sorted by severity, counts per kind and per severity, the chopped-audio verdicts), then one
 * section per file in the same order, whose waveform (with a time axis and every event marked
 * in its kind's colour) is its own SVG file in `out.files/`, fetched by the browser only when
 * scrolled to (`loading="lazy"`; sections off screen are not even laid out). Waveforms are
 * written as results arrive, so memory holds only each file's summary, not its envelope. No
 * scripts and nothing from outside the report's own folder: it opens from an archive.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { DetectEvent, DetectKind } from './analyze';
import type { FileResult } from './file';
import { formatTime } from './output';
import { choppedText, SEVERITY_RANK, type FileVerdict, type Severity } from './verdict';

/** Exported so that tests can look for these exact colours in a screenshot. */
export const WAVEFORM_COLOUR = '#1f6feb';
export const KIND_COLOURS: Record<DetectKind, string> = {
  click: '#e5322d',
  dropout: '#f59f00',
  discontinuity: '#9c36b5',
  repeat: '#2b9348',
  clipping: '#d6336c',
};
export const SEVERITY_COLOURS: Record<Severity, string> = { high: '#b42318', medium: '#c4540c', low: '#6e7781', none: '#1a7f37' };
const KINDS = Object.keys(KIND_COLOURS) as DetectKind[];

const W = 1000; // SVG user units across
const LANE = 14; // marker lane height above the waveform
const WAVE_H = 140;
const AXIS_H = 22; // time axis below the waveform
/** Per-file caps, so that a file with thousands of events still gives a page a browser can open. */
const MAX_MARKERS = 2000;
const MAX_ROWS = 200;
/** Files listed in the summary table and given a section; beyond, the JSON output has them. */
const MAX_FILES = 20000;

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function waveformPath(r: FileResult): string {
  const env = r.envelope;
  const totalFrames = (r.durationSec ?? 0) * (r.sampleRate ?? 0);
  if (!env || env.min.length === 0 || totalFrames <= 0) return '';
  const mid = LANE + WAVE_H / 2;
  const half = WAVE_H / 2 - 2;
  const x = (b: number) => Math.min(W, ((b * env.framesPerBucket) / totalFrames) * W);
  // Keep at least a hairline, so that silence still shows where the file is.
  const top = (v: number) => Math.min(mid - 0.5, mid - Math.max(-1, Math.min(1, v)) * half);
  const bot = (v: number) => Math.max(mid + 0.5, mid - Math.max(-1, Math.min(1, v)) * half);
  const upper: string[] = [];
  const lower: string[] = [];
  for (let b = 0; b < env.min.length; b++) {
    const x0 = x(b).toFixed(1);
    const x1 = x(b + 1).toFixed(1);
    const yt = top(env.max[b]!).toFixed(1);
    const yb = bot(env.min[b]!).toFixed(1);
    upper.push(`${x0},${yt} ${x1},${yt}`);
    lower.push(`${x1},${yb} ${x0},${yb}`);
  }
  lower.reverse();
  return `M${upper.join(' ')} ${lower.join(' ')}Z`;
}

/** Tick spacing giving 5-12 labelled ticks across `dur` seconds. */
function tickStep(dur: number): number {
  for (const s of [0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600]) if (dur / s <= 12) return s;
  return 7200;
}

/** The waveform as a standalone SVG document: events in the lane above, a time axis below. */
export function waveformSvg(r: FileResult): string {
  const dur = r.durationSec ?? 0;
  const parts: string[] = [`<rect x="0" y="${LANE}" width="${W}" height="${WAVE_H}" fill="#f6f8fa"/>`, `<path d="${waveformPath(r)}" fill="${WAVEFORM_COLOUR}"/>`];
  for (const e of r.events.slice(0, MAX_MARKERS)) {
    const x0 = (Math.max(0, e.startSec) / dur) * W;
    const w = Math.max(3, ((e.endSec - e.startSec) / dur) * W);
    const xs = Math.min(W - w, x0).toFixed(2);
    const colour = KIND_COLOURS[e.kind] ?? '#000000';
    // An opaque tab in the lane (exact colour, easy to spot) and a faint band over the waveform.
    parts.push(
      `<rect class="mark" x="${xs}" y="0" width="${w.toFixed(2)}" height="${LANE - 2}" fill="${colour}"><title>${e.kind} ${formatTime(e.startSec)} ${e.score.toFixed(1)} dB</title></rect>` +
        `<rect x="${xs}" y="${LANE}" width="${w.toFixed(2)}" height="${WAVE_H}" fill="${colour}" fill-opacity="0.25"/>`,
    );
  }
  const step = tickStep(dur);
  const y = LANE + WAVE_H;
  parts.push(`<line x1="0" y1="${y}" x2="${W}" y2="${y}" stroke="#59636e" stroke-width="1"/>`);
  for (let t = 0; t <= dur + 1e-9; t += step) {
    const x = (t / dur) * W;
    const anchor = x < 20 ? 'start' : x > W - 40 ? 'end' : 'middle';
    parts.push(`<line x1="${x.toFixed(1)}" y1="${y}" x2="${x.toFixed(1)}" y2="${y + 5}" stroke="#59636e"/>` +
      `<text x="${x.toFixed(1)}" y="${y + 17}" font-size="11" font-family="sans-serif" fill="#59636e" text-anchor="${anchor}">${clock(t, step)}</text>`);
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${LANE + WAVE_H + AXIS_H}" preserveAspectRatio="none" width="${W}" height="${LANE + WAVE_H + AXIS_H}">${parts.join('')}</svg>\n`;
}

function clock(t: number, step: number): string {
  const m = Math.floor(t / 60);
  const s = t - m * 60;
  return `${m}:${s.toFixed(step < 1 ? 1 : 0).padStart(step < 1 ? 4 : 2, '0')}`;
}

/** What the page keeps of each file: its summary and first events, never its envelope. */
interface Entry {
  n: number;
  file: string;
  meta: string;
  error?: string;
  verdict?: FileVerdict;
  byKind: Partial<Record<DetectKind, number>>;
  events: DetectEvent[];
  total: number;
  svg?: string;
}

export class ReportWriter {
  private readonly entries: Entry[] = [];
  private readonly dir: string;
  private readonly dirName: string;
  private dropped = 0;

  constructor(private readonly path: string, private readonly title = 'earshot detect report') {
    this.dir = `${path.replace(/\.html?$/i, '')}.files`;
    this.dirName = basename(this.dir);
  }

  add(r: FileResult): void {
    if (this.entries.length >= MAX_FILES) { this.dropped++; return; }
    const n = this.entries.length;
    const byKind: Partial<Record<DetectKind, number>> = {};
    for (const e of r.events) byKind[e.kind] = (byKind[e.kind] ?? 0) + 1;
    const entry: Entry = {
      n, file: r.file, error: r.error, verdict: r.verdict, byKind, events: r.events.slice(0, MAX_ROWS), total: r.events.length,
      meta: r.sampleRate ? `${r.sampleRate} Hz, ${r.channels} ch, ${formatTime(r.durationSec ?? 0)}${r.codec ? `, ${esc(r.codec)}` : ''}` : 'not read',
    };
    if (r.envelope && (r.durationSec ?? 0) > 0) {
      mkdirSync(this.dir, { recursive: true });
      entry.svg = `${this.dirName}/${n}.svg`;
      writeFileSync(`${this.dir}/${n}.svg`, waveformSvg(r));
    }
    this.entries.push(entry);
  }

  finish(): void {
    writeFileSync(this.path, renderPage(this.entries, this.title, this.dropped));
  }
}

const severityOf = (e: Entry): Severity => e.verdict?.severity ?? 'none';
const badge = (s: Severity) => `<span class="sev" style="background:${SEVERITY_COLOURS[s]}">${s}</span>`;
/** An unreadable file has no severity: it says so instead. */
const entryBadge = (e: Entry) => (e.verdict ? badge(e.verdict.severity) : '<span class="sev" style="background:#24292f">unreadable</span>');
const swatch = (k: DetectKind) => `<span class="sw" style="background:${KIND_COLOURS[k]}"></span>`;

function renderPage(entries: Entry[], title: string, dropped: number): string {
  // Worst first: severity, then audible events per minute, then unreadable files before clean ones.
  const sorted = entries.slice().sort((a, b) =>
    SEVERITY_RANK[severityOf(b)] - SEVERITY_RANK[severityOf(a)] || (b.verdict?.audiblePerMin ?? 0) - (a.verdict?.audiblePerMin ?? 0) ||
    Number(!!b.error) - Number(!!a.error) || a.n - b.n);
  const kinds: Record<string, number> = {};
  const sev: Record<Severity, number> = { high: 0, medium: 0, low: 0, none: 0 };
  // Unreadable files are counted apart (the meta line), not as "none".
  let events = 0;
  for (const e of entries) {
    events += e.total;
    if (e.verdict) sev[e.verdict.severity]++;
    for (const [k, c] of Object.entries(e.byKind)) kinds[k] = (kinds[k] ?? 0) + c!;
  }
  const failed = entries.filter((e) => e.error).length;
  const chopped = sorted.filter((e) => e.verdict?.chopped);
  const rows = sorted.map((e) => `<tr><td>${entryBadge(e)}</td><td class="f"><a href="#f${e.n}">${esc(e.file)}</a></td>` +
    `<td>${e.verdict ? e.verdict.audiblePerMin.toFixed(2) : ''}</td><td>${e.verdict ? e.verdict.lostMs : ''}</td>` +
    KINDS.map((k) => `<td>${e.byKind[k] ?? ''}</td>`).join('') +
    `<td class="f">${e.verdict?.chopped ? `chopped: ${choppedText(e.verdict.chopped)}` : e.error ? `<span class="error">${esc(e.error)}</span>` : ''}</td></tr>`).join('\n');
  const sections = sorted.map(fileSection).join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:16px 24px;color:#1f2328;background:#fff}
h1{font-size:20px;margin:0 0 4px}h2{font-size:15px;margin:18px 0 2px;word-break:break-all}h3{font-size:15px;margin:14px 0 4px}
.meta{color:#59636e;margin:0 0 6px}.error{color:#b42318}
.cards{display:flex;gap:10px;flex-wrap:wrap;margin:8px 0}.card{border:1px solid #d0d7de;border-radius:6px;padding:6px 12px;min-width:90px}
.card b{display:block;font-size:22px}
img.wave{display:block;width:100%;height:176px;border:1px solid #d0d7de;background:#f6f8fa}
section{content-visibility:auto;contain-intrinsic-size:auto 420px}
table{border-collapse:collapse;margin-top:6px}td,th{padding:2px 8px;text-align:right;border-bottom:1px solid #eaeef2}
td:first-child,th:first-child,td.f,th.f{text-align:left}td.f{word-break:break-all}
.sw{display:inline-block;width:10px;height:10px;margin-right:6px;vertical-align:-1px}
.sev{display:inline-block;color:#fff;border-radius:4px;padding:0 6px;font-size:12px}
</style></head><body>
<h1>${esc(title)}</h1>
<p class="meta">${entries.length} file${entries.length === 1 ? '' : 's'}, ${events} event${events === 1 ? '' : 's'}${failed ? `, ${failed} unreadable` : ''}${dropped ? `, ${dropped} more files not shown (see the JSON output)` : ''}; scores are dB re the 20 ms before each event</p>
<div class="cards">${(['high', 'medium', 'low', 'none'] as Severity[]).map((s) => `<div class="card">${badge(s)}<b>${sev[s]}</b>files</div>`).join('')}
${KINDS.map((k) => `<div class="card">${swatch(k)}${k}<b>${kinds[k] ?? 0}</b>events</div>`).join('')}</div>
${chopped.length ? `<h3>Chopped audio (${chopped.length} file${chopped.length === 1 ? '' : 's'})</h3><ul>${chopped.map((e) => `<li><a href="#f${e.n}">${esc(e.file)}</a>: ${choppedText(e.verdict!.chopped!)}</li>`).join('')}</ul>` : ''}
<h3>Files by severity</h3>
<table class="files"><thead><tr><th>severity</th><th class="f">file</th><th>audible/min</th><th>lost ms</th>${KINDS.map((k) => `<th>${swatch(k)}${k}</th>`).join('')}<th class="f">verdict</th></tr></thead><tbody>
${rows}
</tbody></table>
${sections}
</body></html>
`;
}

function fileSection(e: Entry): string {
  const parts: string[] = [`<section id="f${e.n}"><h2>${esc(e.file)}</h2><p class="meta">${entryBadge(e)} ${e.meta} &middot; ${e.total} event${e.total === 1 ? '' : 's'}` +
    `${e.verdict?.chopped ? ` &middot; chopped: ${choppedText(e.verdict.chopped)}` : ''}</p>`];
  if (e.error) parts.push(`<p class="error">error: ${esc(e.error)}</p>`);
  if (e.svg) parts.push(`<img class="wave" loading="lazy" src="${encodeURI(e.svg)}" alt="waveform of ${esc(e.file)}">`);
  if (e.events.length > 0) {
    const rows = e.events.map((v) =>
      `<tr><td>${swatch(v.kind)}${v.kind}</td><td>${formatTime(v.startSec)}</td><td>${formatTime(v.endSec)}</td>` +
        `<td>${((v.endSec - v.startSec) * 1000).toFixed(2)}</td><td>${v.channel}</td><td>${v.score.toFixed(1)}</td></tr>`).join('');
    const more = e.total > e.events.length ? `<p class="meta">${e.total - e.events.length} more events not listed (see --json)</p>` : '';
    parts.push(`<table><thead><tr><th>kind</th><th>start</th><th>end</th><th>ms</th><th>ch</th><th>dB</th></tr></thead><tbody>${rows}</tbody></table>${more}`);
  }
  parts.push('</section>');
  return parts.join('');
}

/** The whole report for results already in memory (tests, small batches). */
export function writeReport(path: string, results: FileResult[]): void {
  const w = new ReportWriter(path);
  for (const r of results) w.add(r);
  w.finish();
}
