/**
 * CPU stressors for `earshot repro`, as child processes that stop by
 * themselves at a deadline (and are killed on exit as well):
 *   cpu:N[@CPUS]   N busy loops at SCHED_OTHER, optionally pinned (e.g. cpu:3@0)
 *   irq-like[:BUSY/PERIOD][@CPU]  a SCHED_FIFO burst loop on the audio core
 *                  (default 30 ms busy every 100 ms on CPU 0), the shape of
 *                  interrupt work that normal threads cannot preempt. Needs
 *                  CAP_SYS_NICE; skipped with a note if refused.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { native } from '../native';
import { parseCpuList, UserError } from '../util/duration';

export interface StressSpec {
  kind: 'cpu' | 'irq-like';
  count: number;
  cpus?: number[];
  busyMs: number;
  periodMs: number;
}

export const IRQ_CPU = 0;

export function parseStress(text: string): StressSpec {
  const m = /^(cpu|irq-like)(?::(\d+)(?:\/(\d+))?)?(?:@([\d,-]+))?$/.exec(text.trim());
  const bad = !m || (m[1] === 'cpu' && (!m[2] || m[3])) || (m[1] === 'irq-like' && m[2] && (!m[3] || Number(m[2]) >= Number(m[3])));
  if (bad) throw new UserError(`--stress "${text}" - use cpu:N, cpu:N@CPUS or irq-like[:BUSY_MS/PERIOD_MS][@CPU] (e.g. irq-like:30/100)`);
  const cpus = m![4] ? parseCpuList(m![4], '--stress') : m![1] === 'irq-like' ? [IRQ_CPU] : undefined;
  return m![1] === 'cpu'
    ? { kind: 'cpu', count: Number(m![2]), cpus, busyMs: 0, periodMs: 0 }
    : { kind: 'irq-like', count: 1, cpus, busyMs: m![2] ? Number(m![2]) : 30, periodMs: m![3] ? Number(m![3]) : 100 };
}

export interface RunningStress {
  spec: StressSpec;
  /** What each child managed to apply, e.g. "fifo:50 on cpus 0" or a refusal. */
  notes: string[];
  /** False when the stressor could not take effect (e.g. SCHED_FIFO refused). */
  effective: boolean;
  /** Resolves once every child has exited (at its deadline, or on stop()). */
  done: Promise<void>;
  stop(): void;
}

export async function startStress(spec: StressSpec, durationMs: number): Promise<RunningStress> {
  const deadline = Date.now() + durationMs;
  const children: ChildProcess[] = [];
  const notes: string[] = [];
  const stop = () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  };
  process.once('exit', stop);
  let effective = true;
  for (let i = 0; i < spec.count; i++) {
    const args = [__filename, '--kind', spec.kind, '--deadline', String(deadline), '--busy', String(spec.busyMs), '--period', String(spec.periodMs)];
    if (spec.cpus) args.push('--cpus', spec.cpus.join(','));
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(child);
    const first = await new Promise<string>((resolve) => {
      const rl = createInterface({ input: child.stdout! });
      rl.once('line', resolve);
      child.once('exit', () => resolve('{"ok":false,"note":"exited before starting"}'));
    });
    const status = JSON.parse(first) as { ok: boolean; note: string };
    notes.push(status.note);
    if (!status.ok) effective = false;
  }
  const done = Promise.all(
    children.map((c) => (c.exitCode !== null || c.signalCode !== null ? undefined : new Promise((r) => c.once('exit', r)))),
  ).then(() => {
    process.removeListener('exit', stop);
  });
  return { spec, notes, effective, done, stop };
}

/** Child entry: apply scheduling, report it on one line, then burn CPU until the deadline. */
function childMain(): void {
  const { values } = parseArgs({
    options: { kind: { type: 'string' }, deadline: { type: 'string' }, busy: { type: 'string' }, period: { type: 'string' }, cpus: { type: 'string' } },
  });
  const deadline = Number(values.deadline);
  const notes: string[] = [];
  let ok = true;
  try {
    if (values.cpus) notes.push(`cpus ${native().setAffinity(values.cpus.split(',').map(Number)).join(',')}`);
    if (values.kind === 'irq-like') {
      native().setScheduler(1, 50);
      notes.unshift(`fifo:50 ${values.busy}ms/${values.period}ms`);
    } else notes.unshift('other');
  } catch (err) {
    ok = values.kind !== 'irq-like';
    notes.push(`refused: ${(err as Error).message}`);
  }
  process.stdout.write(JSON.stringify({ ok, note: `${values.kind} ${notes.join(' ')}` }) + '\n');
  if (!ok) process.exit(0);
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  const busy = Number(values.busy);
  const period = Number(values.period);
  while (Date.now() < deadline) {
    if (values.kind === 'irq-like') {
      const start = Date.now();
      while (Date.now() - start < busy) {} // cannot be preempted by SCHED_OTHER threads on this CPU
      Atomics.wait(sleeper, 0, 0, period - busy);
    } else {
      for (let i = 0; i < 1e6; i++) {} // check the deadline every few ms
    }
  }
}

if (require.main === module) childMain();
