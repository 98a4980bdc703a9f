/**
 * Applies --rt-nice, --rt-cpus and --rt-policy to the calling thread through
 * the native helper, then reads back what the kernel actually did from
 * /proc/self/task/<tid>/stat: the report is the kernel's word, not our wish.
 */
import { native, POLICY_NUMBER } from '../native';
import { readThread, type ThreadStat } from '../ops/proc';

export interface SchedRequest {
  nice?: number;
  cpus?: number[];
  policy?: 'other' | 'fifo' | 'rr';
  rtPriority?: number;
}

export interface SchedResult {
  thread: ThreadStat;
  /** One line per refused request, naming the missing permission. */
  refused: string[];
}

export function applySchedule(req: SchedRequest): SchedResult {
  const n = native();
  const refused: string[] = [];
  const attempt = (what: string, fn: () => void) => {
    try {
      fn();
    } catch (err) {
      refused.push(`${what}: ${(err as Error).message}`);
    }
  };
  if (req.cpus) attempt(`--rt-cpus ${req.cpus.join(',')}`, () => n.setAffinity(req.cpus!));
  if (req.policy && req.policy !== 'other') {
    const prio = req.rtPriority ?? 10;
    attempt(`--rt-policy ${req.policy}:${prio}`, () => n.setScheduler(POLICY_NUMBER[req.policy!], prio));
  }
  if (req.nice !== undefined) attempt(`--rt-nice ${req.nice}`, () => n.setNice(req.nice!));
  return { thread: readThread(n.gettid()), refused };
}

/** Parses `other`, `fifo`, `rr`, `fifo:50`. */
export function parsePolicy(text: string): { policy: 'other' | 'fifo' | 'rr'; rtPriority?: number } | undefined {
  const m = /^(other|fifo|rr)(?::(\d{1,2}))?$/.exec(text);
  if (!m) return undefined;
  return { policy: m[1] as 'other' | 'fifo' | 'rr', rtPriority: m[2] === undefined ? undefined : Number(m[2]) };
}
