/**
 * How detection results are written: JSON Lines (DESIGN.md's shape, one object
 * per file), CSV (one row per event; a file without events still gets a row),
 * Audacity label tracks (a `.labels.txt` beside each file), or a table for
 * people. Each writer takes results one at a time, so output streams.
 */
import { writeFileSync } from 'node:fs';
import type { FileResult } from './file';
import { choppedText } from './verdict';

export type OutputFormat = 'table' | 'json' | 'csv' | 'labels';

/** Seconds are written to the microsecond: finer than any event edge, short enough to read. */
const round6 = (x: number): number => Math.round(x * 1e6) / 1e6;
const round3 = (x: number): number => Math.round(x * 1e3) / 1e3;

/** The JSON object DESIGN.md specifies; unknown numbers (a file that never opened) are null. */
export function toJsonRecord(r: FileResult): Record<string, unknown> {
  const rec: Record<string, unknown> = {
    file: r.file,
    sampleRate: r.sampleRate,
    channels: r.channels,
    durationSec: r.durationSec === null ? null : round6(r.durationSec),
    events: r.events.map((e) => ({
      kind: e.kind,
      startSec: round6(e.startSec),
      endSec: round6(e.endSec),
      channel: e.channel,
      score: round3(e.score),
    })),
  };
  if (r.verdict) {
    rec.severity = r.verdict.severity;
    rec.audiblePerMin = r.verdict.audiblePerMin;
    rec.lostMs = r.verdict.lostMs;
    rec.chopped = r.verdict.chopped;
  }
  if (r.error !== undefined) rec.error = r.error;
  return rec;
}

export function jsonLine(r: FileResult): string {
  return JSON.stringify(toJsonRecord(r)) + '\n';
}

export const CSV_HEADER = 'file,sampleRate,channels,durationSec,kind,startSec,endSec,channel,score,error\n';

function csvField(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvRows(r: FileResult): string {
  const rec = toJsonRecord(r) as { events: Array<Record<string, unknown>> } & Record<string, unknown>;
  const head = [rec.file, rec.sampleRate, rec.channels, rec.durationSec];
  const rows = rec.events.length
    ? rec.events.map((e) => [...head, e.kind, e.startSec, e.endSec, e.channel, e.score, rec.error])
    : [[...head, '', '', '', '', '', rec.error]];
  return rows.map((row) => row.map(csvField).join(',') + '\n').join('');
}

/** Audacity's label-track text: `start<TAB>end<TAB>label`, one line per event. */
export function audacityLabels(r: FileResult): string {
  return r.events
    .map((e) => `${e.startSec.toFixed(6)}\t${e.endSec.toFixed(6)}\t${e.kind} ${round3(e.score)}${r.channels && r.channels > 1 ? ` ch${e.channel}` : ''}\n`)
    .join('');
}

/**
 * Where a file's labels go: beside it, named after the whole file name
 * (`meeting.wav.labels.txt`) so that `meeting.ogg` and `meeting.wav` from the
 * same recording, or a transcript `meeting.txt`, are never overwritten.
 */
export function labelsPath(file: string): string {
  return `${file}.labels.txt`;
}

export function writeLabels(r: FileResult): string {
  const path = labelsPath(r.file);
  writeFileSync(path, audacityLabels(r));
  return path;
}

export const TABLE_HEADER = `${'FILE'.padEnd(40)} ${'KIND'.padEnd(13)} ${'START'.padStart(11)} ${'END'.padStart(11)} ${'CH'.padStart(3)} ${'dB'.padStart(7)}\n`;

export function tableRows(r: FileResult): string {
  const name = r.file.length > 40 ? `...${r.file.slice(-37)}` : r.file.padEnd(40);
  if (r.error !== undefined && r.events.length === 0) return `${name} error: ${r.error}\n`;
  const rows = r.events.map(
    (e) =>
      `${name} ${e.kind.padEnd(13)} ${formatTime(e.startSec).padStart(11)} ${formatTime(e.endSec).padStart(11)} ${String(e.channel).padStart(3)} ${e.score.toFixed(1).padStart(7)}\n`,
  );
  if (rows.length === 0) rows.push(`${name} (nothing found in ${formatTime(r.durationSec ?? 0)})\n`);
  else if (r.verdict) {
    const v = r.verdict;
    rows.push(`${name} severity ${v.severity}: ${v.audiblePerMin} audible/min, ${v.lostMs} ms lost` +
      `${v.chopped ? `; CHOPPED: ${choppedText(v.chopped)}` : ''}\n`);
  }
  if (r.error !== undefined) rows.push(`${name} error: ${r.error}\n`);
  return rows.join('');
}

/** 83.25 -> "1:23.250": minutes and seconds, the way a person scrubs a recording. */
export function formatTime(sec: number): string {
  const m = Math.floor(sec / 60);
  const s = sec - m * 60;
  return `${m}:${s.toFixed(3).padStart(6, '0')}`;
}
