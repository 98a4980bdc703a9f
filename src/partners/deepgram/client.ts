/**
 * Deepgram live streaming (wss://api.deepgram.com/v1/listen), client side.
 * `Authorization: Token <key>`; audio as binary frames, never an empty one
 * (that used to mean "close"); KeepAlive as a text frame when no audio
 * flows (the server closes 1011 NET-0001 after 10 s); CloseStream at the
 * end, answered by a final Metadata before the close.
 *
 * Codecs: linear16 (raw PCM, described by encoding/sample_rate/channels), or
 * Opus in an Ogg container. Deepgram's encoding docs: raw, headerless audio
 * needs `encoding` and `sample_rate`; containerized audio (Ogg Opus, WebM
 * Opus) must omit both and is read from the container's header. Raw Opus
 * packets have no framing of their own on a byte stream, so earshot sends
 * the packets the audio thread already encoded as Ogg pages: each
 * connection a fresh logical stream (OpusHead, OpusTags, then one page per
 * chunk), so a reconnection's replay starts a valid stream.
 */
import type { IncomingMessage } from 'node:http';
import { FRAME_SAMPLES } from '../../realtime/frame';
import { OggOpusStream } from '../../sinks/ogg';
import { endingText } from '../core/policy';
import type { Adapter, ClientSession, Ending, PartnerSpec, Verdict } from '../types';
import { authHeader, withParams } from '../types';
import { parseDeepgram } from './messages';

/** Deepgram's streaming multichannel limit. */
export const MAX_CHANNELS = 20;

export function deepgramClient(spec: PartnerSpec, meetingChannels = 1): Adapter {
  const p = spec.params;
  const opus = (spec.codec ?? 'linear16') === 'opus';
  if (p.encoding && p.encoding !== 'linear16') {
    throw new Error(`deepgram: encoding=${p.encoding} is not supported by earshot - use --partner-codec opus|linear16`);
  }
  const rate = opus ? 48_000 : Number(p.sample_rate ?? 16_000);
  const channels = opus ? meetingChannels : Number(p.channels ?? 1);
  // multichannel: each channel transcribed on its own (results carry channel_index [c, channels]).
  const multichannel = p.multichannel === 'true';
  if (multichannel && opus) throw new Error('deepgram: multichannel is sent as linear16 - drop --partner-codec opus');
  if (multichannel && !(channels >= 1 && channels <= MAX_CHANNELS)) throw new Error(`deepgram: multichannel takes 1 to ${MAX_CHANNELS} channels, not ${p.channels}`);
  const params: Record<string, string | undefined> = {
    model: 'nova-3',
    punctuate: 'true',
    smart_format: 'true',
    interim_results: spec.interim ? 'true' : 'false',
    ...p,
    // Containerized audio: Deepgram reads encoding and rate from the Ogg header.
    ...(opus ? { encoding: undefined, sample_rate: undefined, channels: undefined } : { encoding: 'linear16', sample_rate: String(rate), channels: String(channels) }),
  };
  const url = new URL(withParams(spec.url, params));
  if (opus) for (const k of ['encoding', 'sample_rate', 'channels']) url.searchParams.delete(k);
  return {
    provider: 'deepgram',
    codec: { name: opus ? 'opus' : 'linear16', sampleRate: rate, channels },
    // 100 ms per message (Deepgram asks for 20-250 ms): Opus pages keep the Ogg overhead near
    // 3 kb/s, and either codec costs a socket write (and the main thread a wake) 10 times a second, not 50.
    chunkMs: 100,
    realtimeOnly: false,
    keepAliveMs: 4_000,
    ...(multichannel && { resultChannels: channels }),
    endpoint: () => ({ url: url.toString(), headers: authHeader(spec.key, 'Token') }),
    connection: () => (opus ? oggSession(channels) : pcmSession()),
    classify,
    sessionFromHeaders: (h: IncomingMessage['headers']) => (typeof h['dg-request-id'] === 'string' ? h['dg-request-id'] : undefined),
  };
}

const control = {
  readyOnOpen: true,
  keepAlive: () => '{"type":"KeepAlive"}',
  finish: () => '{"type":"CloseStream"}',
  parse: parseDeepgram,
};

function pcmSession(): ClientSession {
  return { ...control, start: () => [], audio: (data) => data };
}

function oggSession(channels: number): ClientSession {
  const pages: Buffer[] = [];
  const ogg = new OggOpusStream({ channels, onPage: (page) => pages.push(page) });
  const headers = pages.splice(0);
  return {
    ...control,
    start: () => headers,
    audio: (data, _samples, packets) => {
      let at = 0;
      for (const n of packets ?? []) {
        ogg.addPacket(data.subarray(at, at + n), FRAME_SAMPLES);
        at += n;
      }
      ogg.flush(false);
      return pages.length === 1 ? pages.pop()! : Buffer.concat(pages.splice(0));
    },
  };
}

/**
 * Deepgram's closes: 1008 is DATA-0000 (the payload cannot be decoded as
 * audio: our codec or parameters, permanent); 1011 NET-0000/0001 are
 * timeouts and server trouble (reconnect); 429 at the handshake is the
 * concurrency limit (later).
 */
function classify(e: Ending): Verdict | undefined {
  if (e.code === 1008 || /data-0000/.test(endingText(e))) return { retry: 'never', problem: 'refused' };
  return undefined;
}
