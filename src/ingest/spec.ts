/**
 * Source specs for `--input`: where the meeting's audio comes from, and how
 * ffmpeg should read it.
 *
 *   file:PATH      any file ffmpeg reads, paced at real time unless --no-pace
 *   pulse:SOURCE   a PulseAudio source (e.g. a sink's .monitor), as bots capture meetings
 *   alsa:DEVICE    an ALSA capture device
 *   lavfi:GRAPH    an ffmpeg lavfi source graph (e.g. sine=f=440), paced
 *   url:URL        a network stream (live: not re-paced)
 *   -              raw s16le 48 kHz on stdin (channels per --channels), read by the audio worker directly
 */
import { accessSync, constants } from 'node:fs';
import { UserError } from '../util/duration';

export type SourceKind = 'file' | 'pulse' | 'alsa' | 'lavfi' | 'url' | 'stdin';

export interface SourceSpec {
  kind: SourceKind;
  target: string;
  /** Whether ffmpeg must be paced at real time (-re) to behave like a live source. */
  paced: boolean;
  /** Live sources cannot seek: after a restart they continue from "now". */
  seekable: boolean;
}

export function parseSource(text: string, pace = true): SourceSpec {
  if (text === '-') return { kind: 'stdin', target: '-', paced: pace, seekable: false };
  const colon = text.indexOf(':');
  const kind = text.slice(0, colon);
  const target = text.slice(colon + 1);
  if (colon < 1 || !target) throw bad(text);
  switch (kind) {
    case 'file':
      try {
        accessSync(target, constants.R_OK);
      } catch {
        throw new UserError(`--input file:${target}: no readable file there - check the path (any format ffmpeg reads works)`);
      }
      return { kind, target, paced: pace, seekable: true };
    case 'lavfi':
      return { kind, target, paced: pace, seekable: false };
    case 'pulse':
    case 'alsa':
      return { kind, target, paced: true, seekable: false };
    case 'url':
      return { kind, target, paced: true, seekable: false };
    default:
      throw bad(text);
  }
}

function bad(text: string): UserError {
  return new UserError(
    `--input "${text}" is not a source - use file:PATH, pulse:SOURCE, alsa:DEVICE, lavfi:GRAPH, url:URL or - (raw s16le 48 kHz on stdin)`,
  );
}

/** ffmpeg input arguments for a spec, starting `offsetSec` into a seekable source. */
export function inputArgs(spec: SourceSpec, channels: number, offsetSec: number): { input: string; options: string[] } {
  const seek = spec.seekable && offsetSec > 0 ? ['-ss', offsetSec.toFixed(3)] : [];
  switch (spec.kind) {
    case 'file':
      return { input: spec.target, options: seek };
    case 'lavfi':
      return { input: spec.target, options: ['-f', 'lavfi'] };
    case 'pulse':
      // 20 ms fragments so the server hands us audio at frame cadence: reads of 20 ms arriving up to 28 ms
      // after their best phase (measured, idle and loaded), where the default gives 50 ms reads in 100 ms bursts.
      return { input: spec.target, options: ['-f', 'pulse', '-sample_rate', '48000', '-channels', String(channels), '-fragment_size', String(1920 * channels)] };
    case 'alsa':
      // ffmpeg's alsa demuxer picks its own period size (no option for it): the jitter buffer absorbs its bursts.
      return { input: spec.target, options: ['-f', 'alsa'] };
    case 'url':
      return { input: spec.target, options: ['-reconnect', '1', '-reconnect_streamed', '1'] };
    case 'stdin':
      throw new Error('stdin is read by the audio worker, not through ffmpeg');
  }
}
