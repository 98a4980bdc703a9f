/**
 * Checks every meeting option before anything starts (a bad value is one UserError line naming
 * the option and the fix) and turns them into the shape the meeting runs on.
 */
import { randomUUID } from 'node:crypto';
import { UserError } from '../errors';
import { parseSource, type SourceSpec } from '../ingest/spec';
import type { LoggingOptions } from '../logging';
import { parseListenAddress } from '../ops/listen-address';
import { parsePartnerSpecs, type PartnerFlagValues } from '../partners/specs';
import type { PartnerSpec } from '../partners/types';
import { MAX_CHANNELS as DEEPGRAM_MAX_CHANNELS } from '../partners/deepgram/client';
import { providerNamed } from '../partners/registry';
import { MAX_JITTER_DEFAULT_MS, MAX_JITTER_RANGE_MS } from '../realtime/audio-loop';
import type { SchedRequest } from '../realtime/sched';
import { parseCpuList, parseDuration } from '../util/duration';
import type { Duration, MeetingOptions, PartnersRequired, PriorityOptions, RecordExisting, TestHooks } from './options';

export interface ResolvedOptions {
  meetingId: string;
  input: SourceSpec;
  record?: { dir: string; existing: RecordExisting; wav: boolean };
  channels: 1 | 2;
  bitrate: number;
  conceal: 'silence' | 'fade';
  maxJitterMs: number;
  sched: SchedRequest;
  strict: boolean;
  realtimeThread: 'worker' | 'main';
  durationMs?: number;
  partners: PartnerSpec[];
  partnerCloseMs: number;
  partnersRequired: PartnersRequired;
  log: LoggingOptions;
  metrics?: string;
  heartbeatMs?: number;
  firstAudioMs: number;
  signal?: AbortSignal;
  test: TestHooks;
  participantTranscripts: ParticipantTranscripts;
  captureSilentAfterMs: number;
  pageToken?: string;
}

const FIRST_AUDIO_MS = 15_000;
const PARTNER_CLOSE_MS = 5_000;

export function resolveOptions(o: MeetingOptions): ResolvedOptions {
  if (!o || typeof o.input !== 'string' || !o.input) {
    throw new UserError('input is required - e.g. --input file:samples/speech.wav (see `earshot run --help`)');
  }
  const meetingId = o.meetingId ?? randomUUID();
  if (!/^[\w.:@+-]{1,128}$/.test(meetingId)) {
    throw new UserError(`meeting id "${meetingId.slice(0, 40)}" - use 1-128 letters, digits and . _ : @ + -`);
  }
  const input = parseSource(o.input, o.pace !== false);
  const channels = o.channels ?? 1;
  if (channels !== 1 && channels !== 2) throw new UserError(`channels ${channels} - use 1 or 2`);
  const bitrate = o.bitrate ?? 64000;
  wholeNumber(bitrate, 'bitrate', 6000, 510000);
  const conceal = o.conceal ?? 'fade';
  if (conceal !== 'silence' && conceal !== 'fade') throw new UserError(`conceal "${conceal}" - use silence or fade`);
  const realtimeThread = o.realtimeThread ?? 'worker';
  if (realtimeThread !== 'worker' && realtimeThread !== 'main') throw new UserError(`realtime thread "${realtimeThread}" - use worker or main`);
  const durationMs = o.duration === undefined ? undefined : positiveDuration(o.duration, 'duration');
  const maxJitterMs = o.maxJitter === undefined ? MAX_JITTER_DEFAULT_MS : duration(o.maxJitter, 'max-jitter');
  const [minJitter, maxJitter] = MAX_JITTER_RANGE_MS;
  if (maxJitterMs < minJitter || maxJitterMs > maxJitter) throw new UserError(`--max-jitter ${o.maxJitter} - use ${minJitter}ms to ${maxJitter / 1000}s`);
  const existing = o.recordExisting ?? 'refuse';
  if (!['refuse', 'segment', 'replace'].includes(existing)) throw new UserError(`record-existing "${existing}" - use refuse, segment or replace`);
  const partnersRequired = o.partnersRequired ?? 'all';
  if (!['all', 'any', 'none'].includes(partnersRequired)) throw new UserError(`partners-required "${partnersRequired}" - use all, any or none`);
  if (o.metrics !== undefined) parseListenAddress(o.metrics);
  const firstAudio = o.firstAudioTimeout === undefined ? FIRST_AUDIO_MS : positiveDuration(o.firstAudioTimeout, 'first-audio-timeout');
  const partners = o.partnerFlags ? parsePartnerSpecs(o.partnerFlags as PartnerFlagValues) : partnerSpecsOf(o);
  return {
    meetingId,
    input,
    ...(o.record !== undefined && { record: { dir: o.record, existing, wav: !!o.wav } }),
    channels,
    bitrate,
    conceal,
    maxJitterMs,
    sched: schedOf(o.priority ?? {}),
    strict: !!o.priority?.strict,
    realtimeThread,
    durationMs,
    partners,
    partnerCloseMs: o.partnerCloseTimeout === undefined ? PARTNER_CLOSE_MS : duration(o.partnerCloseTimeout, 'partner-close-timeout'),
    partnersRequired,
    log: { sink: o.log?.sink ?? 'null', level: o.log?.level, ...(o.test?.logChatter && { chatter: o.test.logChatter }) },
    metrics: o.metrics,
    heartbeatMs: o.heartbeat === undefined ? undefined : positiveDuration(o.heartbeat, 'heartbeat'),
    // A source that never answers must not outlive the meeting it was asked for.
    firstAudioMs: Math.min(firstAudio, durationMs ?? Infinity),
    signal: o.signal,
    test: o.test ?? {},
    participantTranscripts: participantTranscripts(o.participantTranscripts, partners),
    ...(o.pageToken !== undefined && { pageToken: o.pageToken }),
    captureSilentAfterMs: o.captureSilentAfter === undefined ? 10_000 : positiveDuration(o.captureSilentAfter, 'capture-silent-after'),
  };
}

