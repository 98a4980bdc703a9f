/**
 * Which ffmpeg we run: the one on PATH (Debian's, with libopus and pulse), else
 * the static binary that the optional @ffmpeg-installer/ffmpeg package ships,
 * so that `npm install` alone can run the demo.
 */
import { execFileSync } from 'node:child_process';
import { UserError } from '../util/duration';

let found: { path: string; origin: 'PATH' | 'bundled' } | undefined;

export function ffmpegPath(): { path: string; origin: 'PATH' | 'bundled' } {
  if (found) return found;
  try {
    execFileSync('ffmpeg', ['-hide_banner', '-version'], { stdio: 'ignore' });
    return (found = { path: 'ffmpeg', origin: 'PATH' });
  } catch {
    try {
      return (found = { path: (require('@ffmpeg-installer/ffmpeg') as { path: string }).path, origin: 'bundled' });
    } catch {
      throw new UserError('ffmpeg not found - install it (Debian: apt-get install ffmpeg) or reinstall with optional dependencies');
    }
  }
}
