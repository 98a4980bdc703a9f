/** Speechmatics real-time: both ends (the client adapter and the emulator's session). */
import type { ProviderDef } from '../types';
import { speechmaticsClient } from './client';
import { SpeechmaticsSession } from './session';

export const speechmatics: ProviderDef = {
  name: 'speechmatics',
  defaultUrl: 'wss://eu2.rt.speechmatics.com/v2',
  codecs: ['linear16'],
  client: (spec) => speechmaticsClient(spec),
  emulator: {
    path: '/v2',
    keyRequired: true,
    key(req, q) {
      // Server side: Authorization: Bearer; browsers and the official JS client: ?jwt=<temporary key>.
      const m = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
      return m ? m[1] : q.get('jwt') || undefined;
    },
    refuse: { rate: (ws) => SpeechmaticsSession.refuse(ws) },
    session: (ws, params, ctx) => new SpeechmaticsSession(ws, params, ctx),
  },
};
