/**
 * Readers for /proc/self/task/<tid>/{stat,status,comm}: what the kernel says
 * a thread's nice, policy, CPU set and state are. Used by the summary, the
 * metrics heartbeat, doctor and tests - the kernel's word, not our intention.
 */
import { readFileSync, readdirSync } from 'node:fs';

const POLICIES = ['other', 'fifo', 'rr', 'batch', 'iso', 'idle', 'deadline'];

export interface ThreadStat {
  tid: number;
  name: string;
  /** R running, S sleeping, D disk-sleep, T stopped, Z zombie... */
  state: string;
  nice: number;
  rtPriority: number;
  policy: string;
  /** CPU it last ran on. */
  processor: number;
  cpus: string;
  voluntaryCtxt: number;
  involuntaryCtxt: number;
  utimeTicks: number;
  stimeTicks: number;
}

/** Reads one thread of `pid` (default this process). Throws if it has gone. */
export function readThread(tid: number, pid: number | 'self' = 'self'): ThreadStat {
  const dir = `/proc/${pid}/task/${tid}`;
  const stat = readFileSync(`${dir}/stat`, 'utf8');
  // comm may hold spaces and parentheses: fields start after the last ')'.
  const close = stat.lastIndexOf(')');
  const name = stat.slice(stat.indexOf('(') + 1, close);
  const f = stat.slice(close + 2).split(' '); // f[0] is field 3 (state)
  const field = (n: number) => f[n - 3]!;
  const status = readFileSync(`${dir}/status`, 'utf8');
  const line = (key: string) => new RegExp(`^${key}:\\s*(.*)$`, 'm').exec(status)?.[1]?.trim() ?? '';
  return {
    tid,
    name,
    state: field(3),
    nice: Number(field(19)),
    rtPriority: Number(field(40)),
    policy: POLICIES[Number(field(41))] ?? `policy${field(41)}`,
    processor: Number(field(39)),
    cpus: line('Cpus_allowed_list'),
    voluntaryCtxt: Number(line('voluntary_ctxt_switches')),
    involuntaryCtxt: Number(line('nonvoluntary_ctxt_switches')),
    utimeTicks: Number(field(14)),
    stimeTicks: Number(field(15)),
  };
}

/** Every thread of `pid` (threads that exit while we read are skipped). */
export function readThreads(pid: number | 'self' = 'self'): ThreadStat[] {
  const out: ThreadStat[] = [];
  for (const t of readdirSync(`/proc/${pid}/task`)) {
    try {
      out.push(readThread(Number(t), pid));
    } catch {
      /* the thread exited between readdir and read */
    }
  }
  return out;
}
