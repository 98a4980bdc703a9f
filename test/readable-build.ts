/**
 * The built CLI at a path another user can read, for tests that run earshot as an unprivileged
 * uid (setpriv, the container entrypoint's drop to 10001). A checkout under root's home
 * (/root is mode 700) is unreachable to them: then the runtime parts of the package (bin, dist,
 * the native helper, node_modules) are mirrored once into a temp folder with hard links (a copy
 * when the temp folder is on another file system), removed when the tests exit.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { CLI, OUT, ROOT } from '../src/paths';
import { tempDir } from './tmp';

let cached: string | undefined;

/** `earshot`'s main.js, readable and traversable by any user. */
export function readableCli(): string {
  cached ??= everyoneCanReach(CLI) ? CLI : mirror();
  return cached;
}

function everyoneCanReach(file: string): boolean {
  for (let dir = dirname(file); ; dir = dirname(dir)) {
    if ((statSync(dir).mode & 0o001) === 0) return false;
    if (dirname(dir) === dir) return true;
  }
}

function mirror(): string {
  const dest = tempDir('earshot-readable-');
  chmodSync(dest, 0o755);
  const parts = ['package.json', 'bin', relative(ROOT, OUT), 'native/build/Release/earshot_native.node', 'node_modules'];
  for (const part of parts) {
    mkdirSync(dirname(join(dest, part)), { recursive: true });
    const linked = spawnSync('cp', ['-al', join(ROOT, part), join(dest, part)]);
    if (linked.status !== 0) {
      const copied = spawnSync('cp', ['-a', join(ROOT, part), join(dest, part)], { encoding: 'utf8' });
      if (copied.status !== 0) throw new Error(`cannot mirror ${part} for an unprivileged user: ${copied.stderr}`);
    }
  }
  return join(dest, relative(ROOT, CLI));
}
