/**
 * Which ffmpeg we run: the one on PATH (Debian's, with libopus and pulse), else
 * the static binary that the optional @ffmpeg-installer/ffmpeg package ships,
 * so that `npm install` alone can run the demo. Found once per process (a fact
 * about the host); `findFfmpeg` looks without blocking the event loop.
 */
import { execFile, execFileSync } from 'node:child_process';
import { UserError } from '../errors';

export interface FfmpegBinary {
  path: string;
  origin: 'PATH' | 'bundled';
}

let found: FfmpegBinary | undefined;
let finding: Promise<FfmpegBinary> | undefined;

function fallback(): FfmpegBinary {
  try {
    return { path: (require('@ffmpeg-installer/ffmpeg') as { path: string }).path, origin: 'bundled' };
  } catch {
    throw new UserError('ffmpeg not found - install it (Debian: apt-get install ffmpeg) or reinstall with optional dependencies', 2, 'ERR_INPUT');
  }
}

/** Synchronous: for one-shot commands (detect, repro) where a blocked event loop costs nothing. */
export function ffmpegPath(): FfmpegBinary {
  if (found) return found;
  try {
    execFileSync('ffmpeg', ['-hide_banner', '-version'], { stdio: 'ignore' });
    return (found = { path: 'ffmpeg', origin: 'PATH' });
  } catch {
    return (found = fallback());
  }
}

/** The same answer without blocking: a meeting's start must not stall other meetings in the process. */
export function findFfmpeg(): Promise<FfmpegBinary> {
  if (found) return Promise.resolve(found);
  finding ??= new Promise<FfmpegBinary>((resolve, reject) => {
    execFile('ffmpeg', ['-hide_banner', '-version'], (err) => {
      try {
        resolve((found ??= err ? fallback() : { path: 'ffmpeg', origin: 'PATH' }));
      } catch (e) {
        finding = undefined;
        reject(e);
      }
    });
  });
  return finding;
}
