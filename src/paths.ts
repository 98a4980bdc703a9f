import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The package root, found by walking up from the compiled file (works from any outDir). */
function findRoot(start: string): string {
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'native'))) return dir;
    if (dirname(dir) === dir) throw new Error(`earshot: cannot find the package root above ${start}`);
  }
}

export const ROOT = findRoot(__dirname);
/** The compiled tree this file runs from: `dist/` normally, `dist-x/` for a side build. */
export const OUT = dirname(__dirname);
/** The `earshot` CLI entry of this build, for child-process runs. */
export const CLI = join(__dirname, 'cli', 'main.js');
