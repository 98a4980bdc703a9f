/**
 * Streaming rational resampler (polyphase, Kaiser-windowed sinc) for s16
 * interleaved audio, e.g. 48 kHz -> 16 kHz for a partner. One per partner on
 * the main thread. The filter is applied zero-phase (it looks ahead half its
 * length), so output sample n sits exactly at time n / outRate on the same
 * clock as the input: partner timestamps map back to the timeline without a
 * filter-delay correction.
 */

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/** Zeroth-order modified Bessel function of the first kind (Kaiser window). */
function bessel0(x: number): number {
  let sum = 1;
  let term = 1;
  for (let k = 1; k < 50; k++) {
    term *= (x / (2 * k)) ** 2;
    sum += term;
    if (term < sum * 1e-12) break;
  }
  return sum;
}

export interface ResamplerOptions {
  /** Stopband attenuation in dB (default 65). */
  attenuationDb?: number;
  /** Transition band as a fraction of the lower Nyquist frequency (default 0.3). */
  transition?: number;
}

export class Resampler {
  readonly up: number;
  readonly down: number;
  /** Taps per polyphase branch. */
  readonly taps: number;
  /** Polyphase filter: branch p occupies [p*taps, (p+1)*taps), reversed (last entry applies to x[jmax]). */
  private readonly bank: Float32Array;
  private readonly centre: number;
  /** A single phase whose taps mirror around the centre: the symmetric fast path applies. */
  private readonly symmetric: boolean;
  /** Input history, interleaved float; holds x[bufStart .. bufStart + bufFrames). */
  private buf: Float32Array;
  private bufStart: number;
  private bufFrames: number;
  /** Next output index and total inputs since the last reset. */
  private nextOut = 0;
  private inputs = 0;
  private out: Int16Array;

  constructor(
    readonly inRate: number,
    readonly outRate: number,
    readonly channels: number,
    opts: ResamplerOptions = {},
  ) {
    if (!(inRate > 0 && outRate > 0 && Number.isInteger(inRate) && Number.isInteger(outRate))) {
      throw new RangeError(`resampler: rates must be positive integers (${inRate} -> ${outRate})`);
    }
    const g = gcd(inRate, outRate);
    this.up = outRate / g;
    this.down = inRate / g;
    // 65 dB and a 30% transition band (48 -> 16 kHz: flat to 6.8 kHz, 65 dB down
    // from 9.2 kHz; only 8-9.2 kHz folds, into 6.8-8 kHz): ~80 taps, cheap
    // enough for 50 streams on one core, and far below a speech partner's needs.
    const atten = opts.attenuationDb ?? 65;
    const width = opts.transition ?? 0.3;
    // Cutoff and transition, as fractions of the upsampled rate (inRate * up).
    const nyq = Math.min(inRate, outRate) / 2;
    const upRate = inRate * this.up;
    const cutoff = (nyq * (1 - width / 2)) / upRate;
    const dw = (2 * Math.PI * nyq * width) / upRate;
    // Kaiser's estimates for length and beta.
    const length0 = Math.ceil((atten - 8) / (2.285 * dw)) + 1;
    const beta = atten > 50 ? 0.1102 * (atten - 8.7) : atten >= 21 ? 0.5842 * (atten - 21) ** 0.4 + 0.07886 * (atten - 21) : 0;
    this.taps = Math.max(2, Math.ceil(length0 / this.up));
    const n = this.taps * this.up;
    this.centre = Math.floor((n - 1) / 2);
    const proto = new Float64Array(n);
    const i0b = bessel0(beta);
    // Centred on an integer tap so the filter is exactly zero-phase (with an
    // even length the last tap stays zero).
    for (let m = 0; m <= 2 * this.centre; m++) {
      const x = m - this.centre;
      const sinc = x === 0 ? 2 * cutoff : Math.sin(2 * Math.PI * cutoff * x) / (Math.PI * x);
      const r = x / (this.centre + 1);
      proto[m] = sinc * (bessel0(beta * Math.sqrt(Math.max(0, 1 - r * r))) / i0b) * this.up;
    }
    // Stored reversed per branch so the inner loop is a forward dot product
    // over x[jmax - taps + 1 .. jmax].
    this.bank = new Float32Array(n);
    for (let p = 0; p < this.up; p++) {
      for (let k = 0; k < this.taps; k++) this.bank[p * this.taps + (this.taps - 1 - k)] = proto[p + k * this.up];
    }
    // One phase whose taps mirror around the centre (the last tap, for an even length, is zero).
    this.symmetric = this.up === 1 && this.bank.every((v, i) => i > 2 * this.centre ? v === 0 : v === this.bank[2 * this.centre - i]);
    this.buf = new Float32Array((this.taps + 4096) * channels);
    this.out = new Int16Array(0);
    this.bufStart = 0;
    this.bufFrames = 0;
    this.reset();
  }

  /** Starts a new segment: output index 0 is aligned with the next input sample. */
  reset(): void {
    // History before the segment is silence: x[-(taps-1) .. -1] = 0.
    this.bufStart = -(this.taps - 1);
    this.bufFrames = this.taps - 1;
    this.buf.fill(0, 0, this.bufFrames * this.channels);
    this.nextOut = 0;
    this.inputs = 0;
  }

