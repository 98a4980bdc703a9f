/**
 * A meeting in the queue: what `earshot enqueue` puts in and a bot takes out.
 *
 *   { "v": 1, "meetingId": "standup-42", "input": "url:https://...", "flags": ["--partner", "deepgram", ...] }
 *
 * `flags` are `earshot run` flags for this meeting (partners, duration, bitrate...). Never a
 * recording folder (the bot chooses it under its --record-root) and never a secret: a partner's
 * key travels as the NAME of an environment variable (--partner-key-env) or the PATH of a key file
 * (--partner-key-file) on the bot, and URLs carry no credentials. Job data read back from Redis is
 * network input: parseJob checks its shape and bounds its size.
 */
import { Redactor } from '../partners/secrets';
import { UserError } from '../util/duration';

export interface MeetingJob {
  v: 1;
  meetingId: string;
  input: string;
  flags: string[];
}

/** Names a folder and a log file: letters, digits, '.', '_', '-', not starting with '.'. */
const MEETING_ID = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$/;
const MAX_TEXT = 4096;
const MAX_FLAGS = 256;

/** Flags a meeting in the queue may not carry: the bot decides where and how it runs. */
export const BOT_ONLY_FLAGS = ['record', 'queue', 'record-root', 'meetings', 'idle', 'lease', 'help'] as const;

export function checkMeetingId(id: string): string {
  if (!MEETING_ID.test(id)) {
    throw new UserError(`--meeting-id "${id}" may hold only letters, digits, '.', '_' and '-' (1-128, not starting with '.')`);
  }
  return id;
}

/** The values of a meeting's run flags, as parseArgs gives them. */
export interface JobFlagValues {
  input?: string;
  'partner-url'?: string[];
  'partner-param'?: string[];
  [flag: string]: unknown;
}

const SECRET_PARAM = /(token|key|secret|password|auth)/i;

/**
 * Refuses what would put a secret into the queue in clear: URLs with credentials (userinfo or
 * token-like query parameters) and token-like partner parameters. Names the flag and the fix.
 */
export function refuseSecrets(values: JobFlagValues): void {
  const redact = new Redactor();
  for (const url of values['partner-url'] ?? []) {
    if (redact.url(url) !== url) {
      throw new UserError(`--partner-url ${redact.url(url)} carries a credential - the queue must not hold keys: give the key with --partner-key-env VAR or --partner-key-file PATH (set on the bot)`);
    }
  }
  for (const param of values['partner-param'] ?? []) {
    const name = param.split('=')[0]!;
    if (SECRET_PARAM.test(name.split('.').pop()!)) {
      throw new UserError(`--partner-param ${name}=... looks like a credential - the queue must not hold keys: give the key with --partner-key-env VAR or --partner-key-file PATH (set on the bot)`);
    }
  }
  const input = values.input;
  if (input && /^url:\w+:\/\/[^/@]*@/.test(input)) {
    throw new UserError(`--input ${redact.url(input.slice(4))} carries a user and password - the queue must not hold credentials: use a URL without them`);
  }
}

/** A job's data from Redis, checked: anything else is refused with the reason. */
export function parseJob(data: unknown): MeetingJob {
  const d = data as Partial<MeetingJob> | null;
  if (!d || typeof d !== 'object' || d.v !== 1) throw new Error('not an earshot meeting (version 1)');
  if (typeof d.meetingId !== 'string' || !MEETING_ID.test(d.meetingId)) throw new Error('bad meetingId');
  if (typeof d.input !== 'string' || !d.input || d.input.length > MAX_TEXT) throw new Error('bad input');
  if (!Array.isArray(d.flags) || d.flags.length > MAX_FLAGS || !d.flags.every((f) => typeof f === 'string' && f.length <= MAX_TEXT)) {
    throw new Error('bad flags');
  }
  for (const f of d.flags) {
    const name = /^--([a-z-]+)/.exec(f)?.[1];
    if (name === 'input' || (BOT_ONLY_FLAGS as readonly string[]).includes(name ?? '')) throw new Error(`flag --${name} is the bot's to set`);
  }
  return { v: 1, meetingId: d.meetingId, input: d.input, flags: d.flags };
}
