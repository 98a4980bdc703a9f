/**
 * `earshot enqueue`: puts one meeting into the fleet's queue, for the next bot
 * (`earshot run --queue URL`) to take. The meeting's run flags are checked here, with
 * `earshot run`'s own flag table, so that a typo fails now and not in a bot; keys are refused
 * (src/queue/job.ts). Prints one JSON line on stdout: {"meetingId", "added", "state", "waiting"}.
 */
import { parseFlags, withoutFlags } from './args';
import { options as runOptions } from './run';
import { parseQueueUrl } from '../queue/connection';
import { enqueueMeeting } from '../queue/enqueue';
import { checkMeetingId, refuseSecrets, type MeetingJob } from '../queue/job';
import { UserError } from '../util/duration';

const HELP = `usage: earshot enqueue --queue URL --meeting-id ID --input SPEC [run flags...]

  --queue URL        the meeting queue: redis://HOST:PORT[/DB] (password: EARSHOT_QUEUE_PASSWORD)
  --meeting-id ID    names the meeting's recording folder (letters, digits, . _ -)
  --input SPEC       file:PATH | pulse:SOURCE | alsa:DEVICE | lavfi:GRAPH | url:URL, as the bot sees it
  run flags          any \`earshot run\` flag for this meeting (--duration, --partner ..., --wav, ...),
                     except --record (the bot records under its --record-root)

Partner keys never go into the queue: pass --partner-key-env VAR (read from the bot's
environment) or --partner-key-file PATH (on the bot), and URLs without credentials.
`;

const ENQUEUE_ONLY = ['queue', 'meeting-id', 'input'];

export async function main(argv: string[]): Promise<number> {
  const { values } = parseFlags('enqueue', argv, {
    ...runOptions,
    queue: { type: 'string' },
    'meeting-id': { type: 'string' },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (!values.queue) throw new UserError('--queue is required - e.g. --queue redis://127.0.0.1:6379');
  if (!values['meeting-id']) throw new UserError('--meeting-id is required - the meeting\'s id, e.g. --meeting-id standup-42');
  if (!values.input) throw new UserError('--input is required - e.g. --input url:https://media.example.com/meeting/audio');
  const queue = parseQueueUrl(values.queue, process.env.EARSHOT_QUEUE_PASSWORD);
  const meetingId = checkMeetingId(values['meeting-id']);
  if (!/^(file|pulse|alsa|lavfi|url):./.test(values.input)) {
    throw new UserError(`--input "${values.input}" - a queued meeting takes file:PATH, pulse:SOURCE, alsa:DEVICE, lavfi:GRAPH or url:URL`);
  }
  if (values.record !== undefined) throw new UserError('--record is the bot\'s to set, not the meeting\'s - leave it out (bots record under their --record-root, in DIR/<meeting id>)');
  refuseSecrets(values);

  const job: MeetingJob = { v: 1, meetingId, input: values.input, flags: withoutFlags(argv, ENQUEUE_ONLY) };
  const r = await enqueueMeeting(queue, job).catch((err: Error) => {
    throw new UserError(`cannot reach the queue at ${queue.url}: ${err.message} - is Redis running there?`);
  });
  process.stdout.write(JSON.stringify({ meetingId, added: r.added, state: r.state, waiting: r.waiting }) + '\n');
  if (!r.added) {
    process.stderr.write(`earshot: meeting ${meetingId} is already in the queue (${r.state}) - nothing added; a new meeting needs a new --meeting-id\n`);
    return 1;
  }
  return 0;
}
