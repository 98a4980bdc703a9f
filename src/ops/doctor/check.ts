/** One doctor finding: what was looked at, what it means, and what to do about it. */
export type Status = 'ok' | 'info' | 'warn' | 'fail' | 'skip';

export interface Check {
  /** Stable id for machines (`--json`), e.g. "stdout", "priority.nice". */
  id: string;
  status: Status;
  /** One line: what was found and what it means for the audio. */
  summary: string;
  /** One line: how to fix it (for warn/fail). */
  fix?: string;
  /** The raw facts behind the summary. */
  data?: Record<string, unknown>;
}

export const check = (id: string, status: Status, summary: string, fix?: string, data?: Record<string, unknown>): Check => ({
  id,
  status,
  summary,
  ...(fix ? { fix } : {}),
  ...(data ? { data } : {}),
});

/** Reads a small kernel file, or undefined when it is absent or unreadable (never throws). */
export function readText(path: string): string | undefined {
  try {
    return require('node:fs').readFileSync(path, 'utf8') as string;
  } catch {
    return undefined;
  }
}

/** Formats a byte count as MiB/GiB for the table. */
export function bytes(n: number): string {
  if (!Number.isFinite(n)) return 'unlimited';
  return n >= 2 ** 30 ? `${(n / 2 ** 30).toFixed(1)} GiB` : `${Math.round(n / 2 ** 20)} MiB`;
}
