/**
 * The Opus encoders. A meeting's streams (`createStreamEncoder`) encode through the system
 * libopus (native/earshot_opus.c, built where libopus-dev is installed): its run-time selected
 * SIMD kernels cost about half of @discordjs/opus's generic C per paced frame, and it writes the
 * packet into memory we own (the ring's slot) instead of a fresh Buffer. Without it, and for
 * everything else (the emulator's decoder, the recorder's silence packet), @discordjs/opus,
 * loaded straight from its compiled binding. The package's
 * own entry finds that file through node-pre-gyp, which loads ~150 modules (semver, npmlog,
 * gauge...) in every thread that encodes: ~80 ms of start-up and megabytes of heap per thread,
 * for a path lookup. We look where node-pre-gyp puts it (`prebuild/node-v<ABI>-napi-v<N>-
 * <platform>-<arch>-<libc>/opus.node`, for a prebuilt or a from-source install alike) and fall
 * back to the package's entry unless exactly one binding there fits this Node.
 */
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { OpusEncoder } from '@discordjs/opus';
import { ROOT } from './paths';
import { SAMPLE_RATE } from './realtime/frame';

export type { OpusEncoder } from '@discordjs/opus';

type OpusBinding = typeof import('@discordjs/opus');

let binding: OpusBinding | undefined;

/** The binding's file, or undefined when node-pre-gyp must decide. */
export function opusBindingPath(): string | undefined {
  try {
    const pkg = dirname(require.resolve('@discordjs/opus/package.json'));
    const abi = `node-v${process.versions.modules}-napi-v`;
    const target = `-${process.platform}-${process.arch}-`;
    const fits = readdirSync(join(pkg, 'prebuild')).filter((d) => d.startsWith(abi) && d.includes(target));
    return fits.length === 1 ? join(pkg, 'prebuild', fits[0]!, 'opus.node') : undefined;
  } catch {
    return undefined;
  }
}

function load(): OpusBinding {
  if (binding) return binding;
  const file = opusBindingPath();
  if (file) {
    try {
      return (binding = require(file) as OpusBinding);
    } catch {
      // a binding that does not load here: let the package's own lookup say why
    }
  }
  return (binding = require('@discordjs/opus') as OpusBinding);
}

/** A libopus encoder (application audio) for `channels` at `rate` Hz. */
export function createOpusEncoder(rate: number, channels: number): OpusEncoder {
  return new (load().OpusEncoder)(rate, channels);
}

/** libopus request code for OPUS_SET_COMPLEXITY (opus_defines.h), and the complexity we encode at. */
export const OPUS_SET_COMPLEXITY = 4010;
export const OPUS_COMPLEXITY = 10;

/** A meeting stream's encoder: one 20 ms frame of s16le PCM in, the packet written into `out`. */
export interface StreamEncoder {
  /** Encodes `pcm` (20 ms) into `out` from its start; returns the packet's length. */
  encodeInto(pcm: Buffer | Int16Array, out: Uint8Array): number;
  /** Which libopus encodes: 'system libopus 1.3.1' or '@discordjs/opus'. */
  readonly library: string;
}

interface SystemOpus {
  Encoder: new (rate: number, channels: number, bitrate: number, complexity: number) => { encodeInto(pcm: Buffer | Int16Array, out: Uint8Array): number };
  version: string;
}

let system: SystemOpus | null | undefined;

/** native/earshot_opus.node, or null when it was not built (no libopus-dev) or does not load. */
export function systemOpus(): SystemOpus | null {
  if (system !== undefined) return system;
  try {
    system = require(join(ROOT, 'native', 'build', 'Release', 'earshot_opus.node')) as SystemOpus;
  } catch {
    system = null;
  }
  return system;
}

/**
 * The encoder of a meeting's stream (the mix, a participant) as the audio threads run it: 48 kHz,
 * `bitrate` b/s, complexity 10, application audio. `fallback` forces @discordjs/opus (bench:encode
 * measures both).
 */
export function createStreamEncoder(channels: number, bitrate: number, fallback = false): StreamEncoder {
  const sys = fallback ? null : systemOpus();
  if (sys) {
    return Object.assign(new sys.Encoder(SAMPLE_RATE, channels, bitrate, OPUS_COMPLEXITY), { library: `system ${sys.version}` });
  }
  const enc = createOpusEncoder(SAMPLE_RATE, channels);
  enc.setBitrate(bitrate);
  enc.applyEncoderCTL(OPUS_SET_COMPLEXITY, OPUS_COMPLEXITY);
  const asBuffer = (pcm: Buffer | Int16Array) => (Buffer.isBuffer(pcm) ? pcm : Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength));
  return {
    library: '@discordjs/opus',
    encodeInto(pcm, out) {
      const packet = enc.encode(asBuffer(pcm)); // a fresh Buffer per packet: this binding has no other way
      out.set(packet);
      return packet.length;
    },
  };
}
