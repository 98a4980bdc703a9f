/**
 * Streaming WAV reader: RIFF (little-endian), RIFX (big-endian), RF64/BW64
 * (ds64 sizes, for files over 4 GiB); WAVE_FORMAT_PCM, IEEE_FLOAT and
 * EXTENSIBLE; 8/16/24/32/64-bit integer and 32/64-bit float; any channel count
 * and rate. It reads the header chunk by chunk (unknown chunks are skipped, odd
 * sizes honour the pad byte), then the data in fixed-size blocks: memory is
 * constant whatever the file size, and every size in the file is checked
 * before it is trusted, so malformed input ends in one AudioFileError naming
 * the reason, never an exception from deep inside, a hang or a huge allocation.
 */
import type { ByteReader } from './bytes';
import { FileByteReader } from './bytes';
import { AudioFileError, type AudioInfo, type AudioSource } from './source';

export type WavContainer = 'RIFF' | 'RIFX' | 'RF64' | 'BW64';
export type SampleEncoding = 'u8' | 's16' | 's24' | 's32' | 's64' | 'f32' | 'f64';

export interface WavFormat {
  container: WavContainer;
  littleEndian: boolean;
  /** The effective format tag (EXTENSIBLE resolved to its sub-format). */
  formatTag: number;
  encoding: SampleEncoding;
  sampleRate: number;
  channels: number;
  /** Valid bits per sample as the header states them (may be fewer than the container's). */
  bitsPerSample: number;
  /** Bytes per frame (all channels). */
  blockAlign: number;
  /** Byte offset of the first sample. */
  dataOffset: number;
  /** Bytes of sample data; undefined when the writer left the size open (stream to end of file). */
  dataBytes: number | undefined;
}

const WAVE_FORMAT_PCM = 0x0001;
const WAVE_FORMAT_IEEE_FLOAT = 0x0003;
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;

/** Encodings that are valid WAV but that this reader does not decode (ffmpeg can). */
const UNDECODED_FORMATS: Record<number, string> = {
  0x0002: 'Microsoft ADPCM',
  0x0006: 'A-law',
  0x0007: 'µ-law',
  0x0011: 'IMA ADPCM',
  0x0031: 'GSM 6.10',
  0x0050: 'MPEG audio',
  0x0055: 'MP3',
  0x0160: 'WMA v1',
  0x0161: 'WMA v2',
  0x2000: 'AC-3',
};

/** The KSDATAFORMAT_SUBTYPE GUID suffix shared by the PCM and IEEE_FLOAT sub-formats. */
const KS_GUID_TAIL = Buffer.from([0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71]);

/** A fmt chunk is 16-40 bytes in practice; anything past this is not a format header. */
const MAX_FMT_BYTES = 1 << 20;
/** Bytes of sample data read per block: large enough for throughput, small enough to stay flat. */
const BLOCK_BYTES = 256 * 1024;
/** Frames per block at most, so that mono files still yield blocks of a sensible duration. */
const MAX_BLOCK_FRAMES = 16384;
/** Sample rates above this are not audio a header could honestly claim (DSD-over-PCM tops out at 1.4 MHz). */
const MAX_SAMPLE_RATE = 50_000_000;
const UNKNOWN_SIZE = 0xffffffff;

function fourcc(buf: Buffer, at: number): string {
  const id = buf.toString('latin1', at, at + 4);
  // Quote non-printable ids as hex so that a garbage header still gives a readable message.
  return /^[\x20-\x7e]{4}$/.test(id) ? id : `0x${buf.subarray(at, at + 4).toString('hex')}`;
}

class HeaderParser {
  private readonly scratch = Buffer.alloc(64);

  constructor(
    private readonly reader: ByteReader,
    private readonly name: string,
  ) {}

  private fail(reason: string, kind: 'malformed' | 'unsupported' = 'malformed'): never {
    throw new AudioFileError(this.name, reason, kind);
  }

  /** Reads exactly n (<= 64) bytes or fails naming what was being read. */
  private async exact(n: number, what: string): Promise<Buffer> {
    const got = await this.reader.read(this.scratch, n);
    if (got < n) this.fail(`file ends inside the ${what} (truncated at byte ${this.reader.position})`);
    return this.scratch;
  }

  /** Skips n bytes of a chunk body, failing if the file ends first. */
  private async skipBody(n: number, id: string): Promise<void> {
    const size = this.reader.size;
    if (size !== undefined && this.reader.position + n > size) {
      this.fail(`chunk '${id}' declares ${n} bytes but the file ends ${size - this.reader.position} bytes later (truncated or corrupt header)`);
    }
    const skipped = await this.reader.skip(n);
    if (skipped < n) this.fail(`file ends inside chunk '${id}' (truncated at byte ${this.reader.position})`);
  }