  /** Output samples (per channel) produced so far in this segment. */
  get produced(): number {
    return this.nextOut;
  }

  /**
   * Feeds `input` (interleaved s16, whole frames) and returns the new output
   * samples: a view into an internal buffer, valid until the next call.
   */
  process(input: Int16Array): Int16Array {
    const ch = this.channels;
    const frames = input.length / ch;
    this.ensure(this.bufFrames + frames);
    const base = this.bufFrames * ch;
    const scale = 1 / 32768;
    for (let i = 0; i < input.length; i++) this.buf[base + i] = input[i]! * scale;
    this.bufFrames += frames;
    this.inputs += frames;
    return this.emit(Infinity);
  }

  /** Pads the segment's end with silence and returns its last output samples. */
  flush(): Int16Array {
    const total = Math.ceil((this.inputs * this.up) / this.down);
    const pad = Math.ceil(this.centre / this.up) + 1;
    this.ensure(this.bufFrames + pad);
    this.buf.fill(0, this.bufFrames * this.channels, (this.bufFrames + pad) * this.channels);
    this.bufFrames += pad;
    return this.emit(total);
  }

  private emit(limit: number): Int16Array {
    const { up, down, taps, centre, bank, channels: ch, buf } = this;
    const end = this.bufStart + this.bufFrames; // first input index not yet available
    // Count outputs first so the result buffer is sized once.
    let n = this.nextOut;
    while (n < limit && Math.floor((n * down + centre) / up) < end) n++;
    const count = n - this.nextOut;
    if (this.out.length < count * ch) this.out = new Int16Array(count * ch * 2);
    const out = this.out;
    let o = 0;
    for (n = this.nextOut; o < count * ch; n++) {
      const u = n * down + centre;
      const jmax = Math.floor(u / up);
      const phase = u - jmax * up;
      const f = phase * taps;
      const first = jmax - (taps - 1) - this.bufStart; // position of x[jmax - taps + 1] in buf
      if (ch === 1 && this.symmetric) {
        // One phase of a symmetric filter (a decimation such as 48 -> 16 kHz): each coefficient
        // multiplies the sum of the two samples it mirrors - half the multiplies and loads.
        const last = first + 2 * centre;
        let a0 = 0;
        let a1 = 0;
        let k = 0;
        for (; k + 1 < centre; k += 2) {
          a0 += bank[k]! * (buf[first + k]! + buf[last - k]!);
          a1 += bank[k + 1]! * (buf[first + k + 1]! + buf[last - k - 1]!);
        }
        for (; k < centre; k++) a0 += bank[k]! * (buf[first + k]! + buf[last - k]!);
        const s = Math.round((a0 + a1 + bank[centre]! * buf[first + centre]!) * 32768);
        out[o++] = s > 32767 ? 32767 : s < -32768 ? -32768 : s;
        continue;
      }
      if (ch === 1) {
        // Four accumulators: the add chain, not the multiplies, is the bottleneck.
        let a0 = 0;
        let a1 = 0;
        let a2 = 0;
        let a3 = 0;
        let k = 0;
        for (; k + 3 < taps; k += 4) {
          a0 += bank[f + k]! * buf[first + k]!;
          a1 += bank[f + k + 1]! * buf[first + k + 1]!;
          a2 += bank[f + k + 2]! * buf[first + k + 2]!;
          a3 += bank[f + k + 3]! * buf[first + k + 3]!;
        }
        for (; k < taps; k++) a0 += bank[f + k]! * buf[first + k]!;
        const s = Math.round((a0 + a1 + a2 + a3) * 32768);
        out[o++] = s > 32767 ? 32767 : s < -32768 ? -32768 : s;
        continue;
      }
      for (let c = 0; c < ch; c++) {
        let acc = 0;
        for (let k = 0, idx = first * ch + c; k < taps; k++, idx += ch) acc += bank[f + k]! * buf[idx]!;
        const s = Math.round(acc * 32768);
        out[o++] = s > 32767 ? 32767 : s < -32768 ? -32768 : s;
      }
    }
    this.nextOut = n;
    // Keep only the history the next output needs.
    const need = Math.floor((this.nextOut * down + centre) / up) - (taps - 1);
    const drop = Math.min(Math.max(0, need - this.bufStart), this.bufFrames);
    if (drop > 0) {
      buf.copyWithin(0, drop * ch, this.bufFrames * ch);
      this.bufStart += drop;
      this.bufFrames -= drop;
    }
    return out.subarray(0, count * ch);
  }

  private ensure(frames: number): void {
    if (this.buf.length >= frames * this.channels) return;
    const next = new Float32Array(frames * this.channels * 2);
    next.set(this.buf.subarray(0, this.bufFrames * this.channels));
    this.buf = next;
  }
}

/** Averages interleaved channels into mono, into `out` (length = frames). */
export function downmix(input: Int16Array, channels: number, out: Int16Array): Int16Array {
  const frames = input.length / channels;
  for (let i = 0, j = 0; i < frames; i++) {
    let s = 0;
    for (let c = 0; c < channels; c++) s += input[j++]!;
    out[i] = Math.round(s / channels);
  }
  return out.subarray(0, frames);
}
