/**
 * summary.json, written so that a reader never sees half of one: to a
 * temporary name, then renamed over the old. Returns the error instead of
 * throwing: a full disk must not cost the caller the summary it holds.
 */
import { rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MEETING_FILES } from './record-dir';

export async function writeSummaryFile(dir: string, summary: object): Promise<NodeJS.ErrnoException | undefined> {
  const path = join(dir, MEETING_FILES.summary);
  const tmp = `${path}.tmp`;
  try {
    await writeFile(tmp, JSON.stringify(summary, null, 2) + '\n');
    await rename(tmp, path);
    return undefined;
  } catch (err) {
    await unlink(tmp).catch(() => {});
    return err as NodeJS.ErrnoException;
  }
}
