/**
 * `--report out.html`: one self-contained page (inline SVG and CSS, no
 * scripts or external assets, so it opens from an archive or an email) with,
 * per file, the waveform overview, every event marked on it in its kind's
 * colour, and a table of the events.
 */
import { writeFileSync } from 'node:fs';
import type { DetectKind } from './analyze';
import type { FileResult } from './file';
import { formatTime } from './output';

/** Exported so that tests can look for these exact colours in a screenshot. */
export const WAVEFORM_COLOUR = '#1f6feb';
export const KIND_COLOURS: Record<DetectKind, string> = {
  click: '#e5322d',
  dropout: '#f59f00',
  discontinuity: '#9c36b5',
  repeat: '#2b9348',
  clipping: '#d6336c',
};

const W = 1000; // SVG user units across; the SVG stretches to the page width
const LANE = 14; // marker lane height above the waveform
const WAVE_H = 140;
/** Per-file caps, so that a file with thousands of events still gives a page a browser can open. */
const MAX_MARKERS = 2000;
const MAX_ROWS = 500;

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
    const x0 = x(b).toFixed(2);
    const x1 = x(b + 1).toFixed(2);
    const yt = top(env.max[b]!).toFixed(2);
    const yb = bot(env.min[b]!).toFixed(2);
    upper.push(`${x0},${yt} ${x1},${yt}`);
    lower.push(`${x1},${yb} ${x0},${yb}`);
  }
  lower.reverse();
  return `M${upper.join(' ')} ${lower.join(' ')}Z`;
}

function fileSection(r: FileResult, index: number): string {
  const dur = r.durationSec ?? 0;
  const meta = r.sampleRate
    ? `${r.sampleRate} Hz, ${r.channels} ch, ${formatTime(dur)}${r.codec ? `, ${esc(r.codec)}` : ''}`
    : 'not read';
  const parts: string[] = [`<section id="f${index}"><h2>${esc(r.file)}</h2><p class="meta">${meta} &middot; ${r.events.length} event${r.events.length === 1 ? '' : 's'}</p>`];
  if (r.error) parts.push(`<p class="error">error: ${esc(r.error)}</p>`);
  if (r.envelope && dur > 0) {
    const markers: string[] = [];
    for (const e of r.events.slice(0, MAX_MARKERS)) {
      const x0 = (Math.max(0, e.startSec) / dur) * W;
      const w = Math.max(3, ((e.endSec - e.startSec) / dur) * W);
      const xs = Math.min(W - w, x0).toFixed(2);
      const colour = KIND_COLOURS[e.kind] ?? '#000000';
      const title = `<title>${e.kind} ${formatTime(e.startSec)}-${formatTime(e.endSec)} ch${e.channel} score ${e.score.toFixed(1)}</title>`;
      // An opaque tab in the lane (exact colour, easy to spot) and a faint band over the waveform.
      markers.push(
        `<rect class="mark" x="${xs}" y="0" width="${w.toFixed(2)}" height="${LANE - 2}" fill="${colour}">${title}</rect>` +
          `<rect x="${xs}" y="${LANE}" width="${w.toFixed(2)}" height="${WAVE_H}" fill="${colour}" fill-opacity="0.25"/>`,
      );
    }
    parts.push(
      `<svg viewBox="0 0 ${W} ${LANE + WAVE_H}" preserveAspectRatio="none" role="img" aria-label="waveform of ${esc(r.file)}">` +
        `<rect x="0" y="${LANE}" width="${W}" height="${WAVE_H}" fill="#f6f8fa"/>` +
        `<path d="${waveformPath(r)}" fill="${WAVEFORM_COLOUR}"/>` +
        markers.join('') +
        `</svg>`,
    );
  }
  if (r.events.length > 0) {
    const rows = r.events
      .slice(0, MAX_ROWS)
      .map(
        (e) =>
          `<tr><td><span class="sw" style="background:${KIND_COLOURS[e.kind] ?? '#000'}"></span>${e.kind}</td>` +
          `<td>${formatTime(e.startSec)}</td><td>${formatTime(e.endSec)}</td><td>${((e.endSec - e.startSec) * 1000).toFixed(2)}</td>` +
          `<td>${e.channel}</td><td>${e.score.toFixed(1)}</td></tr>`,
      )
      .join('');
    const more = r.events.length > MAX_ROWS ? `<p class="meta">${r.events.length - MAX_ROWS} more events not listed (see --json)</p>` : '';
    parts.push(`<table><thead><tr><th>kind</th><th>start</th><th>end</th><th>ms</th><th>ch</th><th>score</th></tr></thead><tbody>${rows}</tbody></table>${more}`);
  }
  parts.push('</section>');
  return parts.join('');
}

export function renderReport(results: FileResult[], title = 'earshot detect report'): string {
  const events = results.reduce((s, r) => s + r.events.length, 0);
  const failed = results.filter((r) => r.error).length;
  const legend = Object.entries(KIND_COLOURS)
    .map(([k, c]) => `<span class="key"><span class="sw" style="background:${c}"></span>${k}</span>`)
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:16px 24px;color:#1f2328;background:#fff}
h1{font-size:20px;margin:0 0 4px}h2{font-size:15px;margin:18px 0 2px;word-break:break-all}
.meta{color:#59636e;margin:0 0 6px}.error{color:#b42318;margin:4px 0}
svg{display:block;width:100%;height:160px;border:1px solid #d0d7de}
table{border-collapse:collapse;margin-top:6px}td,th{padding:2px 10px;text-align:right;border-bottom:1px solid #eaeef2}
td:first-child,th:first-child{text-align:left}.sw{display:inline-block;width:10px;height:10px;margin-right:6px;vertical-align:-1px}
.key{margin-right:14px}
</style></head><body>
<h1>${esc(title)}</h1>
<p class="meta">${results.length} file${results.length === 1 ? '' : 's'}, ${events} event${events === 1 ? '' : 's'}${failed ? `, ${failed} unreadable` : ''} &middot; ${legend}</p>
${results.map(fileSection).join('\n')}
</body></html>
`;
}

export function writeReport(path: string, results: FileResult[]): void {
  writeFileSync(path, renderReport(results));
}
