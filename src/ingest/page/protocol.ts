/**
 * The page protocol: what the capture script in the meeting page (page/capture.js) and
 * earshot's receiver say over one WebSocket on loopback. Everything from the network is
 * validated here, with sizes bounded, before anything else sees it.
 *
 * Page -> earshot, text (JSON), each with `seq` (-1 for messages that are not buffered):
 *   hello  {token, session, v, pageMs, firstSeq, droppedSamples, anchor}   first message, authenticates;
 *          `anchor` is the placement the last earshot acked (null at first), kept for a restarted one
 *   track  {index, trackId, label, stream, state, pageMs}          a remote audio track appeared
 *   state  {index, state: live|muted|ended, pageMs}                 mute, unmute, end
 *   label  {index, label, pageMs}                                  the bot named the participant
 *   stats  {index, pageMs, stats: {inbound-rtp numbers}, gaps: [[startMs, endMs]...], openGap: startMs|null}   every second
 *   time   {serverMs, pageMs}                                      the reply to a clock probe
 * Page -> earshot, binary: one audio period, little-endian:
 *   u8 0xEA, u8 version 1, u16 track index, u32 seq, f64 first frame on the page's audio clock,
 *   f64 page wall clock (ms) when the period left the audio thread, then s16 mono PCM at 48 kHz.
 * earshot -> page, text: welcome {known, ackedSeq}, ack {seq, anchor}, time {serverMs}.
 */

export const AUDIO_MAGIC = 0xea;
export const PROTOCOL_VERSION = 1;
export const HEADER_BYTES = 24;
/** Longest audio period accepted: 100 ms (the script sends 20 ms). */
export const MAX_PERIOD_SAMPLES = 4800;
/** The largest message of either kind (ws `maxPayload`): a bigger one closes the connection. */
export const MAX_MESSAGE_BYTES = 16 * 1024;
const MAX_LABEL = 128;
const MAX_GAPS = 64;

export type TrackState = 'live' | 'muted' | 'ended';

export interface AudioPeriod {
  index: number;
  seq: number;
  /** Position of the first sample on the page's audio clock (AudioContext frames). */
  frame: number;
  /** Page wall clock (epoch ms) when the period left the audio thread. */
  pageMs: number;
  pcm: Int16Array;
}

export type PageMessage =
  | { type: 'hello'; seq: number; token: string; session: string; pageMs: number; firstSeq: number; droppedSamples: number; anchor: number | null }
  | { type: 'track'; seq: number; index: number; trackId: string; label: string; stream: string; state: TrackState; pageMs: number; replay: boolean }
  | { type: 'state'; seq: number; index: number; state: TrackState; pageMs: number }
  | { type: 'label'; seq: number; index: number; label: string; pageMs: number }
  | { type: 'stats'; seq: number; index: number; pageMs: number; stats: Record<string, number>; gaps: Array<[number, number]>; openGap: number | null }
  | { type: 'time'; seq: number; serverMs: number; pageMs: number };

/** An audio period, or the reason it is refused. */
export function parseAudio(buf: Buffer): AudioPeriod | string {
  if (buf.length < HEADER_BYTES + 2 || (buf.length - HEADER_BYTES) % 2) return 'audio message of a bad length';
  if (buf[0] !== AUDIO_MAGIC || buf[1] !== PROTOCOL_VERSION) return 'audio message of an unknown version';
  const samples = (buf.length - HEADER_BYTES) / 2;
  if (samples > MAX_PERIOD_SAMPLES) return `audio period of ${samples} samples (at most ${MAX_PERIOD_SAMPLES})`;
  const frame = buf.readDoubleLE(8);
  const pageMs = buf.readDoubleLE(16);
  if (!Number.isSafeInteger(frame) || frame < 0 || !Number.isFinite(pageMs)) return 'audio period with a bad position';
  // Copy: the socket's buffer is not ours to keep, and an odd byte offset cannot back an Int16Array.
  const pcm = new Int16Array(samples);
  Buffer.from(pcm.buffer).set(buf.subarray(HEADER_BYTES));
  return { index: buf.readUInt16LE(2), seq: buf.readUInt32LE(4), frame, pageMs, pcm };
}