  async parse(): Promise<WavFormat> {
    if (this.reader.size === 0) this.fail('file is empty (0 bytes)');
    const got = await this.reader.read(this.scratch, 12);
    const riff = got >= 4 ? this.scratch.toString('latin1', 0, 4) : '';
    if (!['RIFF', 'RIFX', 'RF64', 'BW64'].includes(riff)) this.fail('not a WAV file (no RIFF/RIFX/RF64 header)');
    if (got < 12) this.fail(`file ends inside the RIFF header (${got} bytes)`);
    if (this.scratch.toString('latin1', 8, 12) !== 'WAVE') this.fail(`a RIFF file of type '${fourcc(this.scratch, 8)}', not WAVE`);
    const container = riff as WavContainer;
    const le = container !== 'RIFX';
    const wide = container === 'RF64' || container === 'BW64';

    let ds64DataBytes: number | undefined;
    let fmt: Omit<WavFormat, 'dataOffset' | 'dataBytes'> | undefined;
    let first = true;
    for (;;) {
      const start = this.reader.position;
      const n = await this.reader.read(this.scratch, 8);
      if (n === 0) this.fail(fmt ? 'no data chunk' : 'no fmt chunk and no data chunk');
      if (n < 8) this.fail(`file ends inside a chunk header at byte ${start}`);
      const id = fourcc(this.scratch, 0);
      const size = le ? this.scratch.readUInt32LE(4) : this.scratch.readUInt32BE(4);
      const padded = size + (size & 1);

      if (wide && first && id !== 'ds64') this.fail(`${container} file without a ds64 chunk first (found '${id}')`);
      first = false;

      if (id === 'ds64') {
        if (!wide) {
          await this.skipBody(padded, id);
          continue;
        }
        if (size < 28) this.fail(`ds64 chunk is ${size} bytes, shorter than its 28-byte minimum`);
        const b = await this.exact(24, 'ds64 chunk');
        const data = b.readBigUInt64LE(8);
        if (data > BigInt(Number.MAX_SAFE_INTEGER)) this.fail(`ds64 declares ${data} bytes of audio, more than any real file holds`);
        ds64DataBytes = Number(data);
        await this.skipBody(padded - 24, id);
      } else if (id === 'fmt ') {
        if (fmt) this.fail('two fmt chunks');
        if (size < 16) this.fail(`fmt chunk is ${size} bytes, shorter than its 16-byte minimum`);
        if (size > MAX_FMT_BYTES) this.fail(`fmt chunk declares ${size} bytes; a format header is under 100 (corrupt header)`);
        const want = Math.min(size, 40);
        const b = await this.exact(want, 'fmt chunk');
        fmt = this.parseFmt(b, want, container, le);
        await this.skipBody(padded - want, id);
      } else if (id === 'data') {
        if (!fmt) this.fail('data chunk comes before the fmt chunk');
        const dataOffset = this.reader.position;
        let dataBytes: number | undefined;
        if (wide && size === UNKNOWN_SIZE) {
          if (ds64DataBytes === undefined) this.fail('data size is in ds64 but the ds64 chunk is missing');
          dataBytes = ds64DataBytes;
        } else if (size === UNKNOWN_SIZE || size === 0) {
          // Streaming writers (ffmpeg to a pipe, recorders that never got to
          // patch the header) leave the size open: the data runs to the end.
          dataBytes = undefined;
        } else {
          dataBytes = size;
        }
        const fileSize = this.reader.size;
        if (dataBytes === undefined && fileSize !== undefined) dataBytes = fileSize - dataOffset;
        if (dataBytes !== undefined && fileSize !== undefined && dataOffset + dataBytes > fileSize) {
          this.fail(
            `data chunk declares ${dataBytes} bytes but only ${fileSize - dataOffset} follow (file truncated?) - ` +
              're-export it, or rewrite the header with `ffmpeg -i FILE -c copy fixed.wav`',
          );
        }
        return { ...fmt, dataOffset, dataBytes };
      } else {
        // LIST, fact, bext, PEAK, JUNK, cue, iXML... nothing the detector needs.
        await this.skipBody(padded, id);
      }
    }
  }

