import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { opus } from 'prism-media';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FRAME_SAMPLES } from '../src/realtime/frame';
import { OPUS_PRE_SKIP, OggOpusStream, oggCrc } from '../src/sinks/ogg';
import { silencePacket } from '../src/sinks/recorder';
import { SineFrames, decode, probe } from './fixtures/sinks-helpers';

interface Page {
  flags: number;
  granule: number;
  serial: number;
  sequence: number;
  crcOk: boolean;
  packets: Buffer[];
}

/** An independent page reader: checks each page's CRC and splits complete packets. */
function readPages(file: Buffer): Page[] {
  const pages: Page[] = [];
  for (let at = 0; at < file.length; ) {
    assert.is(file.toString('latin1', at, at + 4), 'OggS', `capture pattern at ${at}`);
    const nseg = file[at + 26]!;
    const lacing = file.subarray(at + 27, at + 27 + nseg);
    const bodyLen = lacing.reduce((a, b) => a + b, 0);
    const end = at + 27 + nseg + bodyLen;
    const page = Buffer.from(file.subarray(at, end));
    const stored = page.readUInt32LE(22);
    page.writeUInt32LE(0, 22);
    const packets: Buffer[] = [];
    let start = at + 27 + nseg;
    let len = 0;
    for (const l of lacing) {
      len += l;
      if (l < 255) {
        packets.push(file.subarray(start, start + len));
        start += len;
        len = 0;
      }
    }
    pages.push({
      flags: file[at + 5]!,
      granule: Number(file.readBigInt64LE(at + 6)),
      serial: file.readUInt32LE(at + 14),
      sequence: file.readUInt32LE(at + 18),
      crcOk: oggCrc(page) === stored,
      packets,
    });
    at = end;
  }
  return pages;
}

function writeStream(channels: number, packets: Buffer[], flushEvery = 0, padding?: Buffer): Buffer {
  const pages: Buffer[] = [];
  const stream = new OggOpusStream({ channels, onPage: (p) => pages.push(p) });
  packets.forEach((p, i) => {
    stream.addPacket(p, FRAME_SAMPLES);
    if (flushEvery && i % flushEvery === flushEvery - 1) stream.flush(true);
  });
  stream.end(padding);
  return Buffer.concat(pages);
}

const sinePackets = (channels: number, n: number): Buffer[] => {
  const gen = new SineFrames(channels);
  return Array.from({ length: n }, (_, i) => Buffer.from(gen.frame(i).opus));
};

const tmp = mkdtempSync(join(tmpdir(), 'earshot-ogg-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

test('CRC matches the known check value of the Ogg CRC-32', () => {
  assert.is(oggCrc(Buffer.from('123456789')), 0x89a1897f);
  assert.is(oggCrc(Buffer.alloc(0)), 0);
});

test('CRC matches every page of an Ogg Opus file muxed by ffmpeg', () => {
  const path = join(tmp, 'ffmpeg.opus');
  const r = spawnSync('ffmpeg', ['-nostdin', '-v', 'error', '-f', 'lavfi', '-i', 'sine=f=440:d=1', '-c:a', 'libopus', '-y', path]);
  assert.is(r.status, 0, String(r.stderr));
  const pages = readPages(readFileSync(path));
  assert.ok(pages.length >= 3);
  for (const p of pages) assert.ok(p.crcOk, `page ${p.sequence}`);
});

test('headers, granules and flags follow RFC 7845', () => {
  const packets = sinePackets(1, 120);
  const pages = readPages(writeStream(1, packets, 20));
  for (const p of pages) assert.ok(p.crcOk, `crc of page ${p.sequence}`);
  assert.equal(pages.map((p) => p.sequence), pages.map((_, i) => i));
  assert.ok(pages.every((p) => p.serial === pages[0]!.serial));

  const [head, tags, ...audio] = pages;
  assert.is(head!.flags, 0x02, 'BOS on the OpusHead page only');
  assert.is(head!.packets.length, 1);
  const h = head!.packets[0]!;
  assert.is(h.toString('latin1', 0, 8), 'OpusHead');
  assert.equal([h[8], h[9], h.readUInt16LE(10), h.readUInt32LE(12), h.readInt16LE(16), h[18]], [1, 1, 312, 48000, 0, 0]);
  assert.is(tags!.packets[0]!.toString('latin1', 0, 8), 'OpusTags');
  assert.is(tags!.packets[0]!.toString('utf8', 12, 19), 'earshot');
  assert.is(tags!.flags, 0);

  let samples = 0;
  for (const p of audio) {
    samples += p.packets.length * FRAME_SAMPLES;
    assert.is(p.granule, samples, `granule of page ${p.sequence}`);
    assert.ok(p.packets.length <= 50);
  }
  assert.is(samples, 120 * FRAME_SAMPLES);
  assert.equal(audio.map((p) => p.flags & 0x04), [...audio.slice(1).map(() => 0), 0x04], 'EOS on the last page only');
  assert.equal(audio.flatMap((p) => p.packets), packets);
});

for (const channels of [1, 2]) {
  test(`ffmpeg decodes a ${channels}-channel stream cleanly to its exact duration`, () => {
    const path = join(tmp, `sine${channels}.opus`);
    writeFileSync(path, writeStream(channels, sinePackets(channels, 150), 0, silencePacket(channels)));
    const info = probe(path);
    assert.equal([info.codec, info.channels, info.sampleRate], ['opus', channels, 48000]);
    assert.ok(Math.abs(info.duration - 3) <= 0.02, `ffprobe duration ${info.duration}`);
    const out = decode(path);
    assert.is(out.errors, '');
    assert.is(out.pcm.length, 150 * FRAME_SAMPLES, 'end trimming leaves exactly the audio added');
  });
}

test('the EOS page trims the padding packet away: its granule ends the real audio', () => {
  for (const n of [49, 50, 51, 100]) {
    const padding = silencePacket(1);
    const pages = readPages(writeStream(1, sinePackets(1, n), 0, padding));
    const last = pages[pages.length - 1]!;
    assert.is(last.flags, 0x04);
    assert.is(last.granule, n * FRAME_SAMPLES + OPUS_PRE_SKIP);
    assert.ok(last.packets.length >= 2, 'a real packet shares the EOS page with the padding');
    assert.equal(last.packets[last.packets.length - 1], padding);
    assert.ok(pages[pages.length - 2]!.granule < last.granule);
  }
});

test('large packets span several lacing segments and pages stay within 255 segments', () => {
  const packets = Array.from({ length: 200 }, (_, i) => Buffer.alloc(600 + i, i)); // opaque payloads
  const pages = readPages(writeStream(1, packets));
  assert.equal(pages.slice(2).flatMap((p) => p.packets), packets);
  for (const p of pages) assert.ok(p.crcOk);
});

test("prism-media's OggDemuxer reads our pages back into the same packets", async () => {
  const packets = sinePackets(2, 130);
  const file = writeStream(2, packets, 7);
  const demuxer = new opus.OggDemuxer();
  let head: Buffer | undefined;
  demuxer.on('head', (h: Buffer) => (head = h));
  const out: Buffer[] = [];
  // Odd-sized chunks so pages straddle reads, as they would from a file stream.
  const chunks = Array.from({ length: Math.ceil(file.length / 777) }, (_, i) => file.subarray(i * 777, (i + 1) * 777));
  for await (const packet of Readable.from(chunks).pipe(demuxer)) out.push(packet as Buffer);
  assert.is(head?.readUInt8(9), 2);
  assert.equal(out, packets);
});

test.run();
