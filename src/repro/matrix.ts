/**
 * The configurations `earshot repro` compares. The default set tells the
 * story in ~8 runs (a few minutes at 20 s each); --all runs the full cross of
 * logging setups and stressors.
 */
import type { ReproConfig } from './scenario';
import { IRQ_CPU } from './stress';

const OTHER_CPU = String(IRQ_CPU === 0 ? 1 : 0);

export const LOGGING_SETUPS: ReproConfig[] = [
  { name: 'legacy', realtimeThread: 'main', logSink: 'console-sync' },
  { name: 'legacy + async logs', realtimeThread: 'main', logSink: 'stdout' },
  { name: 'worker + console-sync', realtimeThread: 'worker', logSink: 'console-sync' },
  { name: 'earshot default', realtimeThread: 'worker', logSink: 'file' },
];

/** Stressor variants applied to a logging setup. The irq-like ones put the audio thread on the IRQ's CPU unless pinned away. */
export const STRESS_VARIANTS: Array<{ suffix: string; patch: Partial<ReproConfig> }> = [
  { suffix: 'cpu:3', patch: { stress: 'cpu:3' } },
  { suffix: 'cpu:3, rt-nice -10', patch: { stress: 'cpu:3', rtNice: -10 } },
  { suffix: `irq-like, audio on cpu ${IRQ_CPU}`, patch: { stress: 'irq-like', rtCpus: String(IRQ_CPU) } },
  { suffix: `irq-like, rt-cpus ${OTHER_CPU}, rt-nice -10`, patch: { stress: 'irq-like', rtCpus: OTHER_CPU, rtNice: -10 } },
  { suffix: `irq-like, audio on cpu ${IRQ_CPU}, fifo:70`, patch: { stress: 'irq-like', rtCpus: String(IRQ_CPU), rtPolicy: 'fifo:70' } },
];

/** `irq` replaces the irq-like stressor's shape, e.g. "60/200" (ms busy / ms period). */
function variant(base: ReproConfig, v: (typeof STRESS_VARIANTS)[number], irq?: string): ReproConfig {
  const stress = irq && v.patch.stress === 'irq-like' ? `irq-like:${irq}` : v.patch.stress;
  const suffix = irq ? v.suffix.replace('irq-like', `irq-like:${irq}`) : v.suffix;
  return { ...base, ...v.patch, stress, name: `${base.name} | ${suffix}` };
}

export function defaultMatrix(irq?: string): ReproConfig[] {
  const earshot = LOGGING_SETUPS[3]!;
  return [...LOGGING_SETUPS, ...[0, 1, 2, 3].map((i) => variant(earshot, STRESS_VARIANTS[i]!, irq))];
}

export function fullMatrix(irq?: string): ReproConfig[] {
  return LOGGING_SETUPS.flatMap((base) => [base, ...STRESS_VARIANTS.map((v) => variant(base, v, irq))]);
}
