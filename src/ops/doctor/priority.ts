/**
 * May this process prioritise its audio thread? Tried for real on a scratch
 * worker thread (nice and policy are per thread on Linux) and restored, then
 * explained from the two things the kernel consults: CAP_SYS_NICE in the
 * effective set, and RLIMIT_NICE / RLIMIT_RTPRIO.
 */
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { ROOT } from '../../paths';
import { check, readText, type Check } from './check';

const CAP_SYS_NICE = 23;

export interface PriorityFacts {
  capSysNice: boolean;
  /** [soft, hard]; null is unlimited. */
  rlimitNice: [number | null, number | null];
  rlimitRtprio: [number | null, number | null];
}

export function priorityFacts(): PriorityFacts {
  const status = readText('/proc/self/status') ?? '';
  const capEff = BigInt(`0x${/^CapEff:\s*([0-9a-f]+)/m.exec(status)?.[1] ?? '0'}`);
  const limits = readText('/proc/self/limits') ?? '';
  const limit = (name: string): [number | null, number | null] => {
    const m = new RegExp(`^${name}\\s+(\\S+)\\s+(\\S+)`, 'm').exec(limits);
    const v = (s?: string) => (s === undefined || s === 'unlimited' ? null : Number(s));
    return [v(m?.[1]), v(m?.[2])];
  };
  return {
    capSysNice: ((capEff >> BigInt(CAP_SYS_NICE)) & 1n) === 1n,
    rlimitNice: limit('Max nice priority'),
    rlimitRtprio: limit('Max realtime priority'),
  };
}

interface Attempt {
  ok: boolean;
  code?: string;
  message?: string;
  got?: unknown;
}

export interface TrialResult {
  tid: number;
  before: { nice: number; policy: string; priority: number };
  nice: Attempt;
  fifo: Attempt;
  after: { nice: number; policy: string; priority: number };
}

/** Runs the trial on a throwaway thread so no thread that matters is ever changed. */
export function tryPriority(nice: number, fifoPriority: number): Promise<TrialResult> {
  const file = join(ROOT, 'native', 'build', 'Release', 'earshot_native.node');
  const code = `
    const { parentPort, workerData: w } = require('node:worker_threads');
    const n = require(w.file);
    const state = () => { const s = n.getScheduler(); return { nice: n.getNice(), policy: s.policy, priority: s.priority }; };
    const attempt = (fn) => { try { return { ok: true, got: fn() }; } catch (e) { return { ok: false, code: e.code, message: e.message }; } };
    const before = state();
    const nice = attempt(() => { n.setNice(w.nice); const got = n.getNice(); n.setNice(before.nice); return got; });
    const fifo = attempt(() => { const got = n.setScheduler(1, w.prio); n.setScheduler(0, 0); n.setNice(before.nice); return got; });
    parentPort.postMessage({ tid: n.gettid(), before, nice, fifo, after: state() });`;
  return new Promise((resolve, reject) => {
    const worker = new Worker(code, { eval: true, workerData: { file, nice, prio: fifoPriority } });
    worker.once('message', (m: TrialResult) => resolve(m));
    worker.once('error', reject);
    worker.once('exit', (c) => reject(new Error(`the scratch thread exited (${c}) before reporting`)));
  });
}

const limitText = (v: number | null) => (v === null ? 'unlimited' : String(v));

export async function checkPriority(nice: number, fifoPriority: number): Promise<Check[]> {
  const facts = priorityFacts();
  const [niceSoft] = facts.rlimitNice;
  const [rtSoft] = facts.rlimitRtprio;
  // RLIMIT_NICE n allows nice down to 20 - n; RLIMIT_RTPRIO n allows FIFO/RR priority up to n.
  const niceFloor = niceSoft === null ? -20 : 20 - niceSoft;
  const niceRoom = niceSoft === 0 ? 'no lowering' : `down to nice ${Math.max(-20, niceFloor)}`;
  const rtRoom = rtSoft === 0 ? 'no FIFO/RR' : `FIFO/RR up to ${limitText(rtSoft)}`;
  const grants = `CAP_SYS_NICE ${facts.capSysNice ? 'in' : 'not in'} CapEff; RLIMIT_NICE ${limitText(niceSoft)} (${niceRoom}); RLIMIT_RTPRIO ${limitText(rtSoft)} (${rtRoom})`;
  const factsCheck = check('priority.grants', 'info', grants, undefined, { ...facts });
  let trial: TrialResult;
  try {
    trial = await tryPriority(nice, fifoPriority);
  } catch (err) {
    return [
      factsCheck,
      check('priority.nice', 'fail', `could not try: ${(err as Error).message.split('\n')[0]}`, 'build the native helper: npm install (runs node-gyp in native/)'),
    ];
  }
  const out: Check[] = [factsCheck];
  const restored = trial.after.nice === trial.before.nice && trial.after.policy === trial.before.policy;
  const restoreNote = restored ? 'restored' : `NOT restored (now nice ${trial.after.nice}, ${trial.after.policy})`;
  const data = { target: nice, tid: trial.tid, before: trial.before, after: trial.after };
  if (trial.nice.ok) {
    const via = facts.capSysNice ? 'CAP_SYS_NICE' : `RLIMIT_NICE ${limitText(niceSoft)}`;
    out.push(check('priority.nice', 'ok', `lowering nice to ${nice} works (scratch thread ${trial.tid} read back ${String(trial.nice.got)}, ${restoreNote}; granted by ${via})`, undefined, data));
  } else {
    out.push(
      check(
        'priority.nice',
        'fail',
        `lowering nice to ${nice} refused (${trial.nice.code}): no CAP_SYS_NICE and RLIMIT_NICE ${limitText(niceSoft)} allows ${niceSoft === 0 ? 'no lowering at all' : `nice >= ${niceFloor} only`} - the audio thread would compete with everything else`,
        `grant CAP_SYS_NICE (docker --cap-add SYS_NICE, k8s capabilities.add: [SYS_NICE], setcap cap_sys_nice+ep) or raise RLIMIT_NICE to ${20 - nice} (ulimit -e ${20 - nice}, docker --ulimit nice=${20 - nice}:${20 - nice}, systemd LimitNICE=${nice})`,
        { ...data, error: trial.nice.message },
      ),
    );
  }
  const fdata = { priority: fifoPriority, tid: trial.tid };
  if (trial.fifo.ok) {
    const via = facts.capSysNice ? 'CAP_SYS_NICE' : `RLIMIT_RTPRIO ${limitText(rtSoft)}`;
    out.push(check('priority.fifo', 'ok', `SCHED_FIFO priority ${fifoPriority} works (${restoreNote}; granted by ${via}): --rt-policy fifo:${fifoPriority} is available`, undefined, fdata));
  } else {
    // FIFO is optional (--rt-policy); without it, nice alone still protects the audio thread.
    out.push(
      check(
        'priority.fifo',
        'warn',
        `SCHED_FIFO priority ${fifoPriority} refused (${trial.fifo.code}): no CAP_SYS_NICE and RLIMIT_RTPRIO ${limitText(rtSoft)} < ${fifoPriority} - --rt-policy fifo/rr will fail`,
        `grant CAP_SYS_NICE or raise RLIMIT_RTPRIO (ulimit -r ${fifoPriority}, docker --ulimit rtprio=${fifoPriority}:${fifoPriority}, systemd LimitRTPRIO=${fifoPriority}); or run with nice only`,
        { ...fdata, error: trial.fifo.message },
      ),
    );
  }
  return out;
}
