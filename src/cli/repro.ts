/**
 * `earshot repro`: reproduces the serial-console logging stall on this host
 * and shows, side by side, the configurations that make it go away. Every run
 * is a real `earshot run` child fed by a capture-device emulator, with its
 * stdout on an emulated 115200-baud serial console.
 */
import { accessSync, constants, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseFlags } from './args';
import { ROOT } from '../paths';
import { defaultMatrix, fullMatrix } from '../repro/matrix';
import { html, reproJson, table } from '../repro/report';
import { detectPops, runScenario, type ReproRun } from '../repro/scenario';
import { decodeToPcm, wavOf } from '../repro/source';
import { parseStress } from '../repro/stress';
import { makeDir } from '../sinks/record-dir';
import { parseDuration, UserError } from '../util/duration';

const HELP = `usage: earshot repro [--duration 20s] [--sample FILE] [--json FILE] [--html FILE] [--all]

Reproduces the serial-console stall: a chatty module logging at trace to stdout,
stdout on a 115200-baud serial console (emulated with a pty; the host's real
consoles are never touched), audio from a capture-device emulator that drops
what is not read in time (the ground truth). Runs, one after another:

  legacy                  audio on the main thread, console-sync logging (the LEGACY sink)
  legacy + async logs     audio on the main thread, bounded asynchronous stdout logging
  worker + console-sync   audio on the worker, console-sync logging
  earshot default         audio on the worker, bounded asynchronous file logging
  earshot default under cpu:3 with and without --rt-nice -10, and under irq-like
  (a SCHED_FIFO burst loop on CPU 0) with the audio thread on CPU 0 or pinned away
--all adds every stressor variant (and fifo priority) for every logging setup.

options:
  --duration DUR     length of each run (default 20s)
  --sample FILE      audio to play (default samples/speech.wav; any format ffmpeg reads)
  --json FILE        write repro.json here (default: in the work folder)
  --html FILE        write the timeline page here (default: in the work folder)
  --all              the full matrix (4 logging setups x 6 stress variants)
  --only TEXT        only the configuration named TEXT, else those whose name contains TEXT
  --chatter N        partner-style trace records per second (default 400, ~80 KB/s)
  --baud N           serial console speed (default 115200)
  --buffer-ms N      capture device buffer (default 40 ms: two 20 ms periods)
  --irq-burst B/P    irq-like stressor shape: B ms busy every P ms (default 30/100); a burst
                     longer than the device buffer makes the capture device overrun
  --work DIR         where runs keep recordings, logs and console captures (default: a temp folder)
`;

const options = {
  duration: { type: 'string' },
  sample: { type: 'string' },
  json: { type: 'string' },
  html: { type: 'string' },
  all: { type: 'boolean' },
  only: { type: 'string' },
  chatter: { type: 'string' },
  baud: { type: 'string' },
  'buffer-ms': { type: 'string' },
  'irq-burst': { type: 'string' },
  work: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

function positive(text: string | undefined, fallback: number, flag: string): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) throw new UserError(`${flag} "${text}" - give a positive number`);
  return n;
}

function statOf(path: string) {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

/** The results were measured at length: a write that fails is one line (and the table is already out). */
function writeOutput(path: string, text: string, flag: string): void {
  try {
    writeFileSync(path, text);
  } catch (err) {
    throw new UserError(`${flag} ${path}: cannot write it (${(err as NodeJS.ErrnoException).code}) - the table above has the results`, 1);
  }
}

function checkWritableParent(path: string, flag: string): void {
  const dir = dirname(path);
  const st = statOf(dir);
  if (!st?.isDirectory()) throw new UserError(`${flag} ${path}: the folder ${dir} does not exist - make it first or give another path`);
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    throw new UserError(`${flag} ${path}: the folder ${dir} is not writable - give another path`);
  }
  if (statOf(path)?.isDirectory()) throw new UserError(`${flag} ${path} is a folder - give a file name`);
}

