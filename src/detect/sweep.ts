/**
 * Archive sweeps beyond one machine: a manifest (paths or URLs, one a line, from a file or
 * stdin), the shard of it this process owns (`--shard INDEX/COUNT`, for a Kubernetes Indexed
 * Job's JOB_COMPLETION_INDEX), and resumption from the JSON Lines output of an earlier run
 * that was killed (files already there are skipped; a record cut off mid-line is dropped).
 */
import { closeSync, createReadStream, existsSync, openSync, readFileSync, statSync, truncateSync, writeSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { UserError } from '../util/duration';

export interface Shard {
  index: number;
  count: number;
}

/** A manifest line that names a remote object rather than a local path. */
export function isUrl(entry: string): boolean {
  return /^https?:\/\//i.test(entry);
}

/** A URL as it may be printed or stored: no password in its user part, no token-like query values. */
export function redactUrl(url: string): string {
  return url
    .replace(/^(https?:\/\/)[^/@]*@/i, '$1[Redacted]@')
    .replace(/([?&][^=&#]*(?:sig|token|key|secret|credential|password|auth)[^=&#]*=)[^&#]*/gi, '$1[Redacted]');
}

/**
 * `INDEX/COUNT`, 0-based; an empty INDEX (`/4`) takes the Indexed Job's completion index from
 * `env` (JOB_COMPLETION_INDEX), so one Job template serves every pod.
 */
export function parseShard(text: string, env: NodeJS.ProcessEnv): Shard {
  const m = /^\s*(\d*)\s*\/\s*(\d+)\s*$/.exec(text);
  if (!m) throw new UserError(`--shard "${text}" is not INDEX/COUNT - use e.g. --shard 0/4, or --shard /4 inside a Kubernetes Indexed Job`);
  let indexText = m[1]!;
  if (indexText === '') {
    indexText = env.JOB_COMPLETION_INDEX ?? '';
    if (!/^\d+$/.test(indexText)) throw new UserError(`--shard ${text}: JOB_COMPLETION_INDEX is not set - give the index (--shard 0/${m[2]}) or run in an Indexed Job`);
  }
  const index = Number(indexText);
  const count = Number(m[2]);
  if (count < 1 || index >= count) throw new UserError(`--shard ${text}: INDEX must be 0 to COUNT-1 and COUNT at least 1`);
  return { index, count };
}

/**
 * The manifest's entries that belong to `shard` (line i of the non-blank, non-comment lines
 * goes to shard i mod COUNT: shards are disjoint, cover the manifest, and stay balanced).
 */
export async function readManifest(source: string, shard: Shard | undefined, stdin: NodeJS.ReadableStream): Promise<string[]> {
  let input: NodeJS.ReadableStream;
  if (source === '-') input = stdin;
  else {
    try {
      if (!statSync(source).isFile()) throw Object.assign(new Error(), { code: 'EISDIR' });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new UserError(`--manifest ${source}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'not a regular file' : code} - give a text file with one path or URL a line, or - for stdin`);
    }
    input = createReadStream(source, 'utf8');
  }
  const out: string[] = [];
  let i = 0;
  for await (const raw of createInterface({ input, crlfDelay: Infinity })) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    if (!shard || i % shard.count === shard.index) out.push(line);
    i++;
  }
  return out;
}

/**
 * The JSON Lines output a sweep appends to, one record per file, each written whole with one
 * write(2) as it is ready, so a kill loses only the files in flight. On open, the names
 * already recorded are read back (to be skipped), and a last line cut off by a kill is cut away.
 */
export class SweepOutput {
  private constructor(private readonly fd: number, readonly done: Set<string>) {}

  static open(path: string): SweepOutput {
    const done = new Set<string>();
    try {
      if (existsSync(path)) {
        const bytes = readFileSync(path);
        const keep = bytes.lastIndexOf(0x0a) + 1;
        for (const line of bytes.subarray(0, keep).toString('utf8').split('\n')) {
          if (!line.trim()) continue;
          let rec: { file?: unknown };
          try {
            rec = JSON.parse(line) as { file?: unknown };
          } catch {
            throw new UserError(`--output ${path}: a line is not JSON, so it is not an earshot detect --output file - give a new file name`);
          }
          if (typeof rec.file === 'string') done.add(rec.file);
        }
        if (keep < bytes.length) truncateSync(path, keep);
      }
      return new SweepOutput(openSync(path, 'a'), done);
    } catch (err) {
      if (err instanceof UserError) throw err;
      throw new UserError(`--output ${path}: cannot use it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}) - check the folder exists and is writable`);
    }
  }

  /** Appends one whole record (a single write: O_APPEND keeps records whole). */
  append(line: string): void {
    writeSync(this.fd, line);
  }

  close(): void {
    closeSync(this.fd);
  }
}
