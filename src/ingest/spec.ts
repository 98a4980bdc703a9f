/**
 * Source specs for `--input`: where the meeting's audio comes from, and how
 * ffmpeg should read it.
 *
 *   file:PATH      any file ffmpeg reads, paced at real time unless --no-pace
 *   pulse:SOURCE   a PulseAudio source (e.g. a sink's .monitor), as bots capture meetings
 *   alsa:DEVICE    an ALSA capture device
 *   lavfi:GRAPH    an ffmpeg lavfi source graph (e.g. sine=f=440), paced
 *   url:URL        a network stream (live: not re-paced)
 *   page:ADDR      every participant from the meeting page (the capture script dials HOST:PORT on loopback)
 *   -              raw s16le 48 kHz on stdin (channels per --channels), read by the audio worker directly
 */
import { accessSync, constants, statSync, type Stats } from 'node:fs';
import { UserError } from '../errors';
import { CENSOR, SECRET_PARAM } from '../logging/redact';

/** ffmpeg gives up on a network source that sends nothing for this long (then the supervisor retries). */
const URL_RW_TIMEOUT_US = 10_000_000;
/** Protocols a url: source with credentials may use (its URL reaches ffmpeg in a list on stdin). */
const URL_PROTOCOLS = 'pipe,http,https,tcp,tls,crypto,httpproxy,hls,rtmp,rtmps,rtsp,rtp,udp,srt';

export type SourceKind = 'file' | 'pulse' | 'alsa' | 'lavfi' | 'url' | 'stdin' | 'page';

export interface SourceSpec {
  kind: SourceKind;
  target: string;
  /** Whether ffmpeg must be paced at real time (-re) to behave like a live source. */
  paced: boolean;
  /** Live sources cannot seek: after a restart they continue from "now". */
  seekable: boolean;
  /** The spec as it may be shown (logs, summary, errors): URL credentials masked. */
  shown: string;
  /** Credentials in the spec (URL password or token, token-like query values), masked wherever they appear. */
  secrets: string[];
}

export function parseSource(text: string, pace = true): SourceSpec {
  if (text === '-') return { kind: 'stdin', target: '-', paced: pace, seekable: false, shown: '-', secrets: [] };
  const colon = text.indexOf(':');
  const kind = text.slice(0, colon);
  const target = text.slice(colon + 1);
  if (colon < 1 || !target) throw bad(text);
  const plain = { target, shown: text, secrets: [] as string[] };
  switch (kind) {
    case 'file':
      checkRegularFile(target);
      return { kind, ...plain, paced: pace, seekable: true };
    case 'lavfi':
      return { kind, ...plain, paced: pace, seekable: false };
    case 'pulse':
    case 'alsa':
      return { kind, ...plain, paced: true, seekable: false };
    case 'page':
      if (!/^(\[[0-9a-f:.]+\]|[\w.-]+):\d{1,5}$/i.test(target)) {
        throw new UserError(`--input ${text}: expected page:HOST:PORT where the capture script connects - e.g. page:127.0.0.1:0 (0: a free port)`, 2, 'ERR_INPUT');
      }
      return { kind, ...plain, paced: true, seekable: false };
    case 'url': {
      const { shown, secrets } = urlCredentials(target);
      return { kind, target, shown: `url:${shown}`, secrets, paced: true, seekable: false };
    }
    default:
      throw bad(text);
  }
}

/**
 * file: reads regular files only: ffmpeg would wait forever on a FIFO nobody writes, and read
 * a device such as /dev/zero without end. Live audio comes on stdin (-) or from url:.
 */
