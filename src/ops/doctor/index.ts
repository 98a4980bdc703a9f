/**
 * `earshot doctor`: finds the hazards on a host before they cost a meeting.
 * Each check reads the kernel's own word (/proc, /sys, fstat, a real
 * setpriority on a scratch thread) and says what it means for the audio.
 */
import { hostname, release } from 'node:os';
import { type Check, type Status } from './check';
import { checkKernelConsole, checkLogSink, checkStdio } from './console';
import { checkFfmpeg, checkNative, checkOpus } from './deps';
import { checkPartner } from './partners';
import { checkPriority } from './priority';
import { checkAutogroup, checkCgroupCpu, checkMemory, checkOpenFiles, checkStealIowait } from './resources';

export type { Check, Status } from './check';

export interface DoctorOptions {
  /** --log-sink to judge; undefined judges the default (stdout). */
  logSink?: string;
  partners?: string[];
  /** The nice to try on the scratch thread (what --rt-nice would ask). */
  rtNice?: number;
  /** The SCHED_FIFO priority to try. */
  rtPriority?: number;
  /** How long to sample /proc/stat for steal and iowait. */
  sampleMs?: number;
}

export interface DoctorReport {
  host: { hostname: string; kernel: string; cpus: number; node: string; pid: number; uid: number; gid: number };
  checks: Check[];
  counts: Record<Status, number>;
  /** False when any check failed (the exit code is then 1). */
  ok: boolean;
}

export const DEFAULT_LOG_SINK = 'stdout';

export async function runDoctor(opts: DoctorOptions = {}): Promise<DoctorReport> {
  // The slow checks (a CPU sample, ffmpeg, a thread, the network) run side by side.
  const slow = Promise.all([
    checkPriority(opts.rtNice ?? -10, opts.rtPriority ?? 10),
    checkStealIowait(opts.sampleMs ?? 1000),
    checkFfmpeg(),
    Promise.all((opts.partners ?? []).map(checkPartner)),
  ]);
  const early: Check[] = [
    checkStdio(1),
    checkStdio(2),
    ...checkKernelConsole(),
    checkLogSink(opts.logSink ?? DEFAULT_LOG_SINK, opts.logSink !== undefined),
  ];
  const [priority, cpu, ffmpeg, partners] = await slow;
  const checks = [
    ...early,
    ...priority,
    checkAutogroup(),
    ...checkCgroupCpu(),
    checkMemory(),
    ...cpu,
    checkOpenFiles(),
    ffmpeg,
    checkNative(),
    checkOpus(),
    ...partners,
  ];
  const counts: Record<Status, number> = { ok: 0, info: 0, warn: 0, fail: 0, skip: 0 };
  for (const c of checks) counts[c.status]++;
  return {
    host: {
      hostname: hostname(),
      kernel: release(),
      cpus: (require('node:os') as typeof import('node:os')).availableParallelism(),
      node: process.version,
      pid: process.pid,
      uid: process.getuid?.() ?? -1,
      gid: process.getgid?.() ?? -1,
    },
    checks,
    counts,
    ok: counts.fail === 0,
  };
}

const LABEL: Record<Status, string> = { ok: 'ok', info: 'info', warn: 'WARN', fail: 'FAIL', skip: 'skip' };

/** The readable table: one line per check, its fix underneath when something is wrong. */
export function formatReport(r: DoctorReport, width = Number(process.stdout.columns) || 120): string {
  const idWidth = Math.max(...r.checks.map((c) => c.id.length), 5);
  const indent = 7 + idWidth + 2;
  const wrap = (text: string, first: string, rest: string) => {
    const room = Math.max(40, width - indent);
    const lines: string[] = [];
    let line = '';
    for (const word of text.split(' ')) {
      if (line && line.length + 1 + word.length > room) {
        lines.push(line);
        line = word;
      } else line = line ? `${line} ${word}` : word;
    }
    lines.push(line);
    return lines.map((l, i) => (i === 0 ? first : rest) + l).join('\n');
  };
  const pad = ' '.repeat(indent);
  const out = [
    `earshot doctor - ${r.host.hostname}, Linux ${r.host.kernel}, ${r.host.cpus} CPUs, Node ${r.host.node}, uid ${r.host.uid}`,
    '',
    `${'STATUS'.padEnd(7)}${'CHECK'.padEnd(idWidth + 2)}RESULT`,
  ];
  for (const c of r.checks) {
    out.push(wrap(c.summary, `${LABEL[c.status].padEnd(7)}${c.id.padEnd(idWidth + 2)}`, pad));
    if (c.fix && (c.status === 'warn' || c.status === 'fail')) out.push(wrap(`fix: ${c.fix}`, pad, `${pad}     `));
  }
  const { ok, info, warn, fail } = r.counts;
  out.push('', `${fail} failed, ${warn} warnings, ${ok} ok, ${info} notes${fail ? ' - fix the FAIL lines before running meetings here' : ''}`);
  return out.join('\n') + '\n';
}
