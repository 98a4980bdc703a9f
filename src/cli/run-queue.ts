/**
 * `earshot run --queue URL`: a bot that takes its meetings from the fleet's queue (src/queue/bot.ts)
 * and runs each one as `earshot run --input <its input> --record <folder> <its flags> <the bot's
 * flags>` in this process, so a bot that dies takes its meeting with it (the queue hands that
 * meeting to another bot once the lease lapses). The bot's own run flags (log sink, metrics,
 * priority...) apply to every meeting it takes and win over the meeting's.
 */
import { parseFlags, withoutFlags } from './args';
import { options as runOptions } from './run';
import { runBot, type RunMeeting } from '../queue/bot';
import { parseQueueUrl } from '../queue/connection';
import { parseDuration, UserError } from '../util/duration';

const HELP = `usage: earshot run --queue URL [--record-root DIR] [--meetings N] [--idle DUR] [--lease DUR] [run flags...]

  --queue URL          take meetings from this queue: redis://HOST:PORT[/DB] (password: EARSHOT_QUEUE_PASSWORD)
  --record-root DIR    record each meeting into DIR/<meeting id>/ (a re-run after a bot died: DIR/<id>+2/...)
                       (default: recordings)
  --meetings N         take N meetings, one after another, then exit (default 1: one meeting per Job)
  --idle DUR           exit when no meeting has come for DUR (default 30s)
  --lease DUR          how long a meeting stays leased to a bot that stopped renewing it (default 30s):
                       a dead bot's meeting goes to another bot after about two leases
  run flags            \`earshot run\` flags for every meeting (--log-sink, --metrics, --rt-nice, ...);
                       not --input or --record: those come from the queue
`;

const BOT_FLAGS = ['queue', 'record-root', 'meetings', 'idle', 'lease'];

export async function main(argv: string[], runOne: (argv: string[], stop: AbortSignal) => Promise<number>): Promise<number> {
  const { values } = parseFlags('run', argv, {
    ...runOptions,
    queue: { type: 'string' },
    'record-root': { type: 'string' },
    meetings: { type: 'string' },
    idle: { type: 'string' },
    lease: { type: 'string' },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (values.input !== undefined || values.record !== undefined) {
    throw new UserError('--input and --record come from the queue with each meeting - leave them out of `earshot run --queue` (see --record-root)');
  }
  const queue = parseQueueUrl(values.queue!, process.env.EARSHOT_QUEUE_PASSWORD);
  const meetings = Number(values.meetings ?? '1');
  if (!Number.isInteger(meetings) || meetings < 1) throw new UserError(`--meetings "${values.meetings}" - use a whole number from 1`);
  const idleMs = parseDuration(values.idle ?? '30s', '--idle');
  const leaseMs = parseDuration(values.lease ?? '30s', '--lease');
  if (leaseMs < 1000) throw new UserError('--lease must be at least 1s - the bot renews it every half lease');
  const botFlags = withoutFlags(argv, BOT_FLAGS);
  const say = (line: string) => process.stderr.write(`earshot: ${line}\n`);

  // SIGTERM/SIGINT: stop taking meetings; the one in progress is finalised (by `earshot run`'s own
  // signal handling) and handed back.
  const terminate = new AbortController();
  const onSignal = () => terminate.abort();
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  // `stop` (the bot lost the meeting's lease) ends the meeting in order, as a SIGTERM would.
  const runMeeting: RunMeeting = async (m, stop) => {
    try {
      return await runOne(['--input', m.job.input, '--record', m.recordDir, ...m.job.flags, ...botFlags], stop);
    } catch (err) {
      if (!(err instanceof UserError)) throw err;
      say(`meeting ${m.job.meetingId}: ${err.message}`);
      return err.exitCode;
    }
  };

  try {
    const r = await runBot({ queue, recordRoot: values['record-root'] ?? 'recordings', meetings, idleMs, leaseMs, runMeeting, terminate: terminate.signal, say });
    say(`queue: took ${r.taken}, finished ${r.completed}, failed ${r.failed}, handed back ${r.handedBack}`);
    return r.failed > 0 ? 1 : 0;
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
}
