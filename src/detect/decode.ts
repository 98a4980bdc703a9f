/**
 * Opens any audio file as an AudioSource: WAVs through our streaming reader,
 * everything else (FLAC, Ogg Opus recordings from `earshot run`, MP3, and the
 * WAV encodings our reader leaves alone, such as µ-law) through an ffmpeg child
 * that streams 32-bit float WAV on its stdout, parsed by the same reader.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { ffmpegPath } from '../ingest/ffmpeg-path';
import { FileByteReader, StreamByteReader } from './bytes';
import { AudioFileError, type AudioInfo, type AudioSource } from './source';
import { isUrl } from './sweep';
import { describeFsError, openWavReader, type WavSource } from './wav';

/** A URL that sends no response headers within this long is an error, not a hang. */
const URL_CONNECT_TIMEOUT_MS = 30_000;
/** ...and so is one whose body then stalls this long between chunks. */
const URL_STALL_TIMEOUT_MS = 60_000;

const WAV_MAGIC = new Set(['RIFF', 'RIFX', 'RF64', 'BW64']);
/** ffmpeg's input dump (Duration, stream line) is read from this much of stderr; the rest is only kept as a tail. */
const STDERR_HEAD_BYTES = 16 * 1024;
const STDERR_TAIL_BYTES = 2 * 1024;

/** Opens `path` with the right decoder. Throws AudioFileError naming the file and the reason. */
export async function openAudio(path: string, name = path): Promise<AudioSource> {
  if (isUrl(path)) return openUrl(path, name);
  let reader: FileByteReader;
  try {
    reader = await FileByteReader.open(path);
  } catch (err) {
    throw new AudioFileError(name, describeFsError(err), 'unreadable');
  }
  const magic = Buffer.alloc(4);
  const got = await reader.read(magic, 4).catch(async (err) => {
    await reader.close();
    throw new AudioFileError(name, describeFsError(err), 'unreadable');
  });
  if (got === 0) {
    await reader.close();
    throw new AudioFileError(name, 'file is empty (0 bytes)');
  }
  if (got === 4 && WAV_MAGIC.has(magic.toString('latin1'))) {
    await reader.close();
    try {
      const fresh = await FileByteReader.open(path);
      return await openWavReader(fresh, name);
    } catch (err) {
      // Well-formed WAVs in encodings we do not decode (µ-law, ADPCM...) are ffmpeg's job.
      if (!(err instanceof AudioFileError) || err.kind !== 'unsupported') throw err;
      try {
        return await openWithFfmpeg(path, name);
      } catch {
        // Our reason names the encoding; ffmpeg's ("codec none") would not.
        throw new AudioFileError(name, `${err.reason}, nor by ffmpeg`, 'unsupported');
      }
    }
  }
  await reader.close();
  return openWithFfmpeg(path, name);
}

/** Bounded capture of a child's stderr: the head (input dump) and a tail (the final error). */
class StderrCapture {
  head = '';
  tail = '';
  ended = false;
  private waiters: Array<() => void> = [];

  feed(chunk: Buffer): void {
    const text = chunk.toString('utf8');
    if (this.head.length < STDERR_HEAD_BYTES) this.head += text.slice(0, STDERR_HEAD_BYTES - this.head.length);
    this.tail = (this.tail + text).slice(-STDERR_TAIL_BYTES);
    this.wake();
  }