export async function main(argv: string[]): Promise<number> {
  const { values } = parseFlags('repro', argv, options);
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const durationMs = parseDuration(values.duration ?? '20s', '--duration');
  if (durationMs < 2000) throw new UserError(`--duration ${values.duration} is too short to show anything - use at least 2s`);
  const sample = resolve(values.sample ?? join(ROOT, 'samples', 'speech.wav'));
  const st = statOf(sample);
  if (!st) throw new UserError(`--sample ${sample} does not exist - give an audio file`);
  // ffmpeg would wait forever on a FIFO nobody writes, and read a device without end.
  if (!st.isFile()) throw new UserError(`--sample ${sample} is not a regular file - give an audio file`);
  const chatter = positive(values.chatter, 400, '--chatter');
  const baud = positive(values.baud, 115200, '--baud');
  const bufferMs = positive(values['buffer-ms'], 40, '--buffer-ms');
  const irq = values['irq-burst'];
  if (irq !== undefined && !/^\d+\/\d+$/.test(irq)) throw new UserError(`--irq-burst "${irq}" - give BUSY_MS/PERIOD_MS, e.g. 60/200`);
  if (irq) parseStress(`irq-like:${irq}`);
  let matrix = values.all ? fullMatrix(irq) : defaultMatrix(irq);
  if (values.only) {
    // An exact name picks that one configuration; otherwise every name containing the text.
    const only = values.only;
    matrix = matrix.some((c) => c.name === only) ? matrix.filter((c) => c.name === only) : matrix.filter((c) => c.name.includes(only));
  }
  if (!matrix.length) throw new UserError(`--only "${values.only}" matches no configuration - see \`earshot repro --help\``);

  // Every output place is checked before the runs, not after minutes of them.
  const outputs = { '--json': values.json, '--html': values.html };
  for (const [flag, path] of Object.entries(outputs)) if (path !== undefined) checkWritableParent(resolve(path), flag);
  const workDir = values.work ? resolve(values.work) : mkdtempSync(join(tmpdir(), 'earshot-repro-'));
  try {
    makeDir(workDir);
    accessSync(workDir, constants.W_OK);
  } catch (err) {
    throw new UserError(`--work ${workDir} cannot be used as a folder (${(err as NodeJS.ErrnoException).code}) - give a folder you can write to`);
  }
  const pcmPath = join(workDir, 'sample.s16le');
  const pcm = await decodeToPcm(sample, durationMs);
  writeFileSync(pcmPath, pcm);
  // What the detector finds in the clean input is the sample's, not a pop.
  const cleanWav = join(workDir, 'input.wav');
  writeFileSync(cleanWav, wavOf(pcm));
  const baselineNotes: string[] = [];
  const baselinePops = (await detectPops(cleanWav, baselineNotes)) ?? [];

  const say = (line: string) => process.stderr.write(line + '\n');
  say(`earshot repro: ${matrix.length} runs of ${durationMs / 1000} s, console at ${baud} baud, ${chatter} trace records/s; work folder ${workDir}`);
  const runs: ReproRun[] = [];
  for (const [i, config] of matrix.entries()) {
    say(`[${i + 1}/${matrix.length}] ${config.name}`);
    runs.push(await runScenario(config, { pcmPath, durationMs, workDir, chatter, baud, bufferMs, baselinePops, log: say }));
  }

  const jsonPath = resolve(values.json ?? join(workDir, 'repro.json'));
  const htmlPath = resolve(values.html ?? join(workDir, 'repro.html'));
  const meta = { sample, durationSec: durationMs / 1000, baud, chatterPerSec: chatter, deviceBufferMs: bufferMs, inputPops: baselinePops, notes: baselineNotes };
  process.stdout.write(table(runs) + '\n\n');
  writeOutput(jsonPath, reproJson(runs, meta), '--json');
  writeOutput(htmlPath, html(runs, durationMs / 1000, `earshot repro: ${durationMs / 1000} s of ${sample.split('/').pop()}, console at ${baud} baud`), '--html');
  process.stdout.write(`repro.json: ${jsonPath}\ntimeline:   ${htmlPath}\n`);
  return 0;
}

