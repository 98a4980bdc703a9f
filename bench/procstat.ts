/**
 * What /proc says about other processes, for the density bench: CPU seconds (a process and its
 * ffmpeg children), per-thread CPU, RSS and PSS. Everything tolerates a process that is gone.
 */
import { readdirSync, readFileSync } from 'node:fs';

const TICK = 100; // USER_HZ: /proc stat times are in 1/100 s

function statFields(path: string): string[] | undefined {
  try {
    return readFileSync(path, 'utf8').split(') ')[1]!.split(' ');
  } catch {
    return undefined;
  }
}

/** utime + stime of a process (all its threads), in seconds; undefined once it is gone. */
export function cpuSec(pid: number): number | undefined {
  const f = statFields(`/proc/${pid}/stat`);
  return f ? (Number(f[11]) + Number(f[12])) / TICK : undefined;
}

/** CPU seconds per thread name (comm), summed: main "node", "earshot-audio", libuv and V8 helpers. */
export function threadCpuSec(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  let tids: string[] = [];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      const comm = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
      const f = statFields(`/proc/${pid}/task/${tid}/stat`);
      if (f) out.set(comm, (out.get(comm) ?? 0) + (Number(f[11]) + Number(f[12])) / TICK);
    } catch {
      // thread gone
    }
  }
  return out;
}

/** Children of each of `parents` (pid -> child pids), from one scan of /proc. */
export function childrenOf(parents: Set<number>): Map<number, number[]> {
  const out = new Map<number, number[]>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const f = statFields(`/proc/${d}/stat`);
    const ppid = f ? Number(f[1]) : 0;
    if (parents.has(ppid)) out.set(ppid, [...(out.get(ppid) ?? []), Number(d)]);
  }
  return out;
}

/** VmRSS, VmHWM (peak), and VmRSS's anonymous (the process's own) and file-backed (node's text, libraries: shared) parts, in MB. */
export function rssMb(pid: number): { rss: number; peak: number; anon: number; file: number } | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(s)?.[1] ?? NaN);
    return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024, anon: kb('RssAnon') / 1024, file: kb('RssFile') / 1024 };
  } catch {
    return undefined;
  }
}

/** Proportional set size in MB: shared pages (node's code, libraries) divided among the processes mapping them. */
export function pssMb(pid: number): number | undefined {
  try {
    const m = /^Pss:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}
