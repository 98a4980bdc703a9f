import { UserError } from '../errors';

/** Parses "500ms", "20s", "2m", "1h" or a bare number of seconds into milliseconds. */
export function parseDuration(text: string, flag = 'duration'): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) throw new UserError(`${flag} "${text}" is not a duration - use e.g. 500ms, 20s, 2m or 1h`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] ?? 's']!;
  return Number(m[1]) * unit;
}

/** Parses a CPU list such as "1", "0,2" or "0-3" (the kernel's cpulist format). */
export function parseCpuList(text: string, flag = '--rt-cpus'): number[] {
  const cpus = new Set<number>();
  for (const part of text.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) throw new UserError(`${flag} "${text}" is not a CPU list - use e.g. 1, 0,2 or 2-3`);
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo) throw new UserError(`${flag} "${text}": range ${part} runs backwards`);
    for (let c = lo; c <= hi; c++) cpus.add(c);
  }
  return [...cpus].sort((a, b) => a - b);
}

export { UserError } from '../errors';
