/** Small helpers shared by the benchmarks: CPU hogs, child runs, percentiles, tables. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';

/** `n` busy-looping node processes pinned to `cpu`, stopped by the returned function (and by themselves after `maxSec`). */
export function startHogs(n: number, cpu: number | undefined, maxSec: number): () => void {
  const hogs: ChildProcess[] = [];
  for (let i = 0; i < n; i++) {
    const code = `const end = Date.now() + ${maxSec * 1000}; while (Date.now() < end);`;
    const args = cpu === undefined ? [process.execPath, '-e', code] : ['-c', String(cpu), process.execPath, '-e', code];
    hogs.push(spawn(cpu === undefined ? args[0]! : 'taskset', cpu === undefined ? args.slice(1) : args, { stdio: 'ignore' }));
  }
  return () => hogs.forEach((h) => h.kill('SIGKILL'));
}

export function have(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

export function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

export function table(rows: Array<Record<string, string | number>>): string {
  const cols = Object.keys(rows[0] ?? {});
  const w = cols.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c]).length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(w[i]!)).join('  ');
  return [line(cols), line(w.map((n) => '-'.repeat(n))), ...rows.map((r) => line(cols.map((c) => String(r[c]))))].join('\n');
}

export const fmt = (x: number, digits = 3) => (Number.isFinite(x) ? x.toFixed(digits) : 'n/a');
