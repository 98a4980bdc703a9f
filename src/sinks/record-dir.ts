/**
 * The recording folder of a meeting: made (without Node's recursive mkdir, which spins forever
 * under /proc), checked writable before anything starts, and never silently shared by two
 * meetings: a folder that already holds one is refused, or the new meeting goes into a numbered
 * `segment-N` folder inside it, or (asked for explicitly) the old meeting's files are replaced.
 */
import { accessSync, constants, existsSync, mkdirSync, readdirSync, statSync, unlinkSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { UserError } from '../errors';

/** Every file a meeting writes in its folder (the log may be there too, but is the user's). */
export const MEETING_FILES = {
  opus: 'audio.opus',
  wav: 'audio.wav',
  events: 'events.jsonl',
  transcripts: 'transcripts.jsonl',
  summary: 'summary.json',
} as const;

const REASONS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'read-only file system',
  ENOTDIR: 'part of the path is a file, not a directory',
  EEXIST: 'it is a file, not a directory',
  ENOENT: 'no such directory, and it cannot be made there',
  ENOSPC: 'no space left on device',
};

export function unwritable(dir: string, err: unknown): Error {
  const code = (err as NodeJS.ErrnoException).code;
  if (!code) return err as Error;
  const reason = REASONS[code] ?? (err as Error).message;
  return new UserError(`cannot record to ${dir}: ${reason} (${code}) - pass --record a directory you can write to, or fix its permissions`, 2, 'ERR_RECORD');
}

/** mkdir -p, one level at a time: an ENOENT under a parent that exists is an error, not a retry. */
export function makeDir(dir: string): void {
  try {
    mkdirSync(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') {
      if (!statSync(dir).isDirectory()) throw Object.assign(new Error(`${dir} is a file`), { code: 'EEXIST' });
      return;
    }
    const parent = dirname(dir);
    if (code !== 'ENOENT' || parent === dir || existsSync(parent)) throw err;
    makeDir(parent);
    mkdirSync(dir);
  }
}

export interface PreparedDir {
  dir: string;
  /** 2, 3... when the meeting went into a segment folder. */
  segment?: number;
  /** The folder did not exist before (a start that fails removes it again, if still empty). */
  created: boolean;
}

/** Makes the folder ready for a new meeting (see the file head), or throws a UserError. */
export function prepareRecordDir(requested: string, existing: 'refuse' | 'segment' | 'replace'): PreparedDir {
  const dir = resolve(requested);
  const created = !existsSync(dir);
  try {
    makeDir(dir);
    accessSync(dir, constants.W_OK);
  } catch (err) {
    throw unwritable(dir, err);
  }
  const held = Object.values(MEETING_FILES).filter((f) => existsSync(join(dir, f)));
  if (held.length === 0) return { dir, created };
  if (existing === 'refuse') {
    throw new UserError(
      `--record ${requested} already holds a meeting (${held.join(', ')}) - pick a new folder, or --record-existing segment (a numbered folder inside) or replace`,
      2,
      'ERR_RECORD',
    );
  }
  if (existing === 'replace') {
    for (const f of held) unlinkSync(join(dir, f));
    return { dir, created };
  }
  const taken = new Set(readdirSync(dir));
  let n = 2;
  while (taken.has(`segment-${n}`)) n++;
  const sub = join(dir, `segment-${n}`);
  try {
    mkdirSync(sub);
  } catch (err) {
    throw unwritable(sub, err);
  }
  return { dir: sub, segment: n, created: true };
}

/** Every file a meeting leaves in its folder, relative to it (the log too, when it is inside). */
export function meetingFiles(dir: string, o: { wav: boolean; transcripts: boolean; logSink?: string }): string[] {
  const f = MEETING_FILES;
  const files: string[] = [f.opus, ...(o.wav ? [f.wav] : []), f.events, ...(o.transcripts ? [f.transcripts] : []), f.summary];
  if (o.logSink?.startsWith('file:')) {
    const rel = relative(dir, resolve(o.logSink.slice(5)));
    if (!rel.startsWith('..')) files.push(rel);
  }
  return files;
}
