/** Speechmatics real-time: both ends (the client adapter and the emulator's session). */
import type { ProviderDef } from '../types';

// Loaded on first use: a meeting loads only the clients of its partners, `earshot partner` only the session it serves.
const client = () => require('./client') as typeof import('./client');
const session = () => require('./session') as typeof import('./session');

export const speechmatics: ProviderDef = {
  name: 'speechmatics',
  defaultUrl: 'wss://eu2.rt.speechmatics.com/v2',
  codecs: ['linear16'],
  client: (spec) => client().speechmaticsClient(spec),
  emulator: {
    path: '/v2',
    keyRequired: true,
    key(req, q) {
      // Server side: Authorization: Bearer; browsers and the official JS client: ?jwt=<temporary key>.
      const m = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
      return m ? m[1] : q.get('jwt') || undefined;
    },
    refuse: { rate: (ws) => session().SpeechmaticsSession.refuse(ws) },
    session: (ws, params, ctx) => new (session().SpeechmaticsSession)(ws, params, ctx),
  },
};
