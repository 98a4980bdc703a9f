/**
 * The Opus encoder (@discordjs/opus), loaded straight from its compiled binding. The package's
 * own entry finds that file through node-pre-gyp, which loads ~150 modules (semver, npmlog,
 * gauge...) in every thread that encodes: ~80 ms of start-up and megabytes of heap per thread,
 * for a path lookup. We look where node-pre-gyp puts it (`prebuild/node-v<ABI>-napi-v<N>-
 * <platform>-<arch>-<libc>/opus.node`, for a prebuilt or a from-source install alike) and fall
 * back to the package's entry unless exactly one binding there fits this Node.
 */
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { OpusEncoder } from '@discordjs/opus';
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

/**
 * The encoder of a meeting's stream (the mix, a participant) as the audio threads run it: 48 kHz,
 * `bitrate` b/s, complexity set explicitly so that bench:encode measures the same.
 */
export function createStreamEncoder(channels: number, bitrate: number): OpusEncoder {
  const enc = createOpusEncoder(SAMPLE_RATE, channels);
  enc.setBitrate(bitrate);
  enc.applyEncoderCTL(OPUS_SET_COMPLEXITY, OPUS_COMPLEXITY);
  return enc;
}
