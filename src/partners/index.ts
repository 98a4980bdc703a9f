/**
 * Partners as `earshot run` sees them: the flags, their validation into
 * PartnerSpecs (keys read from env or file, never echoed), and one
 * PartnerSink per partner, all independent, sharing one transcripts.jsonl.
 */
import { readFileSync } from 'node:fs';
import type { ParseArgsConfig } from 'node:util';
import type { Logger } from 'pino';
import type { MeetingEvent } from '../events';
import { UserError, parseDuration } from '../util/duration';
import { assemblyaiAdapter } from './assemblyai';
import { deepgramAdapter } from './deepgram';
import { rawAdapter } from './raw';
import { Redactor } from './secrets';
import { PartnerStream, type PartnerSink, type StreamTuning } from './stream';
import { TranscriptWriter } from './transcripts';
import type { PartnerStateChange, TranscriptSegment } from './status';
import { DEFAULT_URLS, type Adapter, type PartnerSpec, type Provider } from './types';

export type { PartnerSink } from './stream';
export type { PartnerSpec } from './types';
export type { PartnerOutcome, PartnerProblem, PartnerState, PartnerStateChange, PartnerStatus, TranscriptSegment } from './status';

export const partnerFlags = {
  partner: { type: 'string', multiple: true },
  'partner-url': { type: 'string', multiple: true },
  'partner-key-env': { type: 'string', multiple: true },
  'partner-key-file': { type: 'string', multiple: true },
  'partner-buffer': { type: 'string', default: '120s' },
  'partner-interim': { type: 'boolean', default: false },
  /** `key=value` for every partner, or `NAME.key=value` for one (deepgram.model=nova-3, raw.sample_rate=48000). */
  'partner-param': { type: 'string', multiple: true },
} as const satisfies ParseArgsConfig['options'];

export const partnerUsage = `  --partner NAME         stream to a partner: deepgram | assemblyai | raw (repeatable)
  --partner-url URL      its endpoint, one per --partner in order (- for the provider's default)
  --partner-key-env VAR  read its key from env VAR, one per --partner in order (- for none)
  --partner-key-file F   or from a file
  --partner-buffer DUR   replay buffer per partner (default 120s)
  --partner-interim      also write interim results to transcripts.jsonl
  --partner-param K=V    query parameter for all partners, or NAME.K=V for one (deepgram.model=nova-3)`;

export interface PartnerFlagValues {
  partner?: string[];
  'partner-url'?: string[];
  'partner-key-env'?: string[];
  'partner-key-file'?: string[];
  'partner-buffer'?: string;
  'partner-interim'?: boolean;
  'partner-param'?: string[];
}

const PROVIDERS: Provider[] = ['deepgram', 'assemblyai', 'raw'];

/** Entries given per partner must come one per --partner; `-` means "none / default". */
function perPartner(list: string[] | undefined, n: number, flag: string): (string | undefined)[] {
  if (!list || list.length === 0) return new Array(n).fill(undefined);
  if (list.length !== n) {
    throw new UserError(`${flag} given ${list.length} times for ${n} --partner - give one per --partner, in order (use - to skip one)`);
  }
  return list.map((v) => (v === '-' || v === '' ? undefined : v));
}

