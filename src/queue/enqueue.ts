/**
 * Puts one meeting into the queue. The BullMQ job id is derived from the meeting id, so a meeting
 * is queued at most once: enqueueing an id the queue already holds (waiting, running or finished
 * and still retained) changes nothing and says in which state it is.
 */
import { Queue } from 'bullmq';
import { connectionOptions, QUEUE_NAME, QUEUE_PREFIX, type QueueAddress } from './connection';
import type { MeetingJob } from './job';

/** How long finished meetings stay in the queue, for the record (and to refuse a reused id). */
const KEEP_COMPLETED_S = 7 * 24 * 3600;
const KEEP_FAILED_S = 30 * 24 * 3600;

export function jobIdOf(meetingId: string): string {
  // BullMQ refuses ids that are integers or contain ':'; meeting ids may be integers.
  return `meeting-${meetingId}`;
}

export interface Enqueued {
  added: boolean;
  /** The meeting's state in the queue: waiting, active, completed, failed... */
  state: string;
  /** Meetings waiting, after this one. */
  waiting: number;
}

export async function enqueueMeeting(addr: QueueAddress, job: MeetingJob): Promise<Enqueued> {
  const queue = new Queue(QUEUE_NAME, { connection: connectionOptions(addr, false), prefix: QUEUE_PREFIX });
  // Connection errors also reject the calls below, which say them once; without a listener
  // BullMQ would print each retry's error on the console.
  queue.on('error', () => {});
  try {
    const jobId = jobIdOf(job.meetingId);
    const existing = await queue.getJob(jobId);
    if (existing) return { added: false, state: await existing.getState(), waiting: await queue.getWaitingCount() };
    await queue.add('meeting', job, {
      jobId,
      attempts: 1,
      removeOnComplete: { age: KEEP_COMPLETED_S },
      removeOnFail: { age: KEEP_FAILED_S },
    });
    return { added: true, state: 'waiting', waiting: await queue.getWaitingCount() };
  } finally {
    await queue.close();
  }
}
