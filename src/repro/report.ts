/** What `earshot repro` prints and writes: a terminal table, repro.json and an HTML timeline. */
import type { ReproRun } from './scenario';

const COLUMNS: Array<[string, (r: ReproRun) => string]> = [
  ['configuration', (r) => r.name],
  ['dropped ms', (r) => String(r.groundTruthDroppedMs)],
  ['drops', (r) => String(r.groundTruthDropEvents)],
  ['matched', (r) => (r.groundTruthDropEvents ? `${r.groundTruthMatched}/${r.groundTruthDropEvents}` : '-')],
  ['misses', (r) => String(r.deadlineMisses ?? '?')],
  ['dropouts', (r) => String(r.dropouts ?? '?')],
  ['late p99', (r) => (r.latenessP99Ms === null ? '?' : r.latenessP99Ms.toFixed(1))],
  ['src jitter p99', (r) => (r.sourceJitterP99Ms === null ? '?' : r.sourceJitterP99Ms.toFixed(1))],
  ['pops', (r) => String(r.detectedPops ?? '?')],
  ['loop max ms', (r) => (r.eventLoopDelayMaxMs === null ? '?' : r.eventLoopDelayMaxMs.toFixed(0))],
  ['logs written', (r) => String(r.logRecordsWritten ?? '?')],
  ['logs dropped', (r) => String(r.logRecordsDropped ?? '?')],
];

export function table(runs: ReproRun[]): string {
  const rows = [COLUMNS.map(([h]) => h), ...runs.map((r) => COLUMNS.map(([, f]) => f(r)))];
  const widths = COLUMNS.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  const fmt = (row: string[]) => row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ');
  const lines = [fmt(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(fmt)];
  const notes = runs.flatMap((r) => r.notes.map((n) => `  ${r.name}: ${n}`));
  return [
    ...lines,
    '',
    'dropped ms / drops: audio the capture device lost (ground truth, source emulator); matched: drops with a runtime',
    'event within ±20 ms; misses / dropouts: earshot\'s own detector (misses: our own thread more than 20 ms late; late p99: that',
    'lateness, ms; src jitter p99: how late the source delivered against its own clock, never an event); pops: `earshot detect` on the recording, less those',
    'it also finds in the clean input (±50 ms).',
    ...(notes.length ? ['', 'notes:', ...notes] : []),
  ].join('\n');
}

export function reproJson(runs: ReproRun[], meta: Record<string, unknown>): string {
  return JSON.stringify({ ...meta, runs }, null, 1) + '\n';
}

const esc = (s: string) => s.replace(/[&<>"]/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[ch]!);

export function html(runs: ReproRun[], durationSec: number, title: string): string {
  const W = 900;
  const x = (t: number) => ((Math.max(0, Math.min(t, durationSec)) / durationSec) * W).toFixed(1);
  const w = (ms: number) => Math.max(1.5, (ms / 1000 / durationSec) * W).toFixed(1);
  const lane = (r: ReproRun) => {
    const rows: string[] = [];
    // Three rows per lane: ground truth (red), earshot's runtime events (orange), offline detector (blue).
    for (const m of r.marks.groundTruth) rows.push(`<rect x="${x(m.t)}" y="2" width="${w(m.durationMs)}" height="12" fill="#d62728"><title>lost ${m.durationMs} ms at ${m.t.toFixed(2)} s</title></rect>`);
    for (const m of r.marks.runtime) rows.push(`<rect x="${x(m.t)}" y="18" width="${w(m.durationMs)}" height="12" fill="#ff7f0e"><title>${esc(m.kind)} ${m.durationMs} ms at ${m.t.toFixed(2)} s</title></rect>`);
    for (const m of r.marks.detected) rows.push(`<rect x="${x(m.t)}" y="34" width="${w(m.durationMs)}" height="12" fill="#1f77b4"><title>${esc(m.kind)} at ${m.t.toFixed(2)} s</title></rect>`);
    const ok = r.groundTruthDroppedMs === 0 && (r.deadlineMisses ?? 0) === 0;
    return `<div class="lane ${ok ? 'ok' : 'bad'}"><h3>${esc(r.name)}</h3>
<p>${r.groundTruthDroppedMs} ms lost in ${r.groundTruthDropEvents} drops · deadline misses ${r.deadlineMisses ?? '?'} · dropouts ${r.dropouts ?? '?'} · pops ${r.detectedPops ?? '?'} · event-loop max ${r.eventLoopDelayMaxMs?.toFixed(0) ?? '?'} ms · logs ${r.logRecordsWritten ?? '?'} written / ${r.logRecordsDropped ?? '?'} dropped</p>
<svg width="${W}" height="48" viewBox="0 0 ${W} 48"><rect width="${W}" height="48" fill="#f4f4f4"/>${rows.join('')}</svg>
${r.notes.length ? `<ul>${r.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>` : ''}</div>`;
  };
  const ticks = Array.from({ length: Math.floor(durationSec) + 1 }, (_, s) => `<span style="left:${x(s)}px">${s}s</span>`).join('');
  return `<!doctype html><meta charset="utf-8"><title>${esc(title)}</title>
<style>body{font:14px system-ui,sans-serif;margin:2em;max-width:960px}h3{margin:.2em 0}.lane{margin:1.2em 0;padding:.4em .8em;border-left:6px solid #2ca02c}.lane.bad{border-color:#d62728}
.axis{position:relative;height:1.2em;width:900px;color:#666;font-size:11px}.axis span{position:absolute}.key span{display:inline-block;width:1em;height:1em;vertical-align:middle;margin:0 .3em 0 1em}p{margin:.2em 0;color:#333}</style>
<h1>${esc(title)}</h1>
<p class="key">Rows per lane: <span style="background:#d62728"></span>audio lost by the capture device (ground truth)
<span style="background:#ff7f0e"></span>earshot's runtime events <span style="background:#1f77b4"></span>pops found by <code>earshot detect</code> in the recording</p>
<div class="axis">${ticks}</div>
${runs.map(lane).join('\n')}
`;
}
