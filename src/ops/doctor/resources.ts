/**
 * The host and container limits that decide whether the audio thread gets
 * the CPU when it wakes, and whether a bot fits at all: autogroup, cgroup
 * CPU quota/weight, memory headroom, CPU steal/iowait, open files.
 */
import { join } from 'node:path';
import { bytes, check, readText, type Check } from './check';

/** What one bot needs: Node + the worker + ffmpeg + buffers, measured plus margin. */
export const BOT_MEMORY_MIN = 256 * 2 ** 20;
export const BOT_MEMORY_GOOD = 512 * 2 ** 20;
/** ffmpeg pipes, partner sockets, recording files, scrapes, log sink, with margin. */
export const BOT_FDS_MIN = 256;
export const BOT_FDS_GOOD = 1024;

interface CgroupPaths {
  /** cgroup v2 directory of this process, if a v2 hierarchy is mounted. */
  v2?: { dir: string; root: string };
  /** cgroup v1 directories by controller. */
  v1: Record<string, { dir: string; root: string }>;
}

/** Finds this process's cgroup directories from /proc/self/cgroup and /proc/self/mountinfo. */
export function cgroupPaths(): CgroupPaths {
  const membership = new Map<string, string>(); // controller ('' for v2) -> path
  for (const line of (readText('/proc/self/cgroup') ?? '').split('\n')) {
    const m = /^\d+:([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    if (m[1] === '') membership.set('', m[2]!);
    else for (const c of m[1]!.split(',')) membership.set(c, m[2]!);
  }
  const out: CgroupPaths = { v1: {} };
  for (const line of (readText('/proc/self/mountinfo') ?? '').split('\n')) {
    // id parent major:minor root mountpoint opts [optional...] - fstype source superopts
    const [pre, post] = line.split(' - ');
    if (!pre || !post) continue;
    const f = pre.split(' ');
    const [fstype, , superOpts] = post.split(' ');
    const mountRoot = f[3]!;
    const mountPoint = f[4]!.replace(/\\040/g, ' ');
    const place = (cgPath: string) => {
      // Inside a container the mount's root is our own cgroup: strip it.
      const rel = mountRoot !== '/' && cgPath.startsWith(mountRoot) ? cgPath.slice(mountRoot.length) : cgPath;
      return { dir: join(mountPoint, rel), root: mountPoint };
    };
    if (fstype === 'cgroup2' && membership.has('')) out.v2 = place(membership.get('')!);
    else if (fstype === 'cgroup')
      for (const opt of (superOpts ?? '').split(',')) if (membership.has(opt) && !out.v1[opt]) out.v1[opt] = place(membership.get(opt)!);
  }
  return out;
}

/** True when the v2 hierarchy actually manages `controller` (a hybrid host mounts it empty). */
function v2Has(cg: CgroupPaths, controller: string): boolean {
  if (!cg.v2) return false;
  const list = readText(join(cg.v2.root, 'cgroup.controllers')) ?? readText(join(cg.v2.dir, 'cgroup.controllers')) ?? '';
  return list.split(/\s+/).includes(controller);
}

/** Directories from `dir` up to `root`, leaf first (limits apply at every level). */
function upward(dir: string, root: string): string[] {
  const dirs: string[] = [];
  for (let d = dir; ; d = join(d, '..')) {
    dirs.push(d);
    if (d === root || d.length <= root.length) break;
  }
  return dirs;
}

export function checkAutogroup(): Check {
  const on = (readText('/proc/sys/kernel/sched_autogroup_enabled') ?? '0').trim() === '1';
  const inRootCpuGroup = (() => {
    const line = (readText('/proc/self/cgroup') ?? '').split('\n').find((l) => /^\d+:([^:]*,)?cpu(,[^:]*)?:/.test(l)) ?? (readText('/proc/self/cgroup') ?? '').split('\n').find((l) => l.startsWith('0::'));
    return !line || line.endsWith(':/');
  })();
  if (!on) return check('autogroup', 'ok', 'sched_autogroup off: nice ranks the audio thread against every process on the host', undefined, { enabled: false });
  if (!inRootCpuGroup) return check('autogroup', 'info', 'sched_autogroup on, but this process is in its own cpu cgroup, where autogroup does not apply', undefined, { enabled: true, inRootCpuGroup });
  return check(
    'autogroup',
    'warn',
    "sched_autogroup on: nice only ranks the audio thread within this session's group; a busy process in another session gets an equal share no matter the nice",
    'sysctl kernel.sched_autogroup_enabled=0, or run the bot in its own cgroup (a container or systemd unit), or use --rt-policy fifo',
    { enabled: true, inRootCpuGroup },
  );
}

export function checkCgroupCpu(): Check[] {
  const cg = cgroupPaths();
  let quotaUs: number | undefined;
  let periodUs = 100_000;
  let weight: number | undefined;
  let where = '';
  let throttled: { periods?: number; throttledPeriods?: number; throttledMs?: number } = {};
  let version = 'none';
  let weightText = '';
  if (cg.v2 && v2Has(cg, 'cpu')) {
    version = 'v2';
    for (const d of upward(cg.v2.dir, cg.v2.root)) {
      const max = readText(join(d, 'cpu.max'))?.trim().split(/\s+/);
      if (max && max[0] !== 'max') {
        const q = Number(max[0]);
        const p = Number(max[1]);
        if (quotaUs === undefined || q / p < quotaUs / periodUs) [quotaUs, periodUs, where] = [q, p, d];
      }
      if (weight === undefined) {
        const w = readText(join(d, 'cpu.weight'));
        if (w) {
          weight = Number(w);
          weightText = `cpu.weight ${weight}`;
        }
      }
    }
    const stat = readText(join(cg.v2.dir, 'cpu.stat')) ?? '';
    const num = (k: string) => Number(new RegExp(`^${k} (\\d+)`, 'm').exec(stat)?.[1] ?? NaN);
    throttled = { periods: num('nr_periods'), throttledPeriods: num('nr_throttled'), throttledMs: num('throttled_usec') / 1000 };
  }
  if (version === 'none' && cg.v1.cpu) {
    version = 'v1';
    for (const d of upward(cg.v1.cpu.dir, cg.v1.cpu.root)) {
      const q = Number(readText(join(d, 'cpu.cfs_quota_us')) ?? -1);
      const p = Number(readText(join(d, 'cpu.cfs_period_us')) ?? 100_000);
      if (q > 0 && (quotaUs === undefined || q / p < quotaUs / periodUs)) [quotaUs, periodUs, where] = [q, p, d];
    }
    const shares = Number(readText(join(cg.v1.cpu.dir, 'cpu.shares')) ?? NaN);
    // Both map to the same task-group weight: shares 1024 = weight 100 = one nice-0 task.
    if (Number.isFinite(shares)) {
      weight = Math.round((shares * 100) / 1024);
      weightText = `cpu.shares ${shares} (= cpu.weight ${weight})`;
    }
    const stat = readText(join(cg.v1.cpu.dir, 'cpu.stat')) ?? '';
    const num = (k: string) => Number(new RegExp(`^${k} (\\d+)`, 'm').exec(stat)?.[1] ?? NaN);
    throttled = { periods: num('nr_periods'), throttledPeriods: num('nr_throttled'), throttledMs: num('throttled_time') / 1e6 };
  }
  const out: Check[] = [];
  const data = { version, quotaUs: quotaUs ?? null, periodUs, weight: weight ?? null, limitedAt: where || null, ...throttled };
  if (quotaUs === undefined) {
    out.push(check('cgroup.cpu.max', 'ok', `cgroup ${version}: no CPU quota, so the group is never throttled mid-period`, undefined, data));
  } else {
    const cpus = quotaUs / periodUs;
    // Once the group has spent its quota, every thread in it waits for the next period.
    const stallMs = (periodUs - quotaUs / Math.max(1, Math.ceil(cpus))) / 1000;
    const hist = throttled.throttledPeriods ? `; already throttled in ${throttled.throttledPeriods} of ${throttled.periods} periods (${Math.round(throttled.throttledMs ?? 0)} ms)` : '';
    out.push(
      check(
        'cgroup.cpu.max',
        stallMs > 20 || throttled.throttledPeriods ? 'warn' : 'info',
        `cgroup ${version}: CPU quota ${quotaUs}/${periodUs} µs = ${cpus.toFixed(2)} CPUs; when spent, every thread - the audio thread too - waits up to ~${Math.round(stallMs)} ms for the next period, whatever its nice${hist}`,
        'give the meeting at least 1 CPU of quota with a short period (cpu.max "100000 100000" or shorter periods), or no quota and rely on cpu.weight',
        data,
      ),
    );
  }
  if (weight !== undefined)
    out.push(
      check(
        'cgroup.cpu.weight',
        'info',
        `${weightText} (default 100): the group's share against sibling groups under contention; nice inside it only ranks the audio thread against the group's own threads`,
        undefined,
        data,
      ),
    );
  return out;
}

export function memoryFacts() {
  const meminfo = readText('/proc/meminfo') ?? '';
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(meminfo)?.[1] ?? NaN) * 1024;
  const cg = cgroupPaths();
  let limit = Infinity;
  let usage: number | undefined;
  let limitedAt: string | undefined;
  if (v2Has(cg, 'memory')) {
    for (const d of upward(cg.v2!.dir, cg.v2!.root)) {
      const v = readText(join(d, 'memory.max'))?.trim();
      if (v && v !== 'max' && Number(v) < limit) [limit, limitedAt] = [Number(v), d];
    }
    const cur = readText(join(cg.v2!.dir, 'memory.current'));
    if (cur) usage = Number(cur);
  }
  if (cg.v1.memory) {
    for (const d of upward(cg.v1.memory.dir, cg.v1.memory.root)) {
      const v = Number(readText(join(d, 'memory.limit_in_bytes')) ?? NaN);
      // v1 reports "no limit" as a huge page-aligned number.
      if (v > 0 && v < 2 ** 60 && v < limit) [limit, limitedAt] = [v, d];
    }
    const cur = readText(join(cg.v1.memory.dir, 'memory.usage_in_bytes'));
    if (cur && usage === undefined) usage = Number(cur);
  }
  return { memTotal: kb('MemTotal'), memAvailable: kb('MemAvailable'), cgroupLimit: limit, cgroupUsage: usage, limitedAt };
}

export function checkMemory(): Check {
  const m = memoryFacts();
  const cgroupHeadroom = Number.isFinite(m.cgroupLimit) ? m.cgroupLimit - (m.cgroupUsage ?? 0) : Infinity;
  const headroom = Math.min(m.memAvailable, cgroupHeadroom);
  const limitText = Number.isFinite(m.cgroupLimit) ? `cgroup memory.max ${bytes(m.cgroupLimit)} (${bytes(cgroupHeadroom)} free)` : 'no cgroup memory limit';
  const summary = `MemAvailable ${bytes(m.memAvailable)} of ${bytes(m.memTotal)}, ${limitText}: headroom ${bytes(headroom)}; one bot needs ${bytes(BOT_MEMORY_MIN)}, ${bytes(BOT_MEMORY_GOOD)} to be safe`;
  const data = { ...m, cgroupLimit: Number.isFinite(m.cgroupLimit) ? m.cgroupLimit : null, headroom, needMin: BOT_MEMORY_MIN, needGood: BOT_MEMORY_GOOD };
  const fix = `give each meeting at least ${bytes(BOT_MEMORY_GOOD)} (k8s resources.limits.memory, docker --memory)`;
  if (headroom < BOT_MEMORY_MIN) return check('memory', 'fail', `${summary} - a bot would be OOM-killed`, fix, data);
  if (headroom < BOT_MEMORY_GOOD) return check('memory', 'warn', summary, fix, data);
  return check('memory', 'ok', summary, undefined, data);
}

interface CpuTimes {
  total: number;
  iowait: number;
  steal: number;
}

function readCpuTimes(): Map<string, CpuTimes> {
  const out = new Map<string, CpuTimes>();
  for (const line of (readText('/proc/stat') ?? '').split('\n')) {
    if (!line.startsWith('cpu')) continue;
    const [name, ...f] = line.trim().split(/\s+/);
    const v = f.map(Number);
    // user nice system idle iowait irq softirq steal (guest time is already in user)
    const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
    out.set(name!, { total, iowait: v[4] ?? 0, steal: v[7] ?? 0 });
  }
  return out;
}

/** CPU steal (the hypervisor ran someone else) and iowait over a short sample. */
export async function checkStealIowait(sampleMs: number): Promise<Check[]> {
  const a = readCpuTimes();
  await new Promise((r) => setTimeout(r, sampleMs));
  const b = readCpuTimes();
  const pct = (name: string, k: 'iowait' | 'steal') => {
    const x = a.get(name)!;
    const y = b.get(name)!;
    const dt = y.total - x.total;
    return dt > 0 ? (100 * (y[k] - x[k])) / dt : 0;
  };
  const perCpu = [...b.keys()].filter((k) => k !== 'cpu' && a.has(k));
  const steal = pct('cpu', 'steal');
  const worstSteal = Math.max(0, ...perCpu.map((c) => pct(c, 'steal')));
  const iowait = pct('cpu', 'iowait');
  const dstate = processesInDiskSleep();
  const data = { sampleMs, stealPct: round1(steal), worstCpuStealPct: round1(worstSteal), iowaitPct: round1(iowait), processesInDiskSleep: dstate };
  const out: Check[] = [];
  const stealText = `CPU steal ${round1(steal)}% (worst CPU ${round1(worstSteal)}%) over ${sampleMs} ms`;
  if (steal >= 5 || worstSteal >= 10)
    out.push(check('cpu.steal', 'warn', `${stealText}: the hypervisor is running others on our vCPUs - the audio thread waits however high its priority`, 'move meetings to dedicated or less loaded instances', data));
  else out.push(check('cpu.steal', 'ok', stealText, undefined, data));
  const ioText = `iowait ${round1(iowait)}%, ${dstate} processes in disk-sleep (D)`;
  if (iowait >= 20 || dstate >= 4)
    out.push(check('cpu.iowait', 'warn', `${ioText}: threads are blocked on storage; recordings may back up (watch earshot_threads{state="D"})`, 'give recordings a faster or local volume', data));
  else out.push(check('cpu.iowait', 'ok', ioText, undefined, data));
  return out;
}

function processesInDiskSleep(): number {
  let n = 0;
  try {
    for (const pid of require('node:fs').readdirSync('/proc') as string[]) {
      if (!/^\d+$/.test(pid)) continue;
      const s = readText(`/proc/${pid}/stat`);
      if (s && s.slice(s.lastIndexOf(')') + 2, s.lastIndexOf(')') + 3) === 'D') n++;
    }
  } catch {
    /* /proc unreadable: report 0 */
  }
  return n;
}

export function checkOpenFiles(): Check {
  const m = /^Max open files\s+(\S+)\s+(\S+)/m.exec(readText('/proc/self/limits') ?? '');
  const soft = m?.[1] === 'unlimited' ? Infinity : Number(m?.[1] ?? NaN);
  const hard = m?.[2] === 'unlimited' ? Infinity : Number(m?.[2] ?? NaN);
  const summary = `open-file limit ${soft} (hard ${hard}); a bot needs ${BOT_FDS_MIN}, ${BOT_FDS_GOOD} to be safe`;
  const data = { soft: Number.isFinite(soft) ? soft : null, hard: Number.isFinite(hard) ? hard : null };
  const fix = `raise RLIMIT_NOFILE (ulimit -n ${BOT_FDS_GOOD}, docker --ulimit nofile=${BOT_FDS_GOOD}:${BOT_FDS_GOOD}, systemd LimitNOFILE=${BOT_FDS_GOOD})`;
  if (soft < BOT_FDS_MIN) return check('nofile', 'fail', summary, fix, data);
  if (soft < BOT_FDS_GOOD) return check('nofile', 'warn', summary, fix, data);
  return check('nofile', 'ok', summary, undefined, data);
}

const round1 = (v: number) => Math.round(v * 10) / 10;
