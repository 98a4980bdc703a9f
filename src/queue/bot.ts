/**
 * A bot taking meetings from the queue, one at a time, with at-least-once delivery (BullMQ):
 *
 * - lease: taking a meeting locks it for `leaseMs`; BullMQ renews the lock every leaseMs/2 while
 *   the meeting runs. If the bot dies, the lock lapses and the stalled check that every bot runs
 *   (every leaseMs) hands the meeting back to the waiting list, to the next bot, at most
 *   MAX_HANDOVERS times (a meeting that kills every bot stops being retried).
 * - acknowledge: a meeting that ends (its input ended, --duration, or it failed) is completed or
 *   failed in the queue; a bot told to stop (SIGTERM) finalises what it recorded and hands the
 *   meeting back at once, for another bot to go on with.
 * - a lease this bot could not renew means another bot may have the meeting: it is stopped here,
 *   so no meeting runs twice at once.
 *
 * Each run of a meeting records into its own folder under the record root: `<id>/` the first
 * time, `<id>+<n>/` for the n-th (the partial folder of a bot that died is kept beside it).
 * `+` is not allowed in meeting ids, so these never collide with another meeting's folder.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { UnrecoverableError, WaitingError, Worker, type Job } from 'bullmq';
import { connectionOptions, QUEUE_NAME, QUEUE_PREFIX, type QueueAddress } from './connection';
import { parseJob, type MeetingJob } from './job';

export const MAX_HANDOVERS = 2;

export interface Meeting {
  job: MeetingJob;
  recordDir: string;
  /** 1 for the first run of this meeting, n for the n-th (after a bot died or handed it back). */
  attempt: number;
}

/** Runs one meeting to its end (or until `stop` aborts) and resolves with its exit code. */
export type RunMeeting = (meeting: Meeting, stop: AbortSignal) => Promise<number>;

export interface BotOptions {
  queue: QueueAddress;
  recordRoot: string;
  /** How many meetings to take, one after another, before exiting (1: one per Job). */
  meetings: number;
  /** Exit when no meeting has come for this long. */
  idleMs: number;
  leaseMs: number;
  runMeeting: RunMeeting;
  /** Aborted when the bot must stop (SIGTERM): the meeting in progress is handed back. */
  terminate: AbortSignal;
  /** One human line (stderr). */
  say: (line: string) => void;
}

export interface BotResult {
  taken: number;
  completed: number;
  failed: number;
  handedBack: number;
}

export function recordFolder(root: string, meetingId: string, attempt: number): string {
  let n = Math.max(1, attempt);
  const name = (k: number) => (k === 1 ? meetingId : `${meetingId}+${k}`);
  while (existsSync(join(root, name(n)))) n++;
  return join(root, name(n));
}

export async function runBot(o: BotOptions): Promise<BotResult> {
  const result: BotResult = { taken: 0, completed: 0, failed: 0, handedBack: 0 };
  const lostLease = new Set<string>();
  let idleTimer: NodeJS.Timeout | undefined;
  let worker: Worker | undefined;
  const close = () => void worker?.close();
  const idle = () => {
    clearTimeout(idleTimer);
    idleTimer = setTimeout(() => {
      o.say(`queue: no meeting for ${o.idleMs / 1000} s - exiting`);
      close();
    }, o.idleMs);
  };

  const take = async (job: Job, token: string | undefined, signal: AbortSignal | undefined): Promise<unknown> => {
    clearTimeout(idleTimer);
    result.taken++;
    // The last meeting this bot takes: closing now keeps BullMQ from fetching another one
    // when this one is acknowledged.
    if (result.taken >= o.meetings) close();
    let meeting: Meeting;
    try {
      const m = parseJob(job.data);
      meeting = { job: m, attempt: job.attemptsStarted, recordDir: recordFolder(o.recordRoot, m.meetingId, job.attemptsStarted) };
    } catch (err) {
      throw new UnrecoverableError(`job ${job.id}: ${(err as Error).message}`);
    }
    const id = meeting.job.meetingId;
    o.say(`queue: meeting ${id} leased (attempt ${meeting.attempt}), recording into ${meeting.recordDir}`);
    const stop = AbortSignal.any([o.terminate, ...(signal ? [signal] : [])]);
    const code = await o.runMeeting(meeting, stop);
    if (lostLease.has(job.id!)) {
      // Not ours to acknowledge or fail any more (BullMQ would refuse: the lock is gone).
      o.say(`queue: meeting ${id}: lease lost - stopped here, recording kept in ${meeting.recordDir}; the queue gives the meeting to a bot again`);
      throw new WaitingError();
    }
    if (o.terminate.aborted) {
      await job.moveToWait(token);
      result.handedBack++;
      o.say(`queue: meeting ${id} handed back to the queue (this bot is stopping)`);
      throw new WaitingError();
    }
    if (code !== 0) throw new UnrecoverableError(`meeting ${id}: earshot run exited ${code}`);
    return { recordDir: meeting.recordDir, attempt: meeting.attempt };
  };

  worker = new Worker(QUEUE_NAME, take, {
    connection: connectionOptions(o.queue, true),
    prefix: QUEUE_PREFIX,
    concurrency: 1,
    lockDuration: o.leaseMs,
    stalledInterval: o.leaseMs,
    maxStalledCount: MAX_HANDOVERS,
    autorun: false,
  });
  worker.on('completed', (job) => {
    result.completed++;
    o.say(`queue: meeting ${parseJob(job.data).meetingId} finished, acknowledged`);
    if (result.taken < o.meetings) idle();
  });
  worker.on('failed', (job, err) => {
    if (!job || err instanceof WaitingError || err.name === 'WaitingError') return;
    result.failed++;
    o.say(`queue: ${err.message} - marked failed in the queue`);
    if (result.taken < o.meetings) idle();
  });
  worker.on('lockRenewalFailed', (ids) => {
    for (const jobId of ids) {
      lostLease.add(jobId);
      worker!.cancelJob(jobId, 'lease lost');
    }
  });
  const errors = new Set<string>();
  worker.on('error', (err) => {
    // A lost lease is said once, in plain words, when its meeting has stopped: not as BullMQ's lock errors.
    if (/could not renew lock|missing lock/i.test(err.message)) return;
    // Once per distinct cause (a Redis outage repeats the same error every retry).
    if (errors.has(err.message)) return;
    errors.add(err.message);
    o.say(`queue: ${err.message}`);
  });
  // Stop taking meetings; the one in progress (if any) stops through its signal and is handed back.
  const onTerminate = () => close();
  o.terminate.addEventListener('abort', onTerminate, { once: true });

  idle();
  const running = worker.run();
  await worker.waitUntilReady();
  await running;
  clearTimeout(idleTimer);
  o.terminate.removeEventListener('abort', onTerminate);
  await worker.close();
  return result;
}
