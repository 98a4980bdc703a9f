/** A raw PCM/Opus endpoint: both ends (the client adapter and the emulator's session). */
import type { ProviderDef } from '../types';

// Loaded on first use: a meeting loads only the clients of its partners, `earshot partner` only the session it serves.
const client = () => require('./client') as typeof import('./client');
const session = () => require('./session') as typeof import('./session');

export const raw: ProviderDef = {
  name: 'raw',
  codecs: ['linear16', 'opus'],
  client: (spec, meeting) => client().rawClient(spec, meeting.channels),
  emulator: {
    keyRequired: false,
    key(req) {
      const auth = req.headers.authorization;
      const m = auth ? /^(?:Bearer|Token)\s+(.+)$/i.exec(auth) : null;
      return m ? m[1] : auth;
    },
    session: (ws, params, ctx) => new (session().RawSession)(ws, params, ctx),
  },
};
