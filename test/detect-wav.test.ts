import { execFileSync } from 'node:child_process';
import { existsSync, openSync, closeSync, ftruncateSync, readdirSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { StreamByteReader } from '../src/detect/bytes';
import { openAudio } from '../src/detect/decode';
import { AudioFileError } from '../src/detect/source';
import { openWav, openWavReader, type WavSource } from '../src/detect/wav';
import { buildWav, ffmpegDecode, firstDifference, prng, readAll, testSignal, tmpDir, type Enc } from './detect-fixtures';

const dir = tmpDir();
test.after(() => rmSync(dir, { recursive: true, force: true }));

function scipyDataDir(): string | null {
  try {
    const base = execFileSync('python3', ['-c', 'import scipy,os;print(os.path.dirname(scipy.__file__))'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const d = join(base, 'io', 'tests', 'data');
    return existsSync(d) ? d : null;
  } catch {
    return null;
  }
}

/** The ffmpeg raw-PCM format name for what the header declares (for RIFX, which ffmpeg's WAV demuxer mishandles). */
function rawFormat(src: WavSource): string {
  const f = src.format;
  if (f.encoding === 'u8') return 'u8';
  return `${f.encoding}${f.littleEndian ? 'le' : 'be'}`;
}

/** ffmpeg's samples for a WAV we decoded: its WAV demuxer, or its raw demuxer on the same payload for RIFX. */
function reference(path: string, src: WavSource): Float32Array | null {
  const f = src.format;
  if (f.container === 'RIFX') {
    const bytes = readFileSync(path).subarray(f.dataOffset, f.dataOffset + (f.dataBytes ?? Infinity));
    return ffmpegDecode(['-f', rawFormat(src), '-ar', String(f.sampleRate), '-ac', String(f.channels), '-i', 'pipe:0'], bytes);
  }
  return ffmpegDecode(['-i', path]);
}

function assertOneClearLine(err: unknown, name: string): AudioFileError {
  assert.instance(err, AudioFileError, `expected AudioFileError, got ${(err as Error)?.stack ?? err}`);
  const e = err as AudioFileError;
  assert.ok(!e.message.includes('\n'), `one line: ${e.message}`);
  assert.ok(e.message.startsWith(`${name}: `), `names the file: ${e.message}`);
  assert.ok(e.reason.length > 8, `gives a reason: ${e.message}`);
  return e;
}

test('every SciPy test WAV is decoded exactly as ffmpeg decodes it, or rejected with one clear line', async () => {
  const data = scipyDataDir();
  assert.ok(data, 'SciPy test data is installed (python3-scipy; test/prereqs.sh installs it)');
  const files = readdirSync(data!).filter((f) => f.endsWith('.wav')).sort();
  assert.ok(files.length >= 10, `found ${files.length} SciPy WAVs`);
  let decoded = 0;
  const rejected: string[] = [];
  for (const name of files) {
    const path = join(data!, name);
    let src: WavSource;
    try {
      src = await openWav(path, name);
    } catch (err) {
      const e = assertOneClearLine(err, name);
      rejected.push(`${name}: ${e.reason}`);
      if (e.kind === 'unsupported') {
        // The CLI path hands well-formed encodings we skip (µ-law) to ffmpeg, or says neither can.
        try {
          const viaFfmpeg = await openAudio(path, name);
          const ours = await readAll(viaFfmpeg);
          await viaFfmpeg.close();
          const ref = ffmpegDecode(['-i', path]);
          assert.ok(ref, `${name}: ffmpeg decoded it for us but not directly`);
          assert.is(firstDifference(ours, ref!), -1, `${name} via ffmpeg`);
        } catch (err2) {
          assertOneClearLine(err2, name);
          assert.is(ffmpegDecode(['-i', path]), null, `${name}: rejected although ffmpeg decodes it`);
        }
      }
      continue;
    }
    const ours = await readAll(src);
    await src.close();
    const ref = reference(path, src);
    assert.ok(ref, `${name}: we decoded it but ffmpeg could not produce a reference`);
    assert.is(ours.length, ref!.length, `${name}: sample count`);
    const at = firstDifference(ours, ref!);
    assert.is(at, -1, `${name}: sample ${at} is ${ours[at]} here, ${ref![at]} in ffmpeg`);
    decoded++;
  }
  console.log(`  SciPy WAVs: ${decoded} decoded = ffmpeg, ${rejected.length} rejected:\n    ${rejected.join('\n    ')}`);
  assert.ok(decoded >= 10, `decoded ${decoded}`);
  // The RIFX files must decode to their little-endian twins' values (SciPy wrote the
  // float pair separately: they agree to float rounding, the integer pairs exactly).
  for (const [be, le] of [
    ['test-44100Hz-2ch-32bit-float-be.wav', 'test-44100Hz-2ch-32bit-float-le.wav'],
    ['test-44100Hz-be-1ch-4bytes.wav', 'test-44100Hz-le-1ch-4bytes.wav'],
    ['test-8000Hz-be-3ch-5S-24bit.wav', 'test-8000Hz-le-3ch-5S-24bit.wav'],
  ]) {
    if (!files.includes(be!) || !files.includes(le!)) continue;
    const a = await openWav(join(data!, be!));
    const b = await openWav(join(data!, le!));
    const [x, y] = [await readAll(a), await readAll(b)];
    assert.is(x.length, y.length, `${be} vs ${le}: length`);
    const tol = a.format.encoding === 'f32' ? 1e-6 : 0;
    for (let i = 0; i < x.length; i++) if (Math.abs(x[i]! - y[i]!) > tol) assert.unreachable(`${be} vs ${le}: sample ${i} ${x[i]} vs ${y[i]}`);
    await a.close();
    await b.close();
  }
});

const VARIANTS: Array<{ label: string; enc: Enc; container?: 'RIFF' | 'RIFX' | 'RF64'; extensible?: boolean; channels: number; rate: number }> = [
  { label: 'u8 mono 8 kHz', enc: 'u8', channels: 1, rate: 8000 },
  { label: 's16 stereo 48 kHz', enc: 's16', channels: 2, rate: 48000 },
  { label: 's24 6ch 96 kHz extensible', enc: 's24', channels: 6, rate: 96000, extensible: true },
  { label: 's32 mono 44.1 kHz RIFX', enc: 's32', channels: 1, rate: 44100, container: 'RIFX' },
  { label: 's24 stereo RIFX', enc: 's24', channels: 2, rate: 22050, container: 'RIFX' },
  { label: 's64 3ch', enc: 's64', channels: 3, rate: 16000 },
  { label: 'f32 stereo extensible', enc: 'f32', channels: 2, rate: 48000, extensible: true },
  { label: 'f64 mono RIFX', enc: 'f64', channels: 1, rate: 11025, container: 'RIFX' },
  { label: 's16 mono RF64', enc: 's16', channels: 1, rate: 48000, container: 'RF64' },
  { label: 'f32 5ch RF64', enc: 'f32', channels: 5, rate: 32000, container: 'RF64' },
];

test('generated WAVs in every supported encoding decode exactly as ffmpeg decodes them', async () => {
  for (const v of VARIANTS) {
    // 40000 frames: several blocks for the wide formats, so block edges are crossed.
    const frames = 40000 + 7;
    const samples = testSignal(frames, v.channels, v.rate);
    const path = join(dir, `${v.label.replace(/\W+/g, '-')}.wav`);
    // Odd-sized unknown chunks (pad byte) before data, a LIST after it.
    writeFileSync(path, buildWav({ ...v, samples, before: [['junk', Buffer.alloc(5, 7)], ['bext', Buffer.alloc(0)]], after: [['LIST', Buffer.from('INFOISFT')]] }));
    const src = await openWav(path);
    assert.is(src.info.channels, v.channels, v.label);
    assert.is(src.info.sampleRate, v.rate, v.label);
    assert.is(src.info.frames, frames, v.label);
    const ours = await readAll(src);
    await src.close();
    const ref = reference(path, src);
    assert.ok(ref, `${v.label}: ffmpeg reference`);
    assert.is(ours.length, frames * v.channels, v.label);
    const at = firstDifference(ours, ref!);
    assert.is(at, -1, `${v.label}: sample ${at}: ${ours[at]} vs ffmpeg ${ref![at]}`);
  }
});

test('an open-ended data size (streaming writer) reads to the end of the file and of a pipe', async () => {
  const samples = testSignal(3000, 2, 48000);
  const buf = buildWav({ enc: 's16', channels: 2, rate: 48000, samples, dataSizeField: 0xffffffff });
  const path = join(dir, 'streamed.wav');
  writeFileSync(path, buf);
  const a = await openWav(path);
  assert.is(a.info.frames, 3000);
  const fromFile = await readAll(a);
  await a.close();
  const b = await openWavReader(new StreamByteReader(Readable.from([buf.subarray(0, 50), buf.subarray(50, 51), buf.subarray(51)])), 'pipe');
  assert.is(b.info.frames, undefined);
  const fromPipe = await readAll(b);
  await b.close();
  assert.is(fromFile.length, 6000);
  assert.is(firstDifference(fromFile, fromPipe), -1);
});

test('RF64 over 4 GiB: sizes come from ds64 (sparse file, first and last blocks read)', async () => {
  const path = join(dir, 'huge-rf64.wav');
  const head = buildWav({ container: 'RF64', enc: 's16', channels: 2, rate: 48000, samples: [0.25, -0.25] });
  const dataBytes = 5 * 2 ** 30; // 5 GiB of stereo s16
  const headerLen = head.length - 4;
  const ds64At = head.indexOf('ds64') + 8;
  head.writeBigUInt64LE(BigInt(headerLen - 8 + dataBytes), ds64At);
  head.writeBigUInt64LE(BigInt(dataBytes), ds64At + 8);
  head.writeBigUInt64LE(BigInt(dataBytes / 4), ds64At + 16);
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, head, 0, head.length, 0);
    ftruncateSync(fd, headerLen + dataBytes); // sparse: no disk used
    const tail = Buffer.alloc(4);
    tail.writeInt16LE(16384, 0);
    tail.writeInt16LE(-16384, 2);
    writeSync(fd, tail, 0, 4, headerLen + dataBytes - 4);
  } finally {
    closeSync(fd);
  }
  const src = await openWav(path);
  assert.is(src.format.container, 'RF64');
  assert.is(src.info.frames, dataBytes / 4);
  const it = src.blocks();
  const first = (await it.next()).value as Float32Array[];
  assert.is(first[0]![0], 0.25);
  assert.is(first[1]![0], -0.25);
  await it.return(undefined);
  await src.close();
  rmSync(path);
});

async function expectReject(name: string, buf: Buffer, pattern: RegExp): Promise<void> {
  const path = join(dir, name);
  writeFileSync(path, buf);
  try {
    const src = await openWav(path, name);
    await readAll(src);
    await src.close();
  } catch (err) {
    const e = assertOneClearLine(err, name);
    assert.match(e.reason, pattern, `${name}: ${e.reason}`);
    return;
  }
  assert.unreachable(`${name} was accepted`);
}

test('malformed and undecoded WAVs give one clear error naming the file and the reason', async () => {
  const good = buildWav({ enc: 's16', channels: 1, rate: 8000, samples: testSignal(100, 1, 8000) });
  await expectReject('empty.wav', Buffer.alloc(0), /empty/);
  await expectReject('text.wav', Buffer.from('hello, this is not audio'), /not a WAV/);
  await expectReject('short-header.wav', good.subarray(0, 10), /ends inside the RIFF header/);
  await expectReject('cut-in-fmt.wav', good.subarray(0, 30), /ends inside/);
  await expectReject('cut-in-data.wav', good.subarray(0, 100), /truncated/);
  const zeroCh = Buffer.from(good);
  zeroCh.writeUInt16LE(0, 22);
  await expectReject('zero-channels.wav', zeroCh, /0 channels/);
  const zeroRate = Buffer.from(good);
  zeroRate.writeUInt32LE(0, 24);
  await expectReject('zero-rate.wav', zeroRate, /sample rate 0/);
  const ulaw = Buffer.from(good);
  ulaw.writeUInt16LE(7, 20);
  await expectReject('ulaw.wav', ulaw, /µ-law .*not decoded/);
  const adpcm = Buffer.from(good);
  adpcm.writeUInt16LE(0x11, 20);
  await expectReject('adpcm.wav', adpcm, /IMA ADPCM/);
  const hugeFmt = Buffer.from(good);
  hugeFmt.writeUInt32LE(0x7ffffff0, 16);
  await expectReject('huge-fmt.wav', hugeFmt, /fmt chunk declares/);
  const pastEof = buildWav({ enc: 's16', channels: 1, rate: 8000, samples: [0, 0], before: [['LIST', Buffer.alloc(4)]] });
  pastEof.writeUInt32LE(0xfffffff0, pastEof.indexOf('LIST') + 4);
  await expectReject('chunk-past-eof.wav', pastEof, /chunk 'LIST' declares \d+ bytes/);
  const noData = good.subarray(0, 36);
  await expectReject('no-data.wav', noData, /no data chunk/);
  const badAlign = Buffer.from(good);
  badAlign.writeUInt16LE(3, 32);
  await expectReject('bad-align.wav', badAlign, /block align 3/);
  const rf64 = buildWav({ container: 'RF64', enc: 's16', channels: 1, rate: 8000, samples: [0, 0] });
  rf64.write('JUNK', 12, 'latin1');
  await expectReject('rf64-no-ds64.wav', rf64, /without a ds64/);
  const guid = buildWav({ enc: 's16', extensible: true, channels: 1, rate: 8000, samples: [0, 0] });
  guid[20 + 39] = 0x72; // last byte of the KSDATAFORMAT GUID tail
  await expectReject('odd-guid.wav', guid, /sub-format GUID/);
});

/** Mutates a valid WAV's header: flipped bytes, size fields set to edge values, truncation, spliced chunks. */
function mutate(seed: Buffer, rnd: () => number): Buffer {
  const buf = Buffer.from(seed);
  const pick = (n: number) => Math.floor(rnd() * n);
  const EDGE = [0, 1, 2, 3, 7, 8, 15, 16, 17, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff, buf.length, buf.length - 8, buf.length + 1];
  const steps = 1 + pick(3);
  let out = buf;
  for (let s = 0; s < steps; s++) {
    const headerEnd = Math.min(out.length, 120);
    if (headerEnd < 4) break;
    switch (pick(6)) {
      case 0: // flip a few header bytes
        for (let k = 1 + pick(4); k > 0; k--) out[pick(headerEnd)] = pick(256);
        break;
      case 1: // a 32-bit field (sizes live at 4-byte offsets) to an edge value, either byte order
        {
          const at = pick(Math.max(1, headerEnd - 4));
          const v = EDGE[pick(EDGE.length)]! >>> 0;
          rnd() < 0.5 ? out.writeUInt32LE(v, at) : out.writeUInt32BE(v, at);
        }
        break;
      case 2: // a 16-bit field (channels, align, bits, tag)
        out.writeUInt16LE([0, 1, 2, 3, 7, 0xfffe, 0xffff, 255, 64][pick(9)]!, pick(Math.max(1, headerEnd - 2)));
        break;
      case 3: // truncate
        out = out.subarray(0, pick(out.length + 1));
        break;
      case 4: // splice in a chunk with a random size
        {
          const at = 12 + pick(Math.max(1, Math.min(out.length, 100) - 12));
          const c = Buffer.alloc(8 + pick(9));
          c.write(['JUNK', 'fmt ', 'data', 'ds64', 'LIST'][pick(5)]!, 0, 'latin1');
          c.writeUInt32LE(EDGE[pick(EDGE.length)]! >>> 0, 4);
          out = Buffer.concat([out.subarray(0, at), c, out.subarray(at)]);
        }
        break;
      default: // swap the container magic
        out.write(['RIFF', 'RIFX', 'RF64', 'BW64', 'RIFF'][pick(5)]!, 0, 'latin1');
    }
  }
  return out;
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`hang: ${what} took over ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, t]);
  } finally {
    clearTimeout(timer);
  }
}

test('fuzz: 1500 mutated headers (fixed seed) end in success or our clear error; no hang, bounded memory', async () => {
  const rnd = prng(0x5eed);
  const seeds = VARIANTS.map((v) => buildWav({ ...v, samples: testSignal(64, v.channels, v.rate), before: [['LIST', Buffer.alloc(3)]] }));
  const path = join(dir, 'fuzz.wav');
  const rssStart = process.memoryUsage().rss;
  let rssMax = rssStart;
  let accepted = 0;
  let rejected = 0;
  for (let i = 0; i < 1500; i++) {
    const buf = mutate(seeds[i % seeds.length]!, rnd);
    const viaPipe = i % 4 === 3;
    const run = async (): Promise<void> => {
      let src: WavSource;
      if (viaPipe) {
        src = await openWavReader(new StreamByteReader(Readable.from([buf])), 'fuzz.wav');
      } else {
        writeFileSync(path, buf);
        src = await openWav(path, 'fuzz.wav');
      }
      try {
        let frames = 0;
        for await (const block of src.blocks()) frames += block[0]!.length;
        // Never more samples than bytes could hold.
        assert.ok(frames * src.format.blockAlign <= buf.length, `case ${i}: ${frames} frames from ${buf.length} bytes`);
      } finally {
        await src.close();
      }
    };
    try {
      await withTimeout(run(), 5000, `case ${i}`);
      accepted++;
    } catch (err) {
      if (!(err instanceof AudioFileError)) {
        writeFileSync(join(dir, `fuzz-fail-${i}.wav`), buf);
        throw new Error(`fuzz case ${i} (${viaPipe ? 'pipe' : 'file'}) threw something other than AudioFileError: ${(err as Error)?.stack ?? err}`);
      }
      assertOneClearLine(err, 'fuzz.wav');
      rejected++;
    }
    if (i % 100 === 0) rssMax = Math.max(rssMax, process.memoryUsage().rss);
  }
  console.log(`  fuzz: ${accepted} accepted, ${rejected} rejected, RSS ${(rssStart / 2 ** 20).toFixed(0)} -> max ${(rssMax / 2 ** 20).toFixed(0)} MB`);
  assert.ok(rejected > 300 && accepted > 50, 'the mutations exercise both paths');
  assert.ok(rssMax - rssStart < 200 * 2 ** 20, `RSS grew by ${((rssMax - rssStart) / 2 ** 20).toFixed(0)} MB`);
});

test('FLAC and Ogg Opus go through ffmpeg with the same block interface', async () => {
  const wav = join(dir, 'src.wav');
  writeFileSync(wav, buildWav({ enc: 's16', channels: 2, rate: 48000, samples: testSignal(48000, 2, 48000) }));
  const flac = join(dir, 'x.flac');
  const opus = join(dir, 'x.opus');
  execFileSync('ffmpeg', ['-nostdin', '-v', 'error', '-y', '-i', wav, flac]);
  execFileSync('ffmpeg', ['-nostdin', '-v', 'error', '-y', '-i', wav, '-c:a', 'libopus', opus]);
  const f = await openAudio(flac);
  assert.is(f.info.sampleRate, 48000);
  assert.is(f.info.channels, 2);
  assert.is(f.info.bitsPerSample, 16);
  const fs = await readAll(f);
  await f.close();
  const w = await openWav(wav);
  assert.is(firstDifference(fs, await readAll(w)), -1, 'FLAC is lossless: same samples as the WAV');
  await w.close();
  const o = await openAudio(opus);
  assert.is(o.info.sampleRate, 48000);
  const os = await readAll(o);
  await o.close();
  assert.ok(Math.abs(os.length - 96000) < 2000, `opus decoded ${os.length / 2} frames`);
  // Garbage with an audio extension: ffmpeg's reason, in one line.
  const junk = join(dir, 'junk.mp3');
  writeFileSync(junk, Buffer.alloc(1000, 0x41));
  try {
    await openAudio(junk, 'junk.mp3');
    assert.unreachable('junk accepted');
  } catch (err) {
    assertOneClearLine(err, 'junk.mp3');
  }
});

test.run();
