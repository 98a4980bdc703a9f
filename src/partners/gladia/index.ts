/**
 * Gladia live v2: both ends (the client adapter, and the emulator's HTTP
 * session set-up and WebSocket session).
 */
import { randomUUID } from 'node:crypto';
import type { HttpContext, ProviderDef } from '../types';

// Loaded on first use: a meeting loads only the clients of its partners, `earshot partner` only the session it serves.
const client = () => require('./client') as typeof import('./client');
const session = () => require('./session') as typeof import('./session');

const RATES = [8000, 16000, 32000, 44100, 48000];

/** POST /v2/live: checks the key and the format, and hands out a session URL with its token. */
function initSession(req: import('node:http').IncomingMessage, body: string, ctx: HttpContext) {
  if (req.method !== 'POST' || !(req.url ?? '').startsWith('/v2/live')) return undefined;
  const key = req.headers['x-gladia-key'];
  if (!ctx.keyOk(typeof key === 'string' ? key : undefined)) return { status: 401, body: { statusCode: 401, message: 'Invalid or missing x-gladia-key' } };
  if (ctx.rateLimited()) return { status: 429, body: { statusCode: 429, message: 'Too many concurrent sessions' } };
  let o: Record<string, any>;
  try {
    o = JSON.parse(body || '{}') as Record<string, any>;
  } catch {
    return { status: 400, body: { statusCode: 400, message: 'body is not JSON' } };
  }
  const problems = [
    o.encoding !== undefined && o.encoding !== 'wav/pcm' && 'encoding: the emulator takes wav/pcm',
    o.bit_depth !== undefined && o.bit_depth !== 16 && 'bit_depth: the emulator takes 16',
    o.sample_rate !== undefined && !RATES.includes(o.sample_rate) && `sample_rate must be one of ${RATES.join(', ')}`,
    o.channels !== undefined && (!Number.isInteger(o.channels) || o.channels < 1 || o.channels > 8) && 'channels must be 1-8',
  ].filter(Boolean);
  if (problems.length) return { status: 422, body: { statusCode: 422, message: 'Invalid body', validation_errors: problems } };
  const id = randomUUID();
  const token = randomUUID().replace(/-/g, '');
  const mc = (o.messages_config ?? {}) as Record<string, boolean | undefined>;
  ctx.register(token, {
    session_id: id,
    sample_rate: String(o.sample_rate ?? 16000),
    channels: String(o.channels ?? 1),
    ...(o.endpointing !== undefined && { endpointing: String(o.endpointing) }),
    partial: String(mc.receive_partial_transcripts === true),
    lifecycle: String(mc.receive_lifecycle_events === true),
    acks: String(mc.receive_acknowledgments === true),
  });
  return { status: 201, body: { id, created_at: new Date().toISOString(), url: `${ctx.wsBase}/v2/live?token=${token}` } };
}

export const gladia: ProviderDef = {
  name: 'gladia',
  defaultUrl: 'https://api.gladia.io',
  codecs: ['linear16'],
  client: (spec) => client().gladiaClient(spec),
  emulator: {
    path: '/v2/live',
    keyRequired: true,
    // The socket takes only a session token handed out by POST /v2/live.
    key: () => undefined,
    http: initSession,
    session: (ws, params, ctx) => new (session().GladiaSession)(ws, params, ctx),
  },
};
