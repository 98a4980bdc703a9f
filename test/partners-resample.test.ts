/** The partner resampler filters before decimating and keeps the timeline aligned. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Resampler } from '../src/partners/core/resample';

function sine(freq: number, rate: number, n: number, amp = 16000): Int16Array {
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.round(amp * Math.sin((2 * Math.PI * freq * i) / rate));
  return out;
}

/** Streams `input` through in 20 ms frames, as the partner stream does. */
function run(r: Resampler, input: Int16Array, frame = 960): Int16Array {
  const parts: Int16Array[] = [];
  for (let i = 0; i < input.length; i += frame) parts.push(r.process(input.subarray(i, i + frame)).slice());
  parts.push(r.flush().slice());
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) out.set(p, (at += p.length) - p.length);
  return out;
}

const rms = (x: Int16Array, from = 0, to = x.length) => {
  let s = 0;
  for (let i = from; i < to; i++) s += x[i]! * x[i]!;
  return Math.sqrt(s / (to - from));
};

test('48 kHz -> 16 kHz: passband kept, exact length, no delay', () => {
  const input = sine(1000, 48_000, 48_000);
  const out = run(new Resampler(48_000, 16_000, 1), input);
  assert.is(out.length, 16_000);
  const ref = sine(1000, 16_000, 16_000);
  let err = 0;
  for (let i = 200; i < 15_800; i++) err = Math.max(err, Math.abs(out[i]! - ref[i]!));
  assert.ok(err < 200, `max error vs ideal 1 kHz at 16 kHz: ${err}`);
});

test('48 kHz -> 16 kHz: a 12 kHz tone (would alias to 4 kHz) is suppressed > 60 dB', () => {
  const out = run(new Resampler(48_000, 16_000, 1), sine(12_000, 48_000, 48_000));
  const db = 20 * Math.log10(rms(out, 200, 15_800) / (16000 / Math.SQRT2));
  assert.ok(db < -60, `alias level ${db.toFixed(1)} dB`);
});

test('any rational rate and stereo: 48 kHz -> 44.1 kHz keeps both channels', () => {
  const l = sine(440, 48_000, 9600);
  const st = new Int16Array(19_200);
  for (let i = 0; i < 9600; i++) {
    st[2 * i] = l[i]!;
    st[2 * i + 1] = -l[i]!;
  }
  const out = run(new Resampler(48_000, 44_100, 2), st, 1920);
  assert.is(out.length, 8820 * 2);
  for (let i = 400; i < 8400; i++) assert.ok(Math.abs(out[2 * i]! + out[2 * i + 1]!) <= 1);
  const ref = sine(440, 44_100, 8820);
  let err = 0;
  for (let i = 400; i < 8400; i++) err = Math.max(err, Math.abs(out[2 * i]! - ref[i]!));
  assert.ok(err < 200, `max error ${err}`);
});

test.run();
