/** The parts a meeting cannot run without: ffmpeg with libopus, the native helper, the Opus encoder. */
import { execFile } from 'node:child_process';
import { ffmpegPath } from '../../ingest/ffmpeg-path';
import { native } from '../../native';
import { check, type Check } from './check';

/** ffmpeg as the ingest finds it (src/ingest/ffmpeg-path.ts): PATH, then the bundled fallback. */
export function findFfmpeg(): { path?: string; source: string } {
  try {
    const bin = ffmpegPath();
    return { path: bin.path, source: bin.origin === 'PATH' ? 'PATH' : '@ffmpeg-installer/ffmpeg' };
  } catch {
    return { source: 'none' };
  }
}

function run(file: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: 15_000, maxBuffer: 8 * 2 ** 20 }, (err, stdout) => (err ? reject(err) : resolve(stdout)));
  });
}

export async function checkFfmpeg(): Promise<Check> {
  const found = findFfmpeg();
  if (!found.path) return check('ffmpeg', 'fail', 'ffmpeg not found (not on PATH, no bundled @ffmpeg-installer/ffmpeg)', 'apt-get install ffmpeg');
  try {
    const version = (await run(found.path, ['-hide_banner', '-version'])).split('\n')[0]!.replace(/\s+Copyright.*$/, '').trim();
    const encoders = await run(found.path, ['-hide_banner', '-encoders']);
    const libopus = /^\s*A\S*\s+libopus\s/m.test(encoders);
    const data = { path: found.path, source: found.source, version, libopus };
    if (!libopus) return check('ffmpeg', 'fail', `${found.path} (${version}) has no libopus encoder`, "use Debian's ffmpeg (apt-get install ffmpeg) or a build with --enable-libopus", data);
    return check('ffmpeg', 'ok', `${found.path} via ${found.source}: ${version}, libopus encoder present`, undefined, data);
  } catch (err) {
    return check('ffmpeg', 'fail', `${found.path} does not run: ${(err as Error).message.split('\n')[0]}`, 'reinstall ffmpeg (apt-get install --reinstall ffmpeg)', { path: found.path, source: found.source });
  }
}

export function checkNative(): Check {
  try {
    const n = native();
    const tid = n.gettid();
    const { policy } = n.getScheduler();
    return check('native', 'ok', `native helper loads (main thread tid ${tid}, policy ${policy})`);
  } catch (err) {
    return check('native', 'fail', (err as Error).message.split('\n')[0]!, 'npm install (builds native/ with node-gyp: needs python3, make and a C compiler)');
  }
}

export function checkOpus(): Check {
  try {
    const { OpusEncoder } = require('@discordjs/opus') as typeof import('@discordjs/opus');
    const enc = new OpusEncoder(48_000, 1);
    const packet = enc.encode(Buffer.alloc(960 * 2));
    return check('opus', 'ok', `@discordjs/opus loads and encodes (20 ms of silence -> ${packet.length} bytes)`);
  } catch (err) {
    return check('opus', 'fail', `@discordjs/opus does not load: ${(err as Error).message.split('\n')[0]}`, 'npm rebuild @discordjs/opus (needs python3, make and a C++ compiler)');
  }
}