export function parsePartnerSpecs(values: PartnerFlagValues): PartnerSpec[] {
  const names = values.partner ?? [];
  const extras = ['partner-url', 'partner-key-env', 'partner-key-file', 'partner-param'] as const;
  if (names.length === 0) {
    const stray = extras.find((f) => values[f]?.length);
    if (stray) throw new UserError(`--${stray} needs --partner NAME (deepgram, assemblyai or raw)`);
    return [];
  }
  const n = names.length;
  const urls = perPartner(values['partner-url'], n, '--partner-url');
  const envs = perPartner(values['partner-key-env'], n, '--partner-key-env');
  const files = perPartner(values['partner-key-file'], n, '--partner-key-file');
  const bufferMs = parseDuration(values['partner-buffer'] ?? '120s', '--partner-buffer');
  if (bufferMs < 1000) throw new UserError(`--partner-buffer ${values['partner-buffer']} is too short - use at least 1s (default 120s)`);
  const seen = new Map<string, number>();
  const specs = names.map((raw, i): PartnerSpec => {
    const provider = raw.toLowerCase() as Provider;
    if (!PROVIDERS.includes(provider)) throw new UserError(`--partner "${raw}" is not a partner - use deepgram, assemblyai or raw`);
    const count = (seen.get(provider) ?? 0) + 1;
    seen.set(provider, count);
    const name = count === 1 ? provider : `${provider}#${count}`;
    const url = urls[i] ?? DEFAULT_URLS[provider];
    if (!url) throw new UserError(`--partner ${name} needs --partner-url ws://HOST:PORT/PATH (one per --partner, in order)`);
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new UserError(`--partner-url for ${name} is not a URL - use ws://HOST:PORT/PATH or wss://...`);
    }
    if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:') {
      throw new UserError(`--partner-url for ${name} must start with ws:// or wss:// (got ${parsed.protocol}//)`);
    }
    if (envs[i] && files[i]) throw new UserError(`${name} has both --partner-key-env and --partner-key-file - give one`);
    let key: string | undefined;
    let keySource: string | undefined;
    if (envs[i]) {
      const v = envs[i]!;
      key = process.env[v]?.trim();
      keySource = `--partner-key-env ${v}`;
      if (!key) throw new UserError(`--partner-key-env ${v}: the variable is not set or empty - export it with ${name}'s key`);
    } else if (files[i]) {
      const f = files[i]!;
      keySource = `--partner-key-file ${f}`;
      try {
        key = readFileSync(f, 'utf8').trim();
      } catch (err) {
        throw new UserError(`--partner-key-file ${f}: cannot read it (${(err as NodeJS.ErrnoException).code ?? 'error'}) - check the path and its permissions`);
      }
      if (!key) throw new UserError(`--partner-key-file ${f} is empty - put ${name}'s key in it`);
    }
    if (!key && urls[i] === undefined && provider !== 'raw') {
      throw new UserError(`--partner ${name} needs a key: --partner-key-env VAR or --partner-key-file PATH`);
    }
    return {
      name,
      provider,
      url,
      key,
      keySource,
      params: {},
      bufferMs,
      interim: values['partner-interim'] === true,
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
  for (const s of specs) adapterFor(s); // bad params fail now, not mid-meeting
  return specs;
}

export function adapterFor(spec: PartnerSpec): Adapter {
  try {
    switch (spec.provider) {
      case 'deepgram':
        return deepgramAdapter(spec);
      case 'assemblyai':
        return assemblyaiAdapter(spec);
      case 'raw':
        return rawAdapter(spec);
    }
  } catch (err) {
    throw new UserError(`--partner ${spec.name}: ${(err as Error).message}`);
  }
}

export interface PartnerContext {
  recordDir?: string;
  channels: number;
  logger: Logger;
  onEvent(e: MeetingEvent): void;
  /** Tests and benches: shorter backoff, timeouts. */
  tuning?: Partial<StreamTuning>;
  onSend?(latencyMs: number, bytes: number): void;
  onFinal?(start: number, end: number, sessionId: string | null): void;
  /** Every transcript segment as it arrives (also written to transcripts.jsonl when recording). */
  onTranscript?(t: TranscriptSegment): void;
  /** Connection state changes of each partner, with the reason. */
  onState?(change: PartnerStateChange): void;
}

export function createPartnerSinks(specs: PartnerSpec[], ctx: PartnerContext): PartnerSink[] {
  if (specs.length === 0) return [];
  const redact = new Redactor();
  for (const s of specs) redact.add(s.key);
  const transcripts = ctx.recordDir ? TranscriptWriter.inDir(ctx.recordDir) : undefined;
  let open = specs.length;
  return specs.map((spec) => {
    const adapter = adapterFor(spec);
    if (adapter.codec === 'pcm16' && adapter.channels !== 1 && adapter.channels !== ctx.channels) {
      throw new UserError(`--partner ${spec.name}: channels=${adapter.channels} but the meeting has ${ctx.channels} - use ${spec.name}.channels=1 or ${ctx.channels}`);
    }
    const stream = new PartnerStream({
      spec,
      adapter,
      sourceChannels: ctx.channels,
      logger: ctx.logger.child({ partner: spec.name }),
      onEvent: ctx.onEvent,
      transcripts,
      redact,
      tuning: ctx.tuning,
      onSend: ctx.onSend,
      onFinal: ctx.onFinal,
      onTranscript: ctx.onTranscript,
      onState: ctx.onState,
    });
    // The shared transcripts file closes with the last partner.
    const close = stream.close.bind(stream);
    let closing: Promise<void> | undefined;
    stream.close = () =>
      (closing ??= close().then(async () => {
        if (--open === 0) await transcripts?.close();
      }));
    return stream;
  });
}
