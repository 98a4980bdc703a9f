/**
 * The partner flags of `earshot run` and their validation into PartnerSpecs:
 * keys read from env or file (never echoed), per-partner URLs, codecs and
 * parameters. Every mistake is one UserError line naming the fix.
 */
import { readFileSync } from 'node:fs';
import type { ParseArgsConfig } from 'node:util';
import { UserError, parseDuration } from '../util/duration';
import { providerList, providerNamed } from './registry';
import type { Adapter, PartnerSpec } from './types';

export const partnerFlags = {
  partner: { type: 'string', multiple: true },
  'partner-url': { type: 'string', multiple: true },
  'partner-key-env': { type: 'string', multiple: true },
  'partner-key-file': { type: 'string', multiple: true },
  'partner-codec': { type: 'string', multiple: true },
  'partner-buffer': { type: 'string', default: '120s' },
  'partner-interim': { type: 'boolean', default: false },
  'partner-no-results': { type: 'string', default: '120s' },
  /** `key=value` for every partner, or `NAME.key=value` for one (deepgram.model=nova-3, raw.sample_rate=48000). */
  'partner-param': { type: 'string', multiple: true },
} as const satisfies ParseArgsConfig['options'];

export const partnerUsage = `  --partner NAME         stream to a partner: ${providerList()} (repeatable)
  --partner-url URL      its endpoint, one per --partner in order (- for the provider's default)
  --partner-key-env VAR  read its key from env VAR, one per --partner in order (- for none)
  --partner-key-file F   or from a file
  --partner-codec C      opus or linear16, one per --partner in order (- for the provider's default;
                         opus where the provider takes it: deepgram, raw)
  --partner-buffer DUR   replay buffer per partner (default 120s)
  --partner-interim      also write interim results to transcripts.jsonl
  --partner-no-results DUR  report a partner that returns no result for this long while audio
                         flows (default 120s, 0 never)
  --partner-param K=V    query parameter for all partners, or NAME.K=V for one (deepgram.model=nova-3)`;

export interface PartnerFlagValues {
  partner?: string[];
  'partner-url'?: string[];
  'partner-key-env'?: string[];
  'partner-key-file'?: string[];
  'partner-codec'?: string[];
  'partner-buffer'?: string;
  'partner-interim'?: boolean;
  'partner-no-results'?: string;
  'partner-param'?: string[];
}

/** Entries given per partner must come one per --partner; `-` means "none / default". */
function perPartner(list: string[] | undefined, n: number, flag: string): (string | undefined)[] {
  if (!list || list.length === 0) return new Array(n).fill(undefined);
  if (list.length !== n) {
    throw new UserError(`${flag} given ${list.length} times for ${n} --partner - give one per --partner, in order (use - to skip one)`);
  }
  return list.map((v) => (v === '-' || v === '' ? undefined : v));
}

function readKey(name: string, env: string | undefined, file: string | undefined): { key?: string; keySource?: string } {
  if (env && file) throw new UserError(`${name} has both --partner-key-env and --partner-key-file - give one`);
  if (env) {
    const key = process.env[env]?.trim();
    if (!key) throw new UserError(`--partner-key-env ${env}: the variable is not set or empty - export it with ${name}'s key`);
    return { key, keySource: `--partner-key-env ${env}` };
  }
  if (file) {
    let key: string;
    try {
      key = readFileSync(file, 'utf8').trim();
    } catch (err) {
      throw new UserError(`--partner-key-file ${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? 'error'}) - check the path and its permissions`);
    }
    if (!key) throw new UserError(`--partner-key-file ${file} is empty - put ${name}'s key in it`);
    return { key, keySource: `--partner-key-file ${file}` };
  }
  return {};
}

