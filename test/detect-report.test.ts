import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Envelope } from '../src/detect/envelope';
import type { FileResult } from '../src/detect/file';
import { KIND_COLOURS, SEVERITY_COLOURS, WAVEFORM_COLOUR, writeReport } from '../src/detect/report';
import { fileVerdict } from '../src/detect/verdict';
import { CLI } from '../src/paths';
import { buildWav, testSignal, tmpDir } from './detect-fixtures';

const dir = tmpDir('earshot-detect-report-');
test.after(() => rmSync(dir, { recursive: true, force: true }));

/** A FileResult as a worker returns it: envelope from a real signal, events placed by hand. */
function sampleResult(): FileResult {
  const rate = 48000;
  const frames = rate * 10;
  const env = new Envelope(rate);
  const x = testSignal(frames, 1, rate);
  for (let i = 0; i < frames; i += 4096) env.push([Float32Array.from(x.subarray(i, Math.min(frames, i + 4096)))]);
  return {
    file: 'meetings/<b>2024-05-01</b>.wav',
    sampleRate: rate,
    channels: 1,
    durationSec: 10,
    wallSec: 0.1,
    codec: 'WAV 16-bit PCM',
    envelope: env.finish(),
    events: [
      { kind: 'click', startSec: 2, endSec: 2.0001, channel: 0, score: 14.2 },
      { kind: 'dropout', startSec: 5, endSec: 5.6, channel: 0, score: 40 },
      { kind: 'repeat', startSec: 8, endSec: 8.02, channel: 0, score: 9.1 },
    ],
  };
}

test('the envelope stays bounded and covers the whole file', () => {
  const env = new Envelope(1000, 64);
  let frames = 0;
  for (let b = 0; b < 100; b++) {
    const block = new Float32Array(997).map((_, i) => Math.sin((frames + i) / 50) * (b === 50 ? 1 : 0.5));
    env.push([block]);
    frames += block.length;
  }
  const d = env.finish();
  assert.ok(d.min.length <= 64 && d.min.length > 16, `${d.min.length} buckets`);
  assert.ok(d.framesPerBucket * d.min.length >= frames, 'covers every frame');
  assert.ok(d.framesPerBucket * (d.min.length - 1) < frames, 'no empty trailing bucket');
  assert.ok(Math.max(...d.max) > 0.99 && Math.min(...d.min) < -0.99, 'the loud block survives merging');
});

/** A batch as a sweep would give it: clean, mildly and badly damaged, chopped, unreadable. */
function batch(): FileResult[] {
  const base = sampleResult();
  const clean: FileResult = { ...sampleResult(), file: 'clean.wav', events: [], verdict: fileVerdict([], 10) };
  const chopEvents = Array.from({ length: 30 }, (_, i) => ({ kind: 'dropout' as const, startSec: 1 + i * 0.17, endSec: 1.08 + i * 0.17, channel: 0, score: 0 }));
  const chopped: FileResult = { ...sampleResult(), file: 'teams-bot.wav', events: chopEvents, verdict: fileVerdict(chopEvents, 10) };
  const mild: FileResult = { ...sampleResult(), file: 'mild.wav', events: [{ kind: 'click', startSec: 4, endSec: 4.0001, channel: 0, score: -12 }] };
  mild.verdict = fileVerdict(mild.events, 10);
  base.verdict = fileVerdict(base.events, 10);
  return [clean, mild, base, chopped, { file: 'broken.wav', sampleRate: null, channels: null, durationSec: null, events: [], error: 'no data chunk', wallSec: 0 }];
}

function writeBatch(name: string): { html: string; path: string } {
  const path = join(dir, `${name}.html`);
  writeReport(path, batch());
  return { html: readFileSync(path, 'utf8'), path };
}

test('the report opens on the batch summary: files worst first, counts per kind and severity, chopped verdicts', () => {
  const { html } = writeBatch('summary');
  const order = [...html.matchAll(/<td class="f"><a href="#f\d+">([^<]+)<\/a>/g)].map((m) => m[1]);
  assert.equal(order, ['teams-bot.wav', 'meetings/&#60;b&#62;2024-05-01&#60;/b&#62;.wav', 'mild.wav', 'broken.wav', 'clean.wav']);
  assert.match(html, /Chopped audio \(1 file\)/);
  assert.match(html, /teams-bot\.wav<\/a>: 80 ms holes every 170 ms/);
  assert.ok(html.indexOf('Files by severity') < html.indexOf('<section'), 'summary before the per-file sections');
  assert.match(html, /dropout<b>31<\/b>events/);
});

