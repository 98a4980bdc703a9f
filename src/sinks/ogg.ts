/**
 * Ogg Opus (RFC 3533 pages, RFC 7845 mapping) as a pure byte producer: packets
 * in, finished pages out through `onPage`. No I/O here; the recorder decides
 * where pages go. prism-media 1.3.5 only demuxes Ogg, so the muxer is ours.
 */
import { randomInt } from 'node:crypto';
import { FRAME_SAMPLES, SAMPLE_RATE } from '../realtime/frame';

/** libopus's encoder lookahead at 48 kHz: samples the decoder discards at the start. */
export const OPUS_PRE_SKIP = 312;
/** Pages end after this many packets (1 s of 20 ms frames) even if the wall-clock flush has not come. */
export const PACKETS_PER_PAGE = 50;

const MAX_SEGMENTS = 255;
const HEADER_BYTES = 27;
const FLAG_BOS = 0x02;
const FLAG_EOS = 0x04;

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let r = i << 24;
    for (let bit = 0; bit < 8; bit++) r = r & 0x80000000 ? (r << 1) ^ 0x04c11db7 : r << 1;
    table[i] = r >>> 0;
  }
  return table;
})();

/** Ogg's CRC-32: polynomial 0x04c11db7, initial value 0, not reflected, no final xor. */
export function oggCrc(bytes: Uint8Array, crc = 0): number {
  for (let i = 0; i < bytes.length; i++) crc = ((crc << 8) ^ CRC_TABLE[((crc >>> 24) ^ bytes[i]!) & 0xff]!) >>> 0;
  return crc;
}

export interface PageFields {
  flags: number;
  /** -1 when no packet ends on the page. */
  granule: number;
  serial: number;
  sequence: number;
  /** Lacing values, one per segment. */
  lacing: Uint8Array;
  body: Uint8Array;
}

/** Serialises one Ogg page, checksum included. */
export function buildPage(f: PageFields): Buffer {
  const headerLen = HEADER_BYTES + f.lacing.length;
  const page = Buffer.allocUnsafe(headerLen + f.body.length);
  page.write('OggS', 0, 'latin1');
  page[4] = 0; // stream structure version
  page[5] = f.flags;
  if (f.granule < 0) {
    page.writeInt32LE(-1, 6);
    page.writeInt32LE(-1, 10);
  } else {
    page.writeUInt32LE(f.granule % 2 ** 32, 6);
    page.writeUInt32LE(Math.floor(f.granule / 2 ** 32), 10);
  }
  page.writeUInt32LE(f.serial, 14);
  page.writeUInt32LE(f.sequence, 18);
  page.writeUInt32LE(0, 22); // checksum is computed over the page with this field zeroed
  page[26] = f.lacing.length;
  page.set(f.lacing, HEADER_BYTES);
  page.set(f.body, headerLen);
  page.writeUInt32LE(oggCrc(page), 22);
  return page;
}

/** Lacing for one packet: 255s then the remainder (a trailing 0 when the size is a multiple of 255). */
function segmentsFor(bytes: number): number {
  return Math.floor(bytes / 255) + 1;
}

export function opusHead(channels: number): Buffer {
  const head = Buffer.alloc(19);
  head.write('OpusHead', 0, 'latin1');
  head[8] = 1; // version
  head[9] = channels;
  head.writeUInt16LE(OPUS_PRE_SKIP, 10);
  head.writeUInt32LE(SAMPLE_RATE, 12); // input sample rate (informational)
  head.writeInt16LE(0, 16); // output gain
  head[18] = 0; // channel mapping family 0: mono or stereo, no mapping table
  return head;
}

export function opusTags(vendor = 'earshot'): Buffer {
  const v = Buffer.from(vendor, 'utf8');
  const tags = Buffer.alloc(8 + 4 + v.length + 4);
  tags.write('OpusTags', 0, 'latin1');
  tags.writeUInt32LE(v.length, 8);
  v.copy(tags, 12);
  tags.writeUInt32LE(0, 12 + v.length); // no user comments
  return tags;
}

export interface OggOpusOptions {
  channels: number;
  onPage: (page: Buffer) => void;
  serial?: number;
}

/**
 * An Ogg Opus logical stream. Packets are staged in one reused buffer and
 * leave as a page when the page is full, on `flush()`, or on `end()`.
 * Packets are never split across pages, so each page's granule position is
 * exact: every decoded sample (pre-skip included) up to the end of its last packet.
 */
export class OggOpusStream {
  private readonly serial: number;
  private readonly onPage: (page: Buffer) => void;
  private sequence = 0;
  private ended = false;
  /**
   * Samples (48 kHz, per channel) the decoder produces from every packet so
   * far. The first pre-skip samples of that count are discarded on playback,
   * so a stream's playable length is its final granule minus pre-skip
   * (RFC 7845 §4.2; ffmpeg's libopus muxer numbers pages the same way).
   */
  private granule = 0;