function checkRegularFile(target: string): void {
  let st: Stats;
  try {
    accessSync(target, constants.R_OK);
    st = statSync(target);
  } catch {
    throw new UserError(`--input file:${target}: no readable file there - check the path (any format ffmpeg reads works)`, 2, 'ERR_INPUT');
  }
  if (st.isFile()) return;
  const what = st.isFIFO() ? 'a FIFO' : st.isDirectory() ? 'a directory' : st.isCharacterDevice() || st.isBlockDevice() ? 'a device' : 'not a regular file';
  throw new UserError(
    `--input file:${target} is ${what} - file: reads recordings; pipe live audio in with --input - (raw s16le 48 kHz) or use url:`,
    2,
    'ERR_INPUT',
  );
}

/** The URL as it may be shown, and the credentials it carries (userinfo, token-like query values). */
export function urlCredentials(url: string): { shown: string; secrets: string[] } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new UserError(`--input url:${url.replace(/\/\/[^/@]*@/, `//${CENSOR}@`)} is not a URL - use e.g. url:https://host/stream.mp3`, 2, 'ERR_INPUT');
  }
  const secrets: string[] = [];
  if (u.password) secrets.push(decodeURIComponent(u.password), u.password);
  else if (u.username) secrets.push(decodeURIComponent(u.username), u.username);
  if (u.username || u.password) {
    u.username = CENSOR;
    u.password = '';
  }
  for (const [k, v] of [...u.searchParams]) {
    if (!SECRET_PARAM.test(k) || !v) continue;
    secrets.push(v);
    u.searchParams.set(k, CENSOR);
  }
  return { shown: secrets.length ? decodeURI(u.toString()) : url, secrets: [...new Set(secrets)].filter((s) => s.length > 0) };
}

function bad(text: string): UserError {
  return new UserError(
    `--input "${text}" is not a source - use file:PATH, pulse:SOURCE, alsa:DEVICE, lavfi:GRAPH, url:URL, page:HOST:PORT or - (raw s16le 48 kHz on stdin)`,
  );
}

/**
 * ffmpeg input arguments for a spec, starting `offsetSec` into a seekable source. A URL with
 * credentials never goes on ffmpeg's command line (which any user can read in /proc): it goes
 * in a one-entry ffconcat list that ffmpeg reads from its stdin (`stdin`).
 */
export function inputArgs(spec: SourceSpec, channels: number, offsetSec: number): { input: string; options: string[]; stdin?: string } {
  const seek = spec.seekable && offsetSec > 0 ? ['-ss', offsetSec.toFixed(3)] : [];
  switch (spec.kind) {
    case 'file':
      return { input: spec.target, options: seek };
    case 'lavfi':
      return { input: spec.target, options: ['-f', 'lavfi'] };
    case 'pulse':
      // 20 ms fragments so the server hands us audio at frame cadence: reads of 20 ms arriving up to 28 ms
      // after their best phase (measured, idle and loaded), where the default gives 50 ms reads in 100 ms bursts.
      return { input: spec.target, options: ['-f', 'pulse', '-sample_rate', '48000', '-channels', String(channels), '-fragment_size', String(1920 * channels)] };
    case 'alsa':
      // ffmpeg's alsa demuxer picks its own period size (no option for it): the jitter buffer absorbs its bursts.
      return { input: spec.target, options: ['-f', 'alsa'] };
    case 'url': {
      const opts: Array<[string, string]> = [['reconnect', '1'], ['reconnect_streamed', '1'], ['rw_timeout', String(URL_RW_TIMEOUT_US)]];
      if (spec.secrets.length === 0) return { input: spec.target, options: opts.flatMap(([k, v]) => [`-${k}`, v]) };
      const list = ['ffconcat version 1.0', `file '${spec.target.replace(/'/g, "'\\''")}'`, ...opts.map(([k, v]) => `option ${k} ${v}`)];
      return { input: 'pipe:0', options: ['-f', 'concat', '-safe', '0', '-protocol_whitelist', URL_PROTOCOLS], stdin: list.join('\n') + '\n' };
    }
    case 'stdin':
      throw new Error('stdin is read by the audio worker, not through ffmpeg');
    case 'page':
      throw new Error('page input is received from the meeting page, not through ffmpeg');
  }
}
