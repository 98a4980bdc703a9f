/**
 * `earshot detect`: find clicks, dropouts, splices, repeats and clipping in
 * recordings, one file or a whole archive, and say so in the exit code.
 */
import { closeSync, openSync } from 'node:fs';
import type { DetectKind } from '../detect/analyze';
import { collectInputs, defaultJobs, runBatch } from '../detect/batch';
import { CSV_HEADER, TABLE_HEADER, csvRows, jsonLine, tableRows, writeLabels, type OutputFormat } from '../detect/output';
import { ReportWriter } from '../detect/report';
import { parseFlags } from './args';
import { parseDuration, UserError } from '../util/duration';
import { isUrl, parseShard, readManifest, redactUrl, SweepOutput } from '../detect/sweep';

const KINDS: DetectKind[] = ['click', 'dropout', 'discontinuity', 'repeat', 'clipping'];

export const EXIT_CLEAN = 0;
export const EXIT_FOUND = 1;
export const EXIT_BAD_INPUT = 2;

const HELP = `usage: earshot detect PATH... [--json | --csv | --labels] [--report FILE.html]
                      [--jobs N] [--fail-on KINDS] [--sensitivity X]
       earshot detect --manifest FILE|- [--shard INDEX/COUNT] --output FILE.jsonl [...]

Finds clicks, dropouts, discontinuities (splices), repeated blocks and clipping
in recordings. PATH is a file or a folder (searched recursively for audio files).
WAV (RIFF/RIFX/RF64) is read natively; other formats (FLAC, Ogg/WebM Opus, MP3...)
are decoded with ffmpeg. Each file is streamed: memory stays flat whatever its size.

Every event's score is its level in dB relative to the audio's RMS over the 20 ms
before it: a click's peak, a splice's jump, the audio a dropout lost (about 0 dB),
a repeated block's level, the level clipping cut off at; a click at or above 0 dB
is plainly audible. Each file gets a severity (none, low, medium, high) from its
audible events per minute (clicks at or above 0 dB, every other event) and the
share of audio lost, and a chopped-audio verdict when holes recur at a steady
period ("80 ms holes every 170 ms").

output (stdout; default a table):
  --json             JSON Lines, one object per file:
                     {"file","sampleRate","channels","durationSec",
                      "events":[{"kind","startSec","endSec","channel","score"}],
                      "severity","audiblePerMin","lostMs","chopped":null|{"holeMs",
                      "everyMs","holes","fromSec","toSec"},"error"?}
  --csv              one row per event (a file without events gets one empty row)
  --labels           write an Audacity label track beside each file
                     (FILE.labels.txt: start<TAB>end<TAB>kind score)
  --report FILE.html also write a self-contained HTML page: a summary of the batch
                     (files by severity, counts per kind, chopped verdicts), then
                     each file's waveform with a time axis, drawn when scrolled to

sweeps (an archive over many machines):
  --manifest FILE    read paths or http(s) URLs, one a line (# comments), from FILE
                     or - for stdin, besides any PATH given
  --shard I/COUNT    analyse only entries I, I+COUNT, I+2*COUNT... (0-based); "/COUNT"
                     takes I from JOB_COMPLETION_INDEX (a Kubernetes Indexed Job)
  --output FILE      append JSON Lines records to FILE as each file is done, and on a
                     rerun skip the files already in it (resume after a kill)
  --heartbeat DUR    when stderr is not a terminal, a progress line every DUR (files,
                     audio hours, queue left, last file done; default 30s, 0 for none)

options:
  --jobs N           files analysed in parallel (default: ${defaultJobs()}, the core count)
  --fail-on KINDS    comma-separated kinds that make the exit code 1
                     (${KINDS.join(', ')}; "any" (default) or "none")
  --sensitivity X    scales every detection threshold: a higher X only ever adds events
                     (>1 finds more, <1 fewer; default 1, useful range 0.25-4)
  -h, --help         this help

A progress bar is drawn on stderr when it is a terminal; a summary line always goes
to stderr. A file that cannot be read is reported (with "error") and skipped.

exit codes:
  0  nothing found (or nothing of the --fail-on kinds)
  1  events of the --fail-on kinds were found
  2  usage error, or no input file could be read
`;

