/** AssemblyAI Universal Streaming v3: both ends (the client adapter and the emulator's session). */
import type { ProviderDef } from '../types';

// Loaded on first use: a meeting loads only the clients of its partners, `earshot partner` only the session it serves.
const client = () => require('./client') as typeof import('./client');
const session = () => require('./session') as typeof import('./session');

export const assemblyai: ProviderDef = {
  name: 'assemblyai',
  defaultUrl: 'wss://streaming.assemblyai.com/v3/ws',
  codecs: ['linear16'],
  client: (spec) => client().assemblyaiClient(spec),
  emulator: {
    path: '/v3/ws',
    keyRequired: true,
    key: (req, q) => req.headers.authorization || q.get('token') || undefined,
    checkParams(q) {
      const rate = q.get('sample_rate');
      if (rate === null || !/^\d+$/.test(rate) || Number(rate) <= 0) return 'sample_rate is required';
      const enc = q.get('encoding') ?? 'pcm_s16le';
      if (enc !== 'pcm_s16le') return `encoding=${enc} is not emulated - use pcm_s16le`;
      if (q.has('channels') && q.get('channels') !== '1') return 'audio must be mono';
      return undefined;
    },
    refuse: { key: (ws) => session().AssemblyaiSession.refuse(ws, 'key'), rate: (ws) => session().AssemblyaiSession.refuse(ws, 'rate') },
    session: (ws, params, ctx) => new (session().AssemblyaiSession)(ws, params, ctx),
  },
};
