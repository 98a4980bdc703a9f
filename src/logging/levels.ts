/**
 * Per-module log levels: `--log-level info,partners=trace` (or the same text
 * in EARSHOT_LOG_LEVEL). A bare level sets the default; `module=level` sets
 * one module. The flag overrides the environment key by key.
 */
import { UserError } from '../util/duration';

export const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LevelName = (typeof LEVELS)[number];

/** Modules that log under their own name (anything else is accepted too). */
export type ModuleName = 'main' | 'realtime' | 'ingest' | 'partners' | 'sinks' | 'ops' | 'detect' | 'repro' | (string & {});

export interface LevelSpec {
  base: LevelName;
  modules: Record<string, LevelName>;
}

function checkLevel(level: string, source: string): LevelName {
  if ((LEVELS as readonly string[]).includes(level)) return level as LevelName;
  throw new UserError(
    `${source} "${level}" is not a log level - use trace, debug, info, warn, error, fatal or silent, per module as partners=trace`,
  );
}

function parseInto(spec: LevelSpec, text: string, source: string): void {
  for (const raw of text.split(',')) {
    const part = raw.trim();
    if (!part) continue;
    const eq = part.indexOf('=');
    if (eq < 0) {
      spec.base = checkLevel(part.toLowerCase(), source);
      continue;
    }
    const mod = part.slice(0, eq).trim();
    if (!/^[a-z][\w-]*$/i.test(mod)) {
      throw new UserError(`${source}: "${part}" names no module - write it as module=level, e.g. partners=trace`);
    }
    spec.modules[mod] = checkLevel(part.slice(eq + 1).trim().toLowerCase(), source);
  }
}

export function parseLevelSpec(flag?: string, env: string | undefined = process.env.EARSHOT_LOG_LEVEL): LevelSpec {
  const spec: LevelSpec = { base: 'info', modules: {} };
  if (env) parseInto(spec, env, 'EARSHOT_LOG_LEVEL');
  if (flag) parseInto(spec, flag, '--log-level');
  return spec;
}

export function levelFor(spec: LevelSpec, module: string): LevelName {
  return spec.modules[module] ?? spec.base;
}
