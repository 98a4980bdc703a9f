/**
 * Where the meeting queue lives: a Redis URL (redis:// or rediss://, optional /DB) turned into
 * BullMQ's connection options. The URL may not carry a password, since it travels in argv and
 * logs: the password comes from the caller (the CLI reads EARSHOT_QUEUE_PASSWORD).
 *
 * The queue is BullMQ's queue "meetings" under the key prefix "earshot": meetings waiting are the
 * list earshot:meetings:wait, meetings leased to a bot the list earshot:meetings:active (what the
 * KEDA ScaledJob in docker/k8s/ counts).
 */
import type { ConnectionOptions } from 'bullmq';
import { UserError } from '../util/duration';

export const QUEUE_NAME = 'meetings';
export const QUEUE_PREFIX = 'earshot';
export const WAIT_LIST = `${QUEUE_PREFIX}:${QUEUE_NAME}:wait`;
export const ACTIVE_LIST = `${QUEUE_PREFIX}:${QUEUE_NAME}:active`;

export interface QueueAddress {
  url: string;
  password?: string;
}

export function parseQueueUrl(text: string, password?: string): QueueAddress {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new UserError(`--queue "${text}" is not a URL - use redis://HOST:PORT[/DB]`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') {
    throw new UserError(`--queue must be a redis:// or rediss:// URL (got ${u.protocol}//) - e.g. redis://127.0.0.1:6379/0`);
  }
  if (u.password) {
    throw new UserError('--queue carries a password - leave it out of the URL and set EARSHOT_QUEUE_PASSWORD in the environment instead');
  }
  if (u.pathname.length > 1 && !/^\/\d+$/.test(u.pathname)) throw new UserError(`--queue path "${u.pathname}" - use /DB, a database number`);
  return { url: u.toString(), password: password || undefined };
}

/**
 * BullMQ connection options. A worker waits through a Redis restart (maxRetriesPerRequest null,
 * which BullMQ requires of workers); `earshot enqueue` gives up after a few tries, with the reason.
 */
export function connectionOptions(addr: QueueAddress, forWorker: boolean): ConnectionOptions {
  return {
    url: addr.url,
    ...(addr.password ? { password: addr.password } : {}),
    ...(forWorker ? { maxRetriesPerRequest: null } : { maxRetriesPerRequest: 1, retryStrategy: (n: number) => (n > 3 ? null : 250) }),
  };
}
