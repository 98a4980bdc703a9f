/**
 * The emulator decodes the Opus it receives, so a test proves the audio is
 * right (not only that bytes arrived): an incremental Ogg page reader
 * (RFC 3533: any byte split across messages) that yields Opus packets, and
 * libopus (@discordjs/opus, already ours for encoding) to turn them into
 * 48 kHz PCM. The first `pre-skip` samples of each stream are dropped, as
 * RFC 7845 players do, so decoded time 0 is the first sample encoded.
 */
import { createOpusEncoder, type OpusEncoder } from '../../opus';

export class OggOpusDecoder {
  private buf: Buffer = Buffer.alloc(0);
  private partial: Buffer[] = [];
  private decoder?: OpusEncoder;
  private headersSeen = 0;
  private skip = 0;
  channels = 0;
  /** Problems found in the stream (bad capture pattern, missing OpusHead). */
  readonly errors: string[] = [];

  /** Feeds bytes; returns the PCM (s16le, interleaved, 48 kHz) decoded from the pages completed. */
  push(bytes: Buffer): Int16Array[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, bytes]) : bytes;
    const out: Int16Array[] = [];
    for (;;) {
      if (this.buf.length < 27) break;
      if (this.buf.toString('latin1', 0, 4) !== 'OggS') {
        this.errors.push('not an Ogg page (no OggS capture pattern)');
        this.buf = Buffer.alloc(0);
        break;
      }
      const nseg = this.buf[26]!;
      if (this.buf.length < 27 + nseg) break;
      const lacing = this.buf.subarray(27, 27 + nseg);
      const bodyLen = lacing.reduce((a, b) => a + b, 0);
      if (this.buf.length < 27 + nseg + bodyLen) break;
      let at = 27 + nseg;
      for (const l of lacing) {
        this.partial.push(this.buf.subarray(at, at + l));
        at += l;
        if (l < 255) {
          const pcm = this.packet(Buffer.concat(this.partial));
          if (pcm) out.push(pcm);
          this.partial = [];
        }
      }
      this.buf = this.buf.subarray(at);
    }
    return out;
  }

  private packet(p: Buffer): Int16Array | undefined {
    if (this.headersSeen === 0) {
      if (p.toString('latin1', 0, 8) !== 'OpusHead') {
        this.errors.push('the first Ogg packet is not OpusHead');
        return undefined;
      }
      this.channels = p[9]!;
      this.skip = p.readUInt16LE(10);
      this.decoder = createOpusEncoder(48_000, this.channels);
      this.headersSeen = 1;
      return undefined;
    }
    if (this.headersSeen === 1) {
      if (p.toString('latin1', 0, 8) !== 'OpusTags') this.errors.push('the second Ogg packet is not OpusTags');
      this.headersSeen = 2;
      return undefined;
    }
    const raw = this.decoder!.decode(p);
    let pcm = new Int16Array(raw.buffer, raw.byteOffset, raw.length >> 1);
    if (this.skip > 0) {
      const drop = Math.min(this.skip, pcm.length / this.channels);
      this.skip -= drop;
      pcm = pcm.subarray(drop * this.channels);
    }
    return pcm;
  }
}