  private parseFmt(b: Buffer, len: number, container: WavContainer, le: boolean): Omit<WavFormat, 'dataOffset' | 'dataBytes'> {
    const u16 = (at: number) => (le ? b.readUInt16LE(at) : b.readUInt16BE(at));
    const u32 = (at: number) => (le ? b.readUInt32LE(at) : b.readUInt32BE(at));
    let formatTag = u16(0);
    const channels = u16(2);
    const sampleRate = u32(4);
    const blockAlign = u16(12);
    const bitsPerSample = u16(14);
    let validBits = bitsPerSample;

    if (formatTag === WAVE_FORMAT_EXTENSIBLE) {
      if (len < 40) this.fail(`WAVE_FORMAT_EXTENSIBLE header is ${len} bytes, shorter than its 40-byte minimum`);
      const cbSize = u16(16);
      if (cbSize < 22) this.fail(`WAVE_FORMAT_EXTENSIBLE extension is ${cbSize} bytes, shorter than its 22-byte minimum`);
      validBits = u16(18) || bitsPerSample;
      // SubFormat GUID: Data1 (u32), Data2, Data3 (u16) in the file's byte order, then 8 raw bytes.
      const sub = u32(24);
      if (sub > 0xffff || u16(28) !== 0x0000 || u16(30) !== 0x0010 || !b.subarray(32, 40).equals(KS_GUID_TAIL)) {
        this.fail(`WAVE_FORMAT_EXTENSIBLE sub-format GUID ${b.subarray(24, 40).toString('hex')} is not PCM or IEEE float`, 'unsupported');
      }
      formatTag = sub;
    }

    if (formatTag !== WAVE_FORMAT_PCM && formatTag !== WAVE_FORMAT_IEEE_FLOAT) {
      const name = UNDECODED_FORMATS[formatTag] ?? 'unknown encoding';
      this.fail(`${name} (format tag 0x${formatTag.toString(16).padStart(4, '0')}) is not decoded by the WAV reader`, 'unsupported');
    }
    if (channels === 0) this.fail('fmt chunk says 0 channels');
    if (sampleRate === 0) this.fail('fmt chunk says sample rate 0');
    if (sampleRate > MAX_SAMPLE_RATE) this.fail(`fmt chunk says sample rate ${sampleRate} Hz, not a real audio rate`);
    if (bitsPerSample === 0) this.fail('fmt chunk says 0 bits per sample');
    if (blockAlign === 0) this.fail('fmt chunk says block align 0');
    if (blockAlign % channels !== 0) {
      this.fail(`block align ${blockAlign} is not a whole number of bytes for each of ${channels} channels (inconsistent fmt chunk)`);
    }
    const bytes = blockAlign / channels;
    if (validBits > bytes * 8 || bitsPerSample > bytes * 8) {
      this.fail(`${bitsPerSample}-bit samples do not fit block align ${blockAlign} for ${channels} channels (inconsistent fmt chunk)`);
    }
    if (Math.ceil(bitsPerSample / 8) !== bytes) {
      this.fail(`block align ${blockAlign} for ${channels} channels means ${bytes}-byte samples but the header says ${bitsPerSample} bits (inconsistent fmt chunk)`);
    }

    let encoding: SampleEncoding;
    if (formatTag === WAVE_FORMAT_IEEE_FLOAT) {
      if (bytes === 4) encoding = 'f32';
      else if (bytes === 8) encoding = 'f64';
      else this.fail(`${bitsPerSample}-bit IEEE float samples are not a float format (32 or 64 bits)`, 'unsupported');
    } else {
      const byBytes: Record<number, SampleEncoding> = { 1: 'u8', 2: 's16', 3: 's24', 4: 's32', 8: 's64' };
      const enc = byBytes[bytes];
      if (!enc) this.fail(`${bitsPerSample}-bit integer PCM in ${bytes}-byte containers is not supported (8, 16, 24, 32 or 64 bits)`, 'unsupported');
      encoding = enc;
    }
    return { container, littleEndian: le, formatTag, encoding, sampleRate, channels, bitsPerSample: validBits, blockAlign };
  }
}

/** Parses the header of a WAV on `reader`, leaving it positioned at the first sample. */
export async function readWavHeader(reader: ByteReader, name: string): Promise<WavFormat> {
  return new HeaderParser(reader, name).parse();
}

/** A WAV file being read block by block. */
export class WavSource implements AudioSource {
  readonly info: AudioInfo;
  private readonly framesPerBlock: number;

  constructor(
    readonly format: WavFormat,
    private readonly reader: ByteReader,
    private readonly name: string,
  ) {
    const f = format;
    const float = f.encoding === 'f32' || f.encoding === 'f64';
    this.info = {
      sampleRate: f.sampleRate,
      channels: f.channels,
      bitsPerSample: float ? 0 : f.bitsPerSample,
      frames: f.dataBytes === undefined ? undefined : Math.floor(f.dataBytes / f.blockAlign),
      codec: `WAV${f.container === 'RIFF' ? '' : ` (${f.container})`} ${f.bitsPerSample}-bit ${float ? 'float' : 'PCM'}`,
    };
    this.framesPerBlock = Math.max(1, Math.min(MAX_BLOCK_FRAMES, Math.floor(BLOCK_BYTES / f.blockAlign)));
  }

