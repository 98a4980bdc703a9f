/**
 * Which ffmpeg we run: the one on PATH (Debian's, with libopus and pulse), else
 * the static binary that the optional @ffmpeg-installer/ffmpeg package ships,
 * so that `npm install` alone can run the demo. Found once per process (a fact
 * about the host) by looking for an executable file along PATH, as execvp
 * would: running `ffmpeg -version` to find out cost a whole ffmpeg start
 * (~100 ms of CPU, its ~100 shared libraries loaded) per meeting.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { UserError } from '../errors';

export interface FfmpegBinary {
  path: string;
  origin: 'PATH' | 'bundled';
}

let found: FfmpegBinary | undefined;

function fallback(): FfmpegBinary {
  try {
    return { path: (require('@ffmpeg-installer/ffmpeg') as { path: string }).path, origin: 'bundled' };
  } catch {
    throw new UserError('ffmpeg not found - install it (Debian: apt-get install ffmpeg) or reinstall with optional dependencies', 2, 'ERR_INPUT');
  }
}

/** The first executable regular file named ffmpeg along PATH. */
function onPath(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const p = join(dir || '.', 'ffmpeg');
    try {
      accessSync(p, constants.X_OK);
      if (statSync(p).isFile()) return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** A few stat(2) calls, once per process. */
export function ffmpegPath(): FfmpegBinary {
  if (found) return found;
  const p = onPath();
  return (found = p ? { path: p, origin: 'PATH' } : fallback());
}