function parseFailOn(text: string): Set<DetectKind> {
  const t = text.trim().toLowerCase();
  if (t === 'any' || t === 'all') return new Set(KINDS);
  if (t === 'none') return new Set();
  const kinds = new Set<DetectKind>();
  for (const part of t.split(',').map((s) => s.trim()).filter(Boolean)) {
    if (!KINDS.includes(part as DetectKind)) {
      throw new UserError(`--fail-on: unknown kind "${part}" - use a comma-separated list of ${KINDS.join(', ')}, or any / none`);
    }
    kinds.add(part as DetectKind);
  }
  if (kinds.size === 0) throw new UserError('--fail-on needs at least one kind - e.g. --fail-on click,dropout, or any / none');
  return kinds;
}

function parsePositiveInt(text: string, flag: string): number {
  if (!/^\d+$/.test(text.trim()) || Number(text) < 1) throw new UserError(`${flag} "${text}" is not a positive whole number - use e.g. ${flag} 2`);
  return Number(text);
}

function parseSensitivity(text: string): number {
  const x = Number(text);
  if (!Number.isFinite(x) || x <= 0 || x > 100) throw new UserError(`--sensitivity "${text}" must be a number above 0 (1 is the default; 2 finds more, 0.5 fewer)`);
  return x;
}

