/**
 * `earshot doctor [--json] [--partners URL...] [--log-sink SPEC]`: checks
 * this host for the hazards that make meeting audio pop. Exit 0 when nothing
 * failed (warnings do not fail), 1 when a check failed, 2 on a bad flag.
 */
import { parseFlags } from './args';
import { formatReport, runDoctor } from '../ops/doctor';
import { parseDuration, UserError } from '../util/duration';

const HELP = `usage: earshot doctor [--json] [--partners URL ...] [--log-sink SPEC] [--rt-nice N] [--rt-policy fifo:N] [--sample DUR]

  --json            one JSON object for machines instead of the table
  --partners URL    also check that a partner endpoint resolves and accepts TCP (repeatable, or comma-separated)
  --log-sink SPEC   the sink you will run with (file:PATH|socket:PATH|stdout|null|console-sync): can it reach the console?
  --rt-nice N       the nice to try for the audio thread (default -10)
  --rt-policy P:N   the real-time priority to try, as \`earshot run\` takes it: fifo:N or rr:N (default fifo:10;
                    --rt-priority N is the old spelling of fifo:N)
  --sample DUR      how long to sample CPU steal and iowait (default 1s)

Exit status: 0 no check failed (warnings allowed), 1 a check failed, 2 a bad flag.
`;

/** `--rt-policy fifo:N` (or rr:N), as `earshot run` spells it; `--rt-priority N` is kept as an alias. */
function rtPriority(policy: string | undefined, priority: string | undefined): number | undefined {
  if (policy !== undefined && priority !== undefined) throw new UserError('give --rt-policy fifo:N or --rt-priority N, not both');
  const text = policy ?? (priority === undefined ? undefined : `fifo:${priority}`);
  if (text === undefined) return undefined;
  const m = /^(?:fifo|rr):(\d+)$/.exec(text);
  const n = m ? Number(m[1]) : NaN;
  if (!(n >= 1 && n <= 99)) throw new UserError(`${policy !== undefined ? `--rt-policy "${policy}"` : `--rt-priority "${priority}"`} - use --rt-policy fifo:N with N from 1 to 99`);
  return n;
}

export async function main(argv: string[]): Promise<number> {
  const { values } = parseFlags('doctor', argv, {
    json: { type: 'boolean' },
    partners: { type: 'string', multiple: true },
    'log-sink': { type: 'string' },
    'rt-nice': { type: 'string' },
    'rt-policy': { type: 'string' },
    'rt-priority': { type: 'string' },
    sample: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const int = (text: string | undefined, flag: string, lo: number, hi: number) => {
    if (text === undefined) return undefined;
    const n = Number(text);
    if (!Number.isInteger(n) || n < lo || n > hi) throw new UserError(`${flag} "${text}" must be an integer from ${lo} to ${hi}`);
    return n;
  };
  const sampleMs = values.sample === undefined ? undefined : parseDuration(values.sample, '--sample');
  if (sampleMs !== undefined && (sampleMs < 50 || sampleMs > 60_000)) throw new UserError(`--sample "${values.sample}" must be between 50ms and 60s`);
  const report = await runDoctor({
    logSink: values['log-sink'],
    partners: (values.partners ?? []).flatMap((p) => p.split(',')).filter(Boolean),
    rtNice: int(values['rt-nice'], '--rt-nice', -20, 19),
    rtPriority: rtPriority(values['rt-policy'], values['rt-priority']),
    sampleMs,
  });
  process.stdout.write(values.json ? JSON.stringify(report, null, 2) + '\n' : formatReport(report));
  return report.ok ? 0 : 1;
}
