/** A raw PCM/Opus endpoint: both ends (the client adapter and the emulator's session). */
import type { ProviderDef } from '../types';
import { rawClient } from './client';
import { RawSession } from './session';

export const raw: ProviderDef = {
  name: 'raw',
  codecs: ['linear16', 'opus'],
  client: (spec, meeting) => rawClient(spec, meeting.channels),
  emulator: {
    keyRequired: false,
    key(req) {
      const auth = req.headers.authorization;
      const m = auth ? /^(?:Bearer|Token)\s+(.+)$/i.exec(auth) : null;
      return m ? m[1] : auth;
    },
    session: (ws, params, ctx) => new RawSession(ws, params, ctx),
  },
};