test('per-file waveforms are files of their own, fetched lazily; no scripts, nothing from outside the report folder, names escaped', () => {
  const { html, path } = writeBatch('lazy');
  assert.not.match(html, /<script|\bhref="(?!#)|url\(|@import/i);
  const srcs = [...html.matchAll(/src="([^"]+)"/g)].map((m) => m[1]!);
  assert.is(srcs.length, 4, 'a waveform for each readable file');
  for (const s of srcs) assert.match(s, /^lazy\.files\/\d+\.svg$/);
  assert.is((html.match(/<img class="wave" loading="lazy"/g) ?? []).length, 4);
  assert.match(html, /&#60;b&#62;2024-05-01&#60;\/b&#62;\.wav/);
  assert.not.match(html, /<b>2024/);
  const svg = readFileSync(join(dir, srcs.find((s) => s.endsWith('/2.svg'))!), 'utf8');
  assert.is((svg.match(/class="mark"/g) ?? []).length, 3);
  assert.match(svg, />0:00<\/text>/, 'a time axis from 0:00');
  assert.match(svg, />0:10<\/text>/, 'to the end of the 10 s file');
  assert.match(html, /error: no data chunk/);
  assert.ok(existsSync(path));
});

function findChromium(): string | null {
  for (const bin of ['chromium', 'chromium-browser', 'google-chrome']) {
    const r = spawnSync('sh', ['-c', `command -v ${bin}`], { encoding: 'utf8' });
    if (r.status === 0 && r.stdout.trim()) return r.stdout.trim();
  }
  return null;
}

/** Decodes an 8-bit RGB/RGBA, non-interlaced PNG (what Chromium writes) with node:zlib only. */
function decodePng(buf: Buffer): { width: number; height: number; channels: number; pixels: Uint8Array } {
  assert.ok(buf.subarray(0, 8).equals(Buffer.from([137, 80, 78, 71, 13, 10, 26, 10])), 'PNG signature');
  let pos = 8;
  let width = 0;
  let height = 0;
  let colourType = 0;
  const idat: Buffer[] = [];
  while (pos < buf.length) {
    const len = buf.readUInt32BE(pos);
    const type = buf.toString('latin1', pos + 4, pos + 8);
    const body = buf.subarray(pos + 8, pos + 8 + len);
    if (type === 'IHDR') {
      width = body.readUInt32BE(0);
      height = body.readUInt32BE(4);
      assert.is(body[8], 8, 'bit depth 8');
      colourType = body[9]!;
      assert.is(body[12], 0, 'not interlaced');
    } else if (type === 'IDAT') idat.push(body);
    else if (type === 'IEND') break;
    pos += 12 + len;
  }
  const channels = colourType === 6 ? 4 : colourType === 2 ? 3 : 0;
  assert.ok(channels > 0, `colour type ${colourType}`);
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const pixels = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const out = y * stride;
    for (let i = 0; i < stride; i++) {
      const a = i >= channels ? pixels[out + i - channels]! : 0;
      const b = y > 0 ? pixels[out - stride + i]! : 0;
      const c = y > 0 && i >= channels ? pixels[out - stride + i - channels]! : 0;
      let v = line[i]!;
      if (filter === 1) v += a;
      else if (filter === 2) v += b;
      else if (filter === 3) v += (a + b) >> 1;
      else if (filter === 4) {
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        v += pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      pixels[out + i] = v & 0xff;
    }
  }
  return { width, height, channels, pixels };
}

type Box = { x0: number; y0: number; x1: number; y1: number };

function matches(img: ReturnType<typeof decodePng>, i: number, hex: string, tol: number): boolean {
  const r = parseInt(hex.slice(1, 3), 16);
  const g = parseInt(hex.slice(3, 5), 16);
  const b = parseInt(hex.slice(5, 7), 16);
  return Math.abs(img.pixels[i]! - r) <= tol && Math.abs(img.pixels[i + 1]! - g) <= tol && Math.abs(img.pixels[i + 2]! - b) <= tol;
}

/** Pixels of a colour, optionally only inside a box (so that legend and table swatches do not count). */
function countColour(img: ReturnType<typeof decodePng>, hex: string, box?: Box, tol = 8): number {
  const b = box ?? { x0: 0, y0: 0, x1: img.width - 1, y1: img.height - 1 };
  let n = 0;
  for (let y = b.y0; y <= b.y1; y++) {
    for (let x = b.x0; x <= b.x1; x++) if (matches(img, (y * img.width + x) * img.channels, hex, tol)) n++;
  }
  return n;
}

function screenshotFile(chromium: string, page: string, name: string): ReturnType<typeof decodePng> {
  const png = join(dir, `${name}.png`);
  const args = [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', `--user-data-dir=${join(dir, `profile-${name}`)}`,
    `--screenshot=${png}`, '--window-size=1200,800', '--hide-scrollbars', `file://${page}`,
  ];
  const r = spawnSync(chromium, args, { encoding: 'utf8', timeout: 90_000 });
  assert.ok(existsSync(png), `chromium wrote no screenshot (status ${r.status}): ${r.stderr?.slice(-500)}`);
  return decodePng(readFileSync(png));
}

test('headless Chromium: the summary page shows severities and kinds first; a waveform shows its markers (screenshot pixels checked)', () => {
  const chromium = findChromium();
  assert.ok(chromium, 'chromium is on PATH (test/prereqs.sh installs it)');
  const { path } = writeBatch('shot');
  const page = screenshotFile(chromium!, path, 'shot-summary');
  // The first screen is the summary: severity badges and kind swatches, in their exact colours.
  const sev = Object.fromEntries(Object.entries(SEVERITY_COLOURS).map(([k, c]) => [k, countColour(page, c, undefined, 3)]));
  const kinds = Object.fromEntries(Object.entries(KIND_COLOURS).map(([k, c]) => [k, countColour(page, c, undefined, 3)]));
  console.log(`  summary screenshot: severity badge pixels ${JSON.stringify(sev)}, kind swatch pixels ${JSON.stringify(kinds)}`);
  for (const s of ['high', 'medium', 'low', 'none']) assert.ok(sev[s]! > 100, `${s} badge: ${sev[s]} pixels`);
  for (const k of Object.keys(KIND_COLOURS)) assert.ok(kinds[k]! >= 100, `${k} swatch: ${kinds[k]} pixels`);
  // One waveform file on its own: waveform, event tabs, the time axis frame.
  const img = screenshotFile(chromium!, join(dir, 'shot.files', '2.svg'), 'shot-wave');
  const wave = countColour(img, WAVEFORM_COLOUR);
  const marks = Object.fromEntries(Object.entries(KIND_COLOURS).map(([k, c]) => [k, countColour(img, c)]));
  console.log(`  waveform screenshot: ${wave} waveform pixels; marker pixels ${JSON.stringify(marks)}`);
  assert.ok(wave > 5000, `waveform colour ${WAVEFORM_COLOUR}: ${wave} pixels`);
  for (const k of ['click', 'dropout', 'repeat']) assert.ok(marks[k]! >= 20, `${k} marker: ${marks[k]} pixels`);
  assert.is(marks.clipping, 0);
  assert.ok(marks.dropout! > marks.click!, 'a 600 ms dropout is drawn wider than a click');
});

test('earshot detect --report writes the page for a real run (waveform per readable file)', () => {
  const wav = join(dir, 'tone.wav');
  writeFileSync(wav, buildWav({ enc: 's16', channels: 2, rate: 16000, samples: testSignal(32000, 2, 16000) }));
  const report = join(dir, 'run.html');
  const r = spawnSync(process.execPath, [CLI, 'detect', '--json', '--report', report, wav, join(dir, 'missing.wav')], { encoding: 'utf8' });
  assert.ok(r.status === 0 || r.status === 1, r.stderr);
  const html = readFileSync(report, 'utf8');
  assert.is((html.match(/<img class="wave"/g) ?? []).length, 1);
  assert.match(html, /tone\.wav/);
  assert.match(html, /missing\.wav<\/h2><p class="meta">.*not read/);
  assert.match(r.stderr, /report: /);
  const chromium = findChromium();
  if (!chromium) return;
  const img = screenshotFile(chromium, join(dir, 'run.files', '0.svg'), 'run');
  assert.ok(countColour(img, WAVEFORM_COLOUR) > 5000, 'the real run shows its waveform');
});

test.run();