  progress(): number {
    const { dataOffset, dataBytes } = this.format;
    if (!dataBytes) return this.reader.size === undefined ? NaN : 1;
    return Math.min(1, (this.reader.position - dataOffset) / dataBytes);
  }

  async *blocks(): AsyncGenerator<Float32Array[]> {
    const { blockAlign, channels, dataBytes } = this.format;
    // allocUnsafeSlow: an own ArrayBuffer at offset 0, so the DataView below is aligned and private.
    const buf = Buffer.allocUnsafeSlow(this.framesPerBlock * blockAlign);
    const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    let left = dataBytes === undefined ? Infinity : dataBytes - (dataBytes % blockAlign);
    let carry = 0; // bytes of a partial frame kept at the start of buf (stream reads)
    while (left > 0) {
      const want = Math.min(buf.length - carry, left);
      const got = await this.reader.read(buf.subarray(carry), want);
      left -= got;
      if (got < want && dataBytes !== undefined && this.reader.size === undefined) {
        throw new AudioFileError(this.name, `audio data ends after ${this.reader.position - this.format.dataOffset} of ${dataBytes} declared bytes (truncated)`);
      }
      const have = carry + got;
      const frames = Math.floor(have / blockAlign);
      if (frames > 0) {
        const out: Float32Array[] = [];
        for (let c = 0; c < channels; c++) out.push(new Float32Array(frames));
        decodeFrames(view, frames, this.format, out);
        yield out;
      }
      carry = have - frames * blockAlign;
      if (carry > 0) buf.copyWithin(0, frames * blockAlign, have);
      if (got < want) break; // end of input; a trailing partial frame is dropped, as ffmpeg does
    }
  }

  close(): Promise<void> {
    return this.reader.close();
  }
}

/**
 * Deinterleaves and scales `frames` frames of `view` into `out` (one array per
 * channel). Scaling matches ffmpeg's (integer / 2^(bits-1), u8 offset by 128),
 * so sample values compare equal. One loop per encoding keeps each monomorphic.
 */
export function decodeFrames(view: DataView, frames: number, f: Pick<WavFormat, 'encoding' | 'channels' | 'blockAlign' | 'littleEndian'>, out: Float32Array[]): void {
  const { channels, blockAlign: step, littleEndian: le } = f;
  for (let c = 0; c < channels; c++) {
    const o = out[c]!;
    switch (f.encoding) {
      case 'u8':
        for (let i = 0, p = c; i < frames; i++, p += step) o[i] = (view.getUint8(p) - 128) / 128;
        break;
      case 's16':
        for (let i = 0, p = c * 2; i < frames; i++, p += step) o[i] = view.getInt16(p, le) / 32768;
        break;
      case 's24':
        if (le) for (let i = 0, p = c * 3; i < frames; i++, p += step) o[i] = (view.getUint16(p, true) | (view.getInt8(p + 2) << 16)) / 8388608;
        else for (let i = 0, p = c * 3; i < frames; i++, p += step) o[i] = ((view.getInt8(p) << 16) | view.getUint16(p + 1, false)) / 8388608;
        break;
      case 's32':
        for (let i = 0, p = c * 4; i < frames; i++, p += step) o[i] = view.getInt32(p, le) / 2147483648;
        break;
      case 's64':
        for (let i = 0, p = c * 8; i < frames; i++, p += step) {
          const hi = view.getInt32(le ? p + 4 : p, le);
          const lo = view.getUint32(le ? p : p + 4, le);
          o[i] = (hi * 4294967296 + lo) / 9223372036854775808;
        }
        break;
      case 'f32':
        for (let i = 0, p = c * 4; i < frames; i++, p += step) o[i] = view.getFloat32(p, le);
        break;
      case 'f64':
        for (let i = 0, p = c * 8; i < frames; i++, p += step) o[i] = view.getFloat64(p, le);
        break;
    }
  }
}

/** Opens a WAV file for streaming. Throws AudioFileError for anything it cannot read. */
export async function openWav(path: string, name = path): Promise<WavSource> {
  let reader: FileByteReader;
  try {
    reader = await FileByteReader.open(path);
  } catch (err) {
    throw new AudioFileError(name, describeFsError(err), 'unreadable');
  }
  return openWavReader(reader, name);
}

/** Parses a WAV from any byte reader (a file, or ffmpeg's stdout); closes the reader on failure. */
export async function openWavReader(reader: ByteReader, name: string): Promise<WavSource> {
  try {
    const format = await readWavHeader(reader, name);
    return new WavSource(format, reader, name);
  } catch (err) {
    await reader.close().catch(() => {});
    throw err;
  }
}

export function describeFsError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied - check the file\'s read permission';
  if (code === 'EISDIR') return 'is a directory, not a file';
  if (code === 'ENOTREGULAR') return (err as Error).message;
  return (err as Error)?.message ?? String(err);
}