/** A control message, or the reason it is refused. */
export function parseText(text: string): PageMessage | string {
  let m: Record<string, unknown>;
  try {
    m = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return 'message is not JSON';
  }
  if (!m || typeof m !== 'object' || Array.isArray(m)) return 'message is not an object';
  const num = (k: string) => (typeof m[k] === 'number' && Number.isFinite(m[k]) ? (m[k] as number) : NaN);
  const int = (k: string) => (Number.isSafeInteger(m[k]) ? (m[k] as number) : NaN);
  const str = (k: string, max = MAX_LABEL) => (typeof m[k] === 'string' && (m[k] as string).length <= max ? (m[k] as string) : undefined);
  const seq = int('seq');
  if (Number.isNaN(seq) || seq < -1) return 'message without a sequence number';
  const index = int('index');
  const state = m.state === 'live' || m.state === 'muted' || m.state === 'ended' ? m.state : undefined;
  const bad = (what: string) => `${String(m.type)} message with a bad ${what}`;
  switch (m.type) {
    case 'hello': {
      const token = str('token', 256);
      const session = str('session', 64);
      if (token === undefined || !session) return bad('token or session');
      if (m.v !== PROTOCOL_VERSION) return `page protocol version ${String(m.v)} (earshot speaks ${PROTOCOL_VERSION}): use the capture script of this earshot`;
      const [pageMs, firstSeq, droppedSamples] = [num('pageMs'), int('firstSeq'), int('droppedSamples')];
      if ([pageMs, firstSeq, droppedSamples].some(Number.isNaN)) return bad('clock or sequence');
      const anchor = m.anchor === null || m.anchor === undefined ? null : num('anchor');
      if (Number.isNaN(anchor)) return bad('anchor');
      return { type: 'hello', seq, token, session, pageMs, firstSeq, droppedSamples, anchor };
    }
    case 'track': {
      const [trackId, label, stream] = [str('trackId'), str('label'), str('stream') ?? ''];
      if (!(index >= 1 && index <= 0xffff) || trackId === undefined || label === undefined || !state) return bad('track');
      return { type: 'track', seq, index, trackId, label, stream, state, pageMs: num('pageMs'), replay: m.replay === true };
    }
    case 'state':
      if (!(index >= 1) || !state) return bad('state');
      return { type: 'state', seq, index, state, pageMs: num('pageMs') };
    case 'label': {
      const label = str('label');
      if (!(index >= 1) || label === undefined) return bad('label');
      return { type: 'label', seq, index, label, pageMs: num('pageMs') };
    }
    case 'stats': {
      const raw = m.stats as Record<string, unknown>;
      const gaps = m.gaps;
      if (!(index >= 1) || !raw || typeof raw !== 'object' || !Array.isArray(gaps) || gaps.length > MAX_GAPS) return bad('statistics');
      const stats: Record<string, number> = {};
      for (const [k, v] of Object.entries(raw).slice(0, 32)) if (typeof v === 'number' && Number.isFinite(v) && k.length < 48) stats[k] = v;
      const okGap = (g: unknown): g is [number, number] => Array.isArray(g) && g.length === 2 && g.every((x) => typeof x === 'number' && Number.isFinite(x)) && g[1] >= g[0];
      if (!gaps.every(okGap)) return bad('gap list');
      const openGap = m.openGap === null || m.openGap === undefined ? null : num('openGap');
      if (Number.isNaN(openGap)) return bad('open gap');
      return { type: 'stats', seq, index, pageMs: num('pageMs'), stats, gaps, openGap };
    }
    case 'time': {
      const [serverMs, pageMs] = [num('serverMs'), num('pageMs')];
      if (Number.isNaN(serverMs) || Number.isNaN(pageMs)) return bad('clock');
      return { type: 'time', seq, serverMs, pageMs };
    }
    default:
      return `unknown message type ${JSON.stringify(String(m.type)).slice(0, 40)}`;
  }
}
