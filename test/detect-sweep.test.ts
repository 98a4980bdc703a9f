import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseShard, redactUrl } from '../src/detect/sweep';
import { CLI } from '../src/paths';
import { buildWav, testSignal, tmpDir } from './detect-fixtures';

const dir = tmpDir('earshot-detect-sweep-');
test.after(() => rmSync(dir, { recursive: true, force: true }));

/** Twelve short recordings and a manifest listing them (with a comment and a blank line). */
const files = Array.from({ length: 12 }, (_, i) => {
  const p = join(dir, `meeting${String(i).padStart(2, '0')}.wav`);
  writeFileSync(p, buildWav({ enc: 's16', channels: 1, rate: 16000, samples: testSignal(16000 * 4, 1, 16000, i + 1) }));
  return p;
});
const manifest = join(dir, 'manifest.txt');
writeFileSync(manifest, `# archive of 12 meetings\n${files.slice(0, 6).join('\n')}\n\n${files.slice(6).join('\n')}\n`);

function detect(args: string[], env: NodeJS.ProcessEnv = {}, input?: string) {
  const r = spawnSync(process.execPath, [CLI, 'detect', ...args], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, ...env }, input });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
const recordsOf = (path: string) => readFileSync(path, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { file: string; severity: string });

test('--shard I/N: disjoint shards that together cover the manifest once; /N takes JOB_COMPLETION_INDEX', () => {
  const a = join(dir, 'a.jsonl');
  const b = join(dir, 'b.jsonl');
  assert.is(detect(['--manifest', manifest, '--shard', '0/2', '--output', a]).code, 0);
  assert.is(detect(['--manifest', manifest, '--shard', '/2', '--output', b], { JOB_COMPLETION_INDEX: '1' }).code, 0);
  const fa = recordsOf(a).map((r) => r.file);
  const fb = recordsOf(b).map((r) => r.file);
  assert.equal(fa, files.filter((_, i) => i % 2 === 0));
  assert.equal([...fa, ...fb].sort(), files);
  for (const r of recordsOf(a)) assert.ok(['none', 'low', 'medium', 'high'].includes(r.severity));
  assert.equal(parseShard('3/4', {}), { index: 3, count: 4 });
  for (const bad of ['4/4', '1', 'a/2', '/0']) assert.throws(() => parseShard(bad, {}), /--shard/);
  assert.throws(() => parseShard('/4', {}), /JOB_COMPLETION_INDEX is not set/);
});

test('a shard killed mid-sweep resumes: files already in --output are skipped, a cut-off last line is dropped, none twice', async () => {
  const out = join(dir, 'killed.jsonl');
  const child = spawn(process.execPath, [CLI, 'detect', '--manifest', manifest, '--output', out, '--jobs', '1'], { stdio: 'ignore' });
  // Kill it once a few records are in, as a preempted pod would be.
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline && (!existsSync(out) || readFileSync(out, 'utf8').split('\n').length < 4)) await new Promise((r) => setTimeout(r, 20));
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  const before = recordsOf(out).length;
  assert.ok(before >= 3 && before < files.length, `killed after ${before} of ${files.length}`);
  writeFileSync(out, readFileSync(out, 'utf8') + '{"file":"' + files[11]); // a record cut off by the kill
  const again = detect(['--manifest', manifest, '--output', out, '--jobs', '2']);
  assert.is(again.code, 0, again.stderr);
  assert.match(again.stderr, new RegExp(`${files.length - before} files to do, ${before} already in`));
  const all = recordsOf(out).map((r) => r.file);
  assert.equal(all.slice().sort(), files, 'every file exactly once');
});

test('the manifest from stdin, URLs fetched over HTTP with credentials kept out of the output, and a heartbeat on stderr', async () => {
  const wav = readFileSync(files[0]!);
  const server = createServer((req, res) => {
    if (req.url?.startsWith('/gone')) { res.writeHead(404).end(); return; }
    res.writeHead(200, { 'content-type': 'audio/wav' }).end(wav);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  try {
    const out = join(dir, 'urls.jsonl');
    const list = `http://user:SEKRIT@127.0.0.1:${port}/a.wav?X-Amz-Signature=abc123&sig=zz\nhttp://127.0.0.1:${port}/gone.wav\n${files[1]}\n`;
    const child = spawn(process.execPath, [CLI, 'detect', '--manifest', '-', '--output', out, '--heartbeat', '0.2s'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c) => (stderr += c));
    child.stdin.end(list);
    const code = await new Promise((r) => child.once('exit', r));
    assert.is(code, 0, stderr);
    const text = readFileSync(out, 'utf8');
    assert.not.match(text + stderr, /SEKRIT|abc123/);
    const recs = text.trim().split('\n').map((l) => JSON.parse(l) as { file: string; durationSec: number; error?: string });
    assert.is(recs.length, 3);
    assert.is(recs[0]!.durationSec, 4, 'the URL decoded whole');
    assert.match(recs[1]!.error!, /HTTP 404/);
  } finally {
    server.close();
  }
  assert.is(redactUrl('https://u:p@h/x?token=t&a=1'), 'https://[Redacted]@h/x?token=[Redacted]&a=1');
});

test('heartbeat lines name files done, audio hours, the queue left and the last file done', () => {
  const r = detect(['--manifest', manifest, '--output', join(dir, 'hb.jsonl'), '--heartbeat', '0.05s', '--jobs', '1']);
  const beats = r.stderr.split('\n').filter((l) => l.includes('heartbeat:'));
  assert.ok(beats.length >= 1, r.stderr);
  assert.match(beats[0]!, /heartbeat: \d+\/12 files, \d+\.\d\d h audio, \d+ queued, \d in progress, \d+x real time, last file \d+ s ago/);
});

test.run();
