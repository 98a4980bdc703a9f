/** earshot's version, from the package.json this build belongs to (for the summary, metrics and --version). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../paths';

export const VERSION: string = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