  end(): void {
    this.ended = true;
    this.wake();
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Resolves once the input dump is complete (ffmpeg moved on to the mapping) or stderr closed. */
  async inputDump(): Promise<string> {
    while (!this.ended && !/Stream mapping:|Output #0/.test(this.head)) {
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    return this.head;
  }

  /** The last line ffmpeg printed, which names the failure, without the path prefix it repeats. */
  lastError(path: string): string {
    const lines = this.tail.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
    const line = lines[lines.length - 1] ?? 'no output';
    return line.startsWith(`${path}: `) ? line.slice(path.length + 2) : line;
  }
}

/** Reads what the input dump says: duration and the source's sample format (for bitsPerSample). */
export function parseInputDump(text: string): { durationSec: number | undefined; bits: number; codec: string | undefined } {
  const d = /Duration: (\d+):(\d\d):(\d\d(?:\.\d+)?)/.exec(text);
  const durationSec = d ? Number(d[1]) * 3600 + Number(d[2]) * 60 + Number(d[3]) : undefined;
  const a = /Stream #0:\d+[^:]*: Audio: ([\w-]+)[^\n]*?, (u8|s16|s32|s64|flt|dbl)p?(?: \((\d+) bit\))?/.exec(text);
  let bits = 0;
  if (a) {
    const fmtBits: Record<string, number> = { u8: 8, s16: 16, s32: 32, s64: 64, flt: 0, dbl: 0 };
    bits = a[3] ? Number(a[3]) : fmtBits[a[2]!]!;
  }
  return { durationSec, bits, codec: a?.[1] };
}

class FfmpegSource implements AudioSource {
  readonly info: AudioInfo;
  private framesOut = 0;

  constructor(
    private readonly wav: WavSource,
    private readonly child: ChildProcess,
    private readonly exited: Promise<number | null>,
    private readonly stderr: StderrCapture,
    private readonly path: string,
    private readonly name: string,
    private readonly durationSec: number | undefined,
    bits: number,
    codec: string | undefined,
  ) {
    this.info = {
      ...wav.info,
      bitsPerSample: bits,
      frames: undefined,
      codec: `ffmpeg: ${codec ?? 'audio'}`,
    };
  }

  progress(): number {
    if (!this.durationSec) return NaN;
    return Math.min(1, this.framesOut / this.info.sampleRate / this.durationSec);
  }

  async *blocks(): AsyncGenerator<Float32Array[]> {
    for await (const block of this.wav.blocks()) {
      this.framesOut += block[0]!.length;
      yield block;
    }
    const code = await this.exited;
    if (code !== 0) {
      throw new AudioFileError(this.name, `ffmpeg stopped decoding it after ${(this.framesOut / this.info.sampleRate).toFixed(2)} s: ${this.stderr.lastError(this.path)}`);
    }
  }

  async close(): Promise<void> {
    await this.wav.close();
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.exited;
  }
}

/**
 * Fetches a URL ourselves and streams the body into ffmpeg's stdin: the URL (and any signature
 * in it) never reaches ffmpeg's argv, and a server that never answers, or stalls, is a time-bound
 * error naming the URL without its credentials.
 */
async function openUrl(url: string, name: string): Promise<AudioSource> {
  const abort = new AbortController();
  let timer = setTimeout(() => abort.abort(), URL_CONNECT_TIMEOUT_MS);
  let res: Response;
  try {
    // fetch refuses credentials in the URL: they travel as Basic authorization instead.
    const u = new URL(url);
    const headers: Record<string, string> = {};
    if (u.username || u.password) {
      headers.authorization = `Basic ${Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64')}`;
      u.username = '';
      u.password = '';
    }
    res = await fetch(u, { signal: abort.signal, redirect: 'follow', headers });
  } catch (err) {
    clearTimeout(timer);
    // The cause names the failure (ECONNREFUSED, ENOTFOUND...); messages that could quote the URL are not passed on.
    const cause = (err as Error).cause as NodeJS.ErrnoException | undefined;
    const why = abort.signal.aborted ? `no response within ${URL_CONNECT_TIMEOUT_MS / 1000} s` : cause?.code ?? 'network error';
    throw new AudioFileError(name, `cannot fetch it (${why}) - check the URL and that this machine can reach it`, 'unreadable');
  }
  clearTimeout(timer);
  if (!res.ok || !res.body) {
    abort.abort();
    throw new AudioFileError(name, `cannot fetch it (HTTP ${res.status}) - check the URL is current (signed URLs expire)`, 'unreadable');
  }
  const { Readable } = await import('node:stream');
  const body = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream);
  const rearm = () => { clearTimeout(timer); timer = setTimeout(() => body.destroy(new Error(`stalled for ${URL_STALL_TIMEOUT_MS / 1000} s`)), URL_STALL_TIMEOUT_MS); };
  rearm();
  body.on('data', rearm);
  body.on('close', () => clearTimeout(timer));
  return openWithFfmpeg('pipe:0', name, body);
}

/** Decodes `path` through ffmpeg (first audio stream, native rate and channels, 32-bit float); `input` feeds its stdin when path is pipe:0. */
export async function openWithFfmpeg(path: string, name = path, input?: NodeJS.ReadableStream): Promise<AudioSource> {
  let bin: string;
  try {
    bin = ffmpegPath().path;
  } catch (err) {
    throw new AudioFileError(name, `not a WAV, and ${(err as Error).message}`, 'unreadable');
  }
  const args = ['-nostdin', '-hide_banner', '-nostats', '-v', 'info', '-i', path, '-map', '0:a:0', '-vn', '-sn', '-dn', '-c:a', 'pcm_f32le', '-f', 'wav', '-'];
  const child = spawn(bin, args, { stdio: [input ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
  if (input) {
    // ffmpeg may stop reading early (a decode error); that EPIPE is its story, told on stderr.
    child.stdin!.on('error', () => {});
    input.on('error', () => child.kill('SIGKILL')); // a stalled or broken download is a failure, not a short file
    input.pipe(child.stdin!);
  }
  const stderr = new StderrCapture();
  child.stderr!.on('data', (c: Buffer) => stderr.feed(c));
  child.stderr!.on('end', () => stderr.end());
  let spawnError: Error | undefined;
  const exited = new Promise<number | null>((resolve) => {
    child.on('error', (err) => {
      spawnError = err;
      stderr.end();
      resolve(-1);
    });
    child.on('close', (code) => resolve(code));
  });

  let wav: WavSource;
  try {
    wav = await openWavReader(new StreamByteReader(child.stdout!), name);
  } catch (err) {
    if (child.exitCode === null) child.kill('SIGKILL');
    const code = await exited;
    if (spawnError) throw new AudioFileError(name, `cannot run ffmpeg (${spawnError.message})`, 'unreadable');
    if (code !== 0) throw new AudioFileError(name, `ffmpeg cannot decode it: ${friendlyFfmpegError(stderr.lastError(path))}`);
    throw err;
  }
  const dump = parseInputDump(await stderr.inputDump());
  return new FfmpegSource(wav, child, exited, stderr, path, name, dump.durationSec, dump.bits, dump.codec);
}

function friendlyFfmpegError(line: string): string {
  if (/matches no streams/.test(line)) return 'it has no audio stream';
  return line;
}