  private readonly body = Buffer.allocUnsafe(MAX_SEGMENTS * 255);
  private readonly lacing = new Uint8Array(MAX_SEGMENTS);
  private bodyLen = 0;
  private segments = 0;
  private packets = 0;
  /** Where the newest staged packet starts, so `flush(true)` can hold it back for the EOS page. */
  private lastBodyStart = 0;
  private lastSegmentStart = 0;
  private lastSamples = 0;

  constructor(opts: OggOpusOptions) {
    this.serial = opts.serial ?? randomInt(2 ** 32 - 1);
    this.onPage = opts.onPage;
    // RFC 7845 §3: OpusHead alone on the BOS page, OpusTags on the next, audio starts a fresh page.
    this.emitPacketPage(opusHead(opts.channels), FLAG_BOS);
    this.emitPacketPage(opusTags(), 0);
  }

  /** Adds one packet of `samples` 48 kHz samples (960 for a 20 ms frame). */
  addPacket(packet: Uint8Array, samples: number): void {
    if (this.ended) throw new Error('OggOpusStream: packet after end()');
    const need = segmentsFor(packet.length);
    if (this.packets >= PACKETS_PER_PAGE || this.segments + need > MAX_SEGMENTS) this.flush(false);
    this.lastBodyStart = this.bodyLen;
    this.lastSegmentStart = this.segments;
    this.lastSamples = samples;
    this.body.set(packet, this.bodyLen);
    this.bodyLen += packet.length;
    let left = packet.length;
    for (; left >= 255; left -= 255) this.lacing[this.segments++] = 255;
    this.lacing[this.segments++] = left;
    this.packets++;
    this.granule += samples;
  }

  /**
   * Emits the staged packets as a page. `holdLast` keeps the newest packet
   * staged so that `end()` always has a packet to carry the EOS flag.
   */
  flush(holdLast: boolean): void {
    if (this.packets === 0 || (holdLast && this.packets === 1)) return;
    if (!holdLast) {
      this.emitStaged(0, this.segments, 0, this.bodyLen, this.granule, 0);
      this.bodyLen = this.segments = this.packets = 0;
      return;
    }
    this.emitStaged(0, this.lastSegmentStart, 0, this.lastBodyStart, this.granule - this.lastSamples, 0);
    this.body.copyWithin(0, this.lastBodyStart, this.bodyLen);
    this.lacing.copyWithin(0, this.lastSegmentStart, this.segments);
    this.bodyLen -= this.lastBodyStart;
    this.segments -= this.lastSegmentStart;
    this.packets = 1;
    this.lastBodyStart = this.lastSegmentStart = 0;
  }

  /**
   * Emits the last page with the EOS flag. Pre-skip swallows the first 312
   * decoded samples, so without help the file would play 312 samples short.
   * `padding` (a 20 ms silence packet) supplies them, and the EOS page's
   * granule trims the rest of it away (RFC 7845 §4.5): the decoded length is
   * then exactly the audio added.
   */
  end(padding?: Uint8Array): void {
    if (this.ended) return;
    let finalGranule = this.granule;
    if (padding && this.packets > 0) {
      // Keep the last real packet beside the padding, so the EOS page still ends audio.
      if (this.packets >= PACKETS_PER_PAGE || this.segments + segmentsFor(padding.length) > MAX_SEGMENTS) this.flush(true);
      finalGranule = this.granule + OPUS_PRE_SKIP;
      this.addPacket(padding, FRAME_SAMPLES);
    }
    this.ended = true;
    // With no audio at all there is no packet to carry EOS: an empty page ends the stream.
    this.emitStaged(0, this.segments, 0, this.bodyLen, finalGranule, FLAG_EOS);
    this.bodyLen = this.segments = this.packets = 0;
  }

  private emitStaged(seg0: number, seg1: number, b0: number, b1: number, granule: number, flags: number): void {
    this.onPage(
      buildPage({
        flags,
        granule,
        serial: this.serial,
        sequence: this.sequence++,
        lacing: this.lacing.subarray(seg0, seg1),
        body: this.body.subarray(b0, b1),
      }),
    );
  }

  private emitPacketPage(packet: Buffer, flags: number): void {
    const lacing = new Uint8Array(segmentsFor(packet.length)).fill(255);
    lacing[lacing.length - 1] = packet.length % 255;
    this.onPage(buildPage({ flags, granule: 0, serial: this.serial, sequence: this.sequence++, lacing, body: packet }));
  }
}