/** How the partners hear a page input's participants: the mix, a connection each, or one connection with a channel each (`slots` channels). */
export type ParticipantTranscripts = { mode: 'mix' } | { mode: 'each' } | { mode: 'multichannel'; slots: number };

/** Channel slots of `multichannel` without `:N`. */
const MULTICHANNEL_SLOTS = 8;

function participantTranscripts(v: unknown, partners: PartnerSpec[]): ParticipantTranscripts {
  if (v === undefined || v === 'mix') return { mode: 'mix' };
  if (v === 'each') return { mode: 'each' };
  const m = typeof v === 'string' ? /^multichannel(?::(\d+))?$/.exec(v) : null;
  if (!m) throw new UserError(`participant-transcripts "${String(v)}" - use mix, each, multichannel or multichannel:N`);
  const slots = m[1] === undefined ? MULTICHANNEL_SLOTS : Number(m[1]);
  if (!(slots >= 1 && slots <= DEEPGRAM_MAX_CHANNELS)) throw new UserError(`participant-transcripts ${v} - give 1 to ${DEEPGRAM_MAX_CHANNELS} channels (Deepgram's limit)`);
  for (const p of partners) {
    if (!providerNamed(p.provider)?.multichannel) {
      throw new UserError(`participant-transcripts multichannel: partner ${p.name} (${p.provider}) has no multichannel mode - use participant-transcripts each, or a deepgram partner`);
    }
    if (p.codec === 'opus') throw new UserError(`participant-transcripts multichannel: partner ${p.name} would get linear16 (the channels are raw PCM) - drop its opus codec, or use participant-transcripts each`);
  }
  return { mode: 'multichannel', slots };
}

function duration(d: Duration, name: string): number {
  if (typeof d === 'number') {
    if (!Number.isFinite(d) || d < 0) throw new UserError(`--${name} ${d} - give milliseconds (a number) or e.g. '30s'`);
    return d;
  }
  return parseDuration(String(d), `--${name}`);
}

function positiveDuration(d: Duration, name: string): number {
  const ms = duration(d, name);
  if (!(ms > 0)) throw new UserError(`--${name} ${d} must be longer than 0 - e.g. 30s`);
  return ms;
}

function wholeNumber(n: number, name: string, min: number, max: number): void {
  if (!Number.isInteger(n) || n < min || n > max) throw new UserError(`--${name} "${n}" - use a whole number from ${min} to ${max}`);
}

function schedOf(p: PriorityOptions): SchedRequest {
  const sched: SchedRequest = {};
  if (p.nice !== undefined) {
    wholeNumber(p.nice, 'rt-nice', -20, 19);
    sched.nice = p.nice;
  }
  if (p.cpus !== undefined) sched.cpus = typeof p.cpus === 'string' ? parseCpuList(p.cpus) : p.cpus;
  if (p.policy !== undefined) {
    const m = /^(other|fifo|rr)(?::(\d+))?$/.exec(p.policy);
    const prio = m?.[2] === undefined ? undefined : Number(m[2]);
    const bad = !m || (prio !== undefined && (m[1] === 'other' || prio < 1 || prio > 99));
    if (bad) throw new UserError(`--rt-policy "${p.policy}" - use other, fifo[:PRIO] or rr[:PRIO] with PRIO 1-99 (e.g. fifo:20)`);
    sched.policy = m![1] as SchedRequest['policy'];
    if (prio !== undefined) sched.rtPriority = prio;
  }
  return sched;
}

/**
 * Partner options to specs, through the partners' own parser (one set of checks and messages
 * for the CLI and the library). A key given as a value is set on the spec after parsing.
 */
function partnerSpecsOf(o: MeetingOptions): PartnerSpec[] {
  const list = o.partners ?? [];
  const dash = (v: string | undefined) => v ?? '-';
  const names = new Map<string, number>();
  const params: string[] = [];
  for (const p of list) {
    const n = (names.get(p.provider) ?? 0) + 1;
    names.set(p.provider, n);
    const name = n === 1 ? p.provider.toLowerCase() : `${p.provider.toLowerCase()}#${n}`;
    for (const [k, v] of Object.entries(p.params ?? {})) params.push(`${name}.${k}=${v}`);
    if (p.key !== undefined && (p.keyEnv || p.keyFile)) throw new UserError(`partner ${name}: give one of key, keyEnv and keyFile`);
  }
  const specs = parsePartnerSpecs({
    partner: list.map((p) => p.provider),
    // A key given as a value is set after parsing; the provider's own URL spares the parser's "needs a key".
    'partner-url': list.map((p) => dash(p.url ?? (p.key ? providerNamed(p.provider.toLowerCase())?.defaultUrl : undefined))),
    'partner-key-env': list.map((p) => dash(p.keyEnv)),
    'partner-key-file': list.map((p) => dash(p.keyFile)),
    'partner-param': params,
    'partner-buffer': o.partnerBuffer === undefined ? undefined : `${duration(o.partnerBuffer, 'partner-buffer')}ms`,
    'partner-interim': !!o.partnerInterim,
  });
  list.forEach((p, i) => {
    if (p.key === undefined) return;
    if (!p.key.trim()) throw new UserError(`partner ${specs[i]!.name}: the key is empty`);
    specs[i]!.key = p.key.trim();
    specs[i]!.keySource = 'the key option';
  });
  return specs;
}