function checkUrl(name: string, url: string, http: boolean): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UserError(`--partner-url for ${name} is not a URL - use ws://HOST:PORT/PATH or wss://...`);
  }
  const ok = ['ws:', 'wss:', ...(http ? ['http:', 'https:'] : [])];
  if (!ok.includes(parsed.protocol)) {
    throw new UserError(`--partner-url for ${name} must start with ${ok.map((p) => `${p}//`).join(' or ')} (got ${parsed.protocol}//)`);
  }
}

export function parsePartnerSpecs(values: PartnerFlagValues): PartnerSpec[] {
  const names = values.partner ?? [];
  const extras = ['partner-url', 'partner-key-env', 'partner-key-file', 'partner-codec', 'partner-param'] as const;
  if (names.length === 0) {
    const stray = extras.find((f) => values[f]?.length);
    if (stray) throw new UserError(`--${stray} needs --partner NAME (${providerList()})`);
    return [];
  }
  const n = names.length;
  const urls = perPartner(values['partner-url'], n, '--partner-url');
  const envs = perPartner(values['partner-key-env'], n, '--partner-key-env');
  const files = perPartner(values['partner-key-file'], n, '--partner-key-file');
  const codecs = perPartner(values['partner-codec'], n, '--partner-codec');
  const bufferMs = parseDuration(values['partner-buffer'] ?? '120s', '--partner-buffer');
  if (bufferMs < 1000) throw new UserError(`--partner-buffer ${values['partner-buffer']} is too short - use at least 1s (default 120s)`);
  const noResultsMs = parseDuration(values['partner-no-results'] ?? '120s', '--partner-no-results');
  const seen = new Map<string, number>();
  const specs = names.map((given, i): PartnerSpec => {
    const def = providerNamed(given.toLowerCase());
    if (!def) throw new UserError(`--partner "${given}" is not a partner - use ${providerList()}`);
    const count = (seen.get(def.name) ?? 0) + 1;
    seen.set(def.name, count);
    const name = count === 1 ? def.name : `${def.name}#${count}`;
    const url = urls[i] ?? def.defaultUrl;
    if (!url) throw new UserError(`--partner ${name} needs --partner-url ws://HOST:PORT/PATH (one per --partner, in order)`);
    checkUrl(name, url, /^https?:/.test(def.defaultUrl ?? ''));
    const codec = codecs[i];
    if (codec !== undefined && codec !== 'opus' && codec !== 'linear16') throw new UserError(`--partner-codec "${codec}" - use opus or linear16`);
    if (codec && !def.codecs.includes(codec)) throw new UserError(`--partner-codec ${codec}: ${name} takes ${def.codecs.join(' or ')} only`);
    const { key, keySource } = readKey(name, envs[i], files[i]);
    if (!key && urls[i] === undefined && def.defaultUrl) {
      throw new UserError(`--partner ${name} needs a key: --partner-key-env VAR or --partner-key-file PATH`);
    }
    return {
      name,
      provider: def.name,
      url,
      key,
      keySource,
      params: {},
      codec: codec as PartnerSpec['codec'],
      bufferMs,
      interim: values['partner-interim'] === true,
      noResultsMs,
    };
  });
  for (const p of values['partner-param'] ?? []) {
    const m = /^(?:([\w#-]+)\.)?([\w.-]+)=(.*)$/.exec(p);
    if (!m) throw new UserError(`--partner-param "${p}" is not KEY=VALUE or NAME.KEY=VALUE (e.g. deepgram.model=nova-3)`);
    const [, target, k, v] = m;
    const matched = specs.filter((s) => !target || s.name === target || s.provider === target);
    if (target && matched.length === 0) throw new UserError(`--partner-param ${p}: no --partner named ${target}`);
    for (const s of matched) s.params[k!] = v!;
  }
  for (const s of specs) adapterFor(s, 1); // bad params fail now, not mid-meeting
  return specs;
}

export function adapterFor(spec: PartnerSpec, channels: number): Adapter {
  try {
    return providerNamed(spec.provider)!.client(spec, { channels });
  } catch (err) {
    throw new UserError(`--partner ${spec.name}: ${(err as Error).message}`);
  }
}
