/** Deepgram live streaming: both ends (the client adapter and the emulator's session). */
import type { ProviderDef } from '../types';

// Loaded on first use: a meeting loads only the clients of its partners, `earshot partner` only the session it serves.
const client = () => require('./client') as typeof import('./client');
const session = () => require('./session') as typeof import('./session');

const positiveInt = (v: string | null) => v !== null && /^\d+$/.test(v) && Number(v) > 0;

export const deepgram: ProviderDef = {
  name: 'deepgram',
  defaultUrl: 'wss://api.deepgram.com/v1/listen',
  codecs: ['linear16', 'opus'],
  multichannel: true,
  client: (spec, meeting) => client().deepgramClient(spec, meeting.channels),
  emulator: {
    path: '/v1/listen',
    keyRequired: true,
    key(req) {
      const auth = req.headers.authorization;
      const m = auth ? /^(?:Token|Bearer)\s+(.+)$/i.exec(auth) : null;
      if (m) return m[1];
      // Browsers: Sec-WebSocket-Protocol: token, KEY
      const proto = String(req.headers['sec-websocket-protocol'] ?? '').split(',').map((s) => s.trim());
      return proto[0] === 'token' && proto[1] ? proto[1] : undefined;
    },
    checkParams(q) {
      const enc = q.get('encoding');
      if (enc !== null && enc !== 'linear16' && enc !== 'opus') return `encoding=${enc} is not emulated - use linear16, opus, or Ogg Opus without encoding`;
      if (enc !== null && !positiveInt(q.get('sample_rate'))) return `sample_rate is required with encoding=${enc}`;
      if (enc === null && q.has('sample_rate')) return 'sample_rate must be omitted for containerized audio (no encoding)';
      if (q.has('channels') && !positiveInt(q.get('channels'))) return 'channels must be a positive integer';
      if (q.get('multichannel') === 'true' && enc === null) return 'multichannel is emulated for raw audio only - use encoding=linear16 with channels=N';
      for (const b of ['multichannel', 'interim_results', 'punctuate', 'smart_format', 'diarize', 'vad_events']) {
        const v = q.get(b);
        if (v !== null && v !== 'true' && v !== 'false') return `${b} must be true or false`;
      }
      return undefined;
    },
    upgradeHeaders: (id) => [`dg-request-id: ${id}`],
    session: (ws, params, ctx) => new (session().DeepgramSession)(ws, params, ctx),
  },
};