export async function main(argv: string[]): Promise<number> {
  const parsed = parseFlags('detect', argv, {
    json: { type: 'boolean' },
    csv: { type: 'boolean' },
    labels: { type: 'boolean' },
    report: { type: 'string' },
    jobs: { type: 'string' },
    'fail-on': { type: 'string' },
    sensitivity: { type: 'string' },
    manifest: { type: 'string' },
    shard: { type: 'string' },
    output: { type: 'string' },
    heartbeat: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  }, true);
  const { values: v, positionals } = parsed;
  if (v.help) {
    process.stdout.write(HELP);
    return EXIT_CLEAN;
  }
  const formats = (['json', 'csv', 'labels'] as const).filter((f) => v[f]);
  if (formats.length > 1) throw new UserError(`--${formats.join(' and --')} cannot be combined - pick one output format`);
  const format: OutputFormat = formats.length > 0 ? formats[0]! : 'table';
  if (positionals.length === 0 && v.manifest === undefined) throw new UserError('no input - give one or more files or folders, e.g. `earshot detect recordings/`, or --manifest FILE');
  const shard = v.shard !== undefined ? parseShard(v.shard, process.env) : undefined;
  const heartbeatSec = parseDuration(v.heartbeat ?? '30s', '--heartbeat') / 1000;
  if (v.output !== undefined && format !== 'table') throw new UserError(`--output writes JSON Lines to its file - drop --${format}`);
  const jobs = v.jobs !== undefined ? parsePositiveInt(v.jobs, '--jobs') : defaultJobs();
  const failOn = parseFailOn(v['fail-on'] ?? 'any');
  const sensitivity = v.sensitivity !== undefined ? parseSensitivity(v.sensitivity) : undefined;
  const reportPath = v.report;
  if (reportPath !== undefined) {
    if (!reportPath) throw new UserError('--report needs a file name, e.g. --report detect.html');
    // Fail before hours of analysis, not after, if the report cannot be written.
    try {
      closeSync(openSync(reportPath, 'w'));
    } catch (err) {
      throw new UserError(`--report ${reportPath}: cannot write it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}) - check the folder exists and is writable`);
    }
  }

  let inputs = await collectInputs(positionals);
  if (v.manifest !== undefined) {
    // A manifest alone is sharded as it is read: a pod holds only its own share of the list.
    const entries = await readManifest(v.manifest, positionals.length === 0 ? shard : undefined, process.stdin);
    inputs.push(...entries.map((e) => (isUrl(e) ? { path: e, name: redactUrl(e), size: 0 } : { path: e, size: 0 })));
  }
  if (inputs.length === 0) throw new UserError(`no audio files found in ${[...positionals, ...(v.manifest ? [v.manifest] : [])].join(', ')} - give WAV/FLAC/Opus/MP3 files or folders containing them`);
  // Shards split the whole expanded list, so folders and manifests shard alike.
  if (shard && positionals.length > 0) inputs = inputs.filter((_, i) => i % shard.count === shard.index);
  const sweep = v.output !== undefined ? SweepOutput.open(v.output) : undefined;
  const skipped = sweep ? inputs.filter((f) => sweep.done.has(f.name ?? f.path)).length : 0;
  if (sweep) inputs = inputs.filter((f) => !sweep.done.has(f.name ?? f.path));
  const label = shard ? `shard ${shard.index}/${shard.count}` : '';
  if (sweep) {
    process.stderr.write(`earshot detect${label ? ` [${label}]` : ''}: ${inputs.length} files to do` +
      `${skipped ? `, ${skipped} already in ${v.output} (skipped)` : ''}\n`);
  }

  const out = process.stdout;
  if (format === 'csv') out.write(CSV_HEADER);
  if (format === 'table' && !sweep) out.write(TABLE_HEADER);
  const report = reportPath !== undefined ? new ReportWriter(reportPath) : undefined;
  let failing = 0;
  let readable = 0;
  const summary = await runBatch(inputs, {
    jobs,
    sensitivity,
    envelope: reportPath !== undefined,
    heartbeatSec,
    label,
    onResult(r) {
      if (r.sampleRate !== null) readable++;
      failing += r.events.filter((e) => failOn.has(e.kind)).length;
      report?.add(r);
      delete r.envelope;
      if (sweep) {
        sweep.append(jsonLine(r));
        return;
      }
      switch (format) {
        case 'json':
          out.write(jsonLine(r));
          break;
        case 'csv':
          out.write(csvRows(r));
          break;
        case 'labels':
          if (r.error !== undefined && r.sampleRate === null) {
            out.write(`${r.file}: error: ${r.error}\n`);
            break;
          }
          try {
            out.write(`${writeLabels(r)}\t${r.events.length} events${r.error ? ` (error: ${r.error})` : ''}\n`);
          } catch (err) {
            process.stderr.write(`earshot: ${r.file}: cannot write labels (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})\n`);
          }
          break;
        default:
          out.write(tableRows(r));
      }
    },
  });
  sweep?.close();
  report?.finish();

  const kinds = Object.entries(summary.byKind)
    .map(([k, n]) => `${n} ${k}`)
    .join(', ');
  const speed = summary.wallSec > 0 ? Math.round(summary.audioSec / summary.wallSec) : 0;
  process.stderr.write(
    `earshot detect${label ? ` [${label}]` : ''}: ${summary.files} file${summary.files === 1 ? '' : 's'}` +
      `${summary.failed ? ` (${summary.failed} with errors)` : ''}, ` +
      `${formatHours(summary.audioSec)} of audio in ${summary.wallSec.toFixed(1)} s (${speed}x real time), ` +
      `${summary.events} event${summary.events === 1 ? '' : 's'}${kinds ? ` (${kinds})` : ''}` +
      `${reportPath !== undefined ? `; report: ${reportPath}` : ''}\n`,
  );
  if (readable === 0 && !(sweep && summary.files === 0)) return EXIT_BAD_INPUT;
  return failing > 0 ? EXIT_FOUND : EXIT_CLEAN;
}

function formatHours(sec: number): string {
  if (sec < 60) return `${sec.toFixed(1)} s`;
  if (sec < 3600) return `${(sec / 60).toFixed(1)} min`;
  return `${(sec / 3600).toFixed(2)} h`;
}
