/** OpenAI Realtime transcription sessions: both ends (the client adapter and the emulator's session). */
import type { ProviderDef } from '../types';

// Loaded on first use: a meeting loads only the clients of its partners, `earshot partner` only the session it serves.
const client = () => require('./client') as typeof import('./client');
const session = () => require('./session') as typeof import('./session');

export const openai: ProviderDef = {
  name: 'openai',
  defaultUrl: 'wss://api.openai.com/v1/realtime?intent=transcription',
  codecs: ['linear16'],
  client: (spec) => client().openaiClient(spec),
  emulator: {
    path: '/v1/realtime',
    keyRequired: true,
    key: (req) => /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1],
    checkParams: (q) => (q.get('intent') === 'transcription' || q.has('model') ? undefined : 'use ?intent=transcription (or ?model=)'),
    refuse: { key: (ws) => session().OpenaiSession.refuse(ws, 'invalid_api_key'), rate: (ws) => session().OpenaiSession.refuse(ws, 'rate_limit_exceeded') },
    session: (ws, params, ctx) => new (session().OpenaiSession)(ws, params, ctx),
  },
};
