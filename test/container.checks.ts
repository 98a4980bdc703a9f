/**
 * The real container (`npm run test:container`, after `npm run container:build`; .ci/container
 * runs both): the image `earshot` run as users run it, on a Docker engine, traffic on loopback
 * (--network host). Not part of `npm test` (its name does not end in .test.ts): it needs the
 * engine and the image.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { QUEUE_NAME, QUEUE_PREFIX } from '../src/queue/connection';
import { freePort, startRedis } from './queue-redis';
import { tempDir } from './tmp';
import { sleep, until as untilEvery } from './fixtures/wait';

const IMAGE = process.env.EARSHOT_IMAGE ?? 'earshot';
const BOT_UID = 10001;
const made: string[] = [];
const say = (line: string) => process.stdout.write(`\n  ${line}`);

function docker(args: string[], opts: { input?: string; binary?: boolean } = {}) {
  const r = spawnSync('docker', args, { input: opts.input, maxBuffer: 256 * 1024 * 1024, encoding: opts.binary ? 'buffer' : 'utf8' });
  return { status: r.status, stdout: r.stdout as unknown as string, raw: r.stdout as unknown as Buffer, stderr: String(r.stderr) };
}

/** `docker run -d` with a name of ours, removed when the checks end. */
function runDetached(name: string, args: string[]): string {
  const full = `earshot-check-${process.pid}-${name}`;
  made.push(full);
  const r = docker(['run', '-d', '--name', full, '--network', 'host', ...args]);
  assert.is(r.status, 0, r.stderr);
  return full;
}

/** A host folder the bot (uid 10001) may write, mounted into its container. */
function botDir(prefix: string): string {
  const dir = tempDir(prefix);
  chownSync(dir, BOT_UID, BOT_UID);
  return dir;
}

/** Each poll runs docker: every 200 ms, not the fixture's 50. */
const until = <T>(what: string, f: () => T | undefined | false, ms = 30_000) => untilEvery(what, f, ms, 200);

const inspect = (name: string, format: string) => docker(['inspect', '-f', format, name]).stdout.trim();
const logs = (name: string) => {
  const r = docker(['logs', name]);
  return (r.stdout + r.stderr).split('\n').filter((l) => l.trim());
};


async function ready(port: number): Promise<void> {
  const end = Date.now() + 30_000;
  while ((await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.status !== 200) {
    if (Date.now() > end) throw new Error(`timed out waiting for /readyz on port ${port}`);
    await sleep(200);
  }
}

/** Seconds of audio in an Ogg Opus file, decoded by the image's own ffmpeg. */
function decodedSeconds(dir: string, file: string): number {
  const r = docker(['run', '--rm', '--network', 'none', '--entrypoint', 'ffmpeg', '-v', `${dir}:/r:ro`, IMAGE, '-v', 'error', '-i', `/r/${file}`, '-f', 's16le', '-ac', '1', '-ar', '48000', '-'], { binary: true });
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stderr.trim(), '', 'decodes without an error');
  return r.raw.length / 2 / 48000;
}

/** The earshot process in a container, read from /proc inside it: its uid and every thread's nice. */
function threadsInside(name: string) {
  const script = `
    const fs = require('fs');
    const pid = fs.readdirSync('/proc').filter((p) => /^\\d+$/.test(p)).find((p) => {
      try { const c = fs.readFileSync('/proc/' + p + '/cmdline', 'utf8').split('\\0'); return c.includes('run') && c.some((a) => a.endsWith('/bin/earshot')); } catch { return false; }
    });
    const uid = Number(/^Uid:\\s+(\\d+)/m.exec(fs.readFileSync('/proc/' + pid + '/status', 'utf8'))[1]);
    const threads = fs.readdirSync('/proc/' + pid + '/task').map((tid) => {
      const stat = fs.readFileSync('/proc/' + pid + '/task/' + tid + '/stat', 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return { tid: Number(tid), nice: Number(f[16]) };
    });
    console.log(JSON.stringify({ pid: Number(pid), uid, threads }));`;
  const r = docker(['exec', name, 'node', '-e', script]);
  assert.is(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as { pid: number; uid: number; threads: Array<{ tid: number; nice: number }> };
}

/** The audio thread's tid, from a heartbeat in the meeting's log. */
function audioTid(logFile: string): number | undefined {
  if (!existsSync(logFile)) return undefined;
  for (const obj of readFileSync(logFile, 'utf8').match(/\{[^{}]*"role":"audio"[^{}]*\}/g) ?? []) {
    const tid = /"tid":(\d+)/.exec(obj)?.[1];
    if (tid) return Number(tid);
  }
  return undefined;
}

test.after(() => {
  for (const name of made) docker(['rm', '-f', name]);
});

test('the image: its size', () => {
  const bytes = Number(inspect(IMAGE, '{{.Size}}'));
  assert.ok(bytes > 0);
  say(`image ${IMAGE}: ${(bytes / 1e6).toFixed(0)} MB`);
});

test('a meeting from environment variables only, as the Job runs it (read-only root, SYS_NICE only): uid 10001, the audio thread alone at nice -10, healthy, partner fed, logs in the file; docker stop exits 0 with a recording of the meeting length', async () => {
  const rec = botDir('earshot-ctr-rec-');
  const logDir = botDir('earshot-ctr-logs-');
  const keyFile = join(tempDir('earshot-ctr-key-'), 'raw_key');
  writeFileSync(keyFile, 'sk-container-check-0123456789\n', { mode: 0o400 });
  chownSync(keyFile, BOT_UID, BOT_UID);
  const partnerPort = await freePort();
  const metricsPort = await freePort();
  const partner = runDetached('partner', ['--entrypoint', 'node', IMAGE, '/app/bin/earshot', 'partner', '--protocol', 'raw', '--port', String(partnerPort), '--quiet']);
  await until('the partner emulator', () => logs(partner).some((l) => /listening on/.test(l)));

  const bot = runDetached('meeting', [
    '--read-only', '--tmpfs', '/tmp', '--cap-drop', 'ALL', '--cap-add', 'SYS_NICE',
    '-v', `${rec}:/recordings`, '-v', `${logDir}:/var/log/earshot`, '-v', `${keyFile}:/run/secrets/raw_key:ro`,
    '-e', 'MEETING_ID=check-1', '-e', 'EARSHOT_INPUT=lavfi:sine=f=440',
    '-e', 'EARSHOT_PARTNERS=raw', '-e', `EARSHOT_PARTNER_RAW_URL=ws://127.0.0.1:${partnerPort}/`, '-e', 'EARSHOT_PARTNER_RAW_KEY_FILE=/run/secrets/raw_key',
    '-e', `EARSHOT_METRICS=127.0.0.1:${metricsPort}`, '-e', 'EARSHOT_HEARTBEAT=1s',
    IMAGE,
  ]);
  await ready(metricsPort);
  const tid = await until('a heartbeat naming the audio thread', () => audioTid(join(logDir, 'check-1.log')));
  const inside = threadsInside(bot);
  assert.is(inside.uid, BOT_UID, 'earshot runs as uid 10001');
  const audio = inside.threads.find((t) => t.tid === tid);
  assert.ok(audio, `audio thread ${tid} among ${inside.threads.map((t) => t.tid)}`);
  assert.is(audio!.nice, -10, 'the audio thread at nice -10');
  const others = inside.threads.filter((t) => t.tid !== tid);
  assert.equal([...new Set(others.map((t) => t.nice))], [0], 'every other thread at nice 0');

  const health = await until('HEALTHCHECK healthy', () => inspect(bot, '{{.State.Health.Status}}') === 'healthy' && 'healthy', 60_000);
  const stop = docker(['stop', '-t', '30', bot]);
  assert.is(stop.status, 0, stop.stderr);
  assert.is(inspect(bot, '{{.State.ExitCode}}'), '0', 'exit 0 on docker stop');

  const summary = JSON.parse(readFileSync(join(rec, 'check-1', 'summary.json'), 'utf8'));
  const decoded = decodedSeconds(rec, 'check-1/audio.opus');
  assert.ok(Math.abs(decoded - summary.durationSec) <= 0.02, `decoded ${decoded} s, meeting ${summary.durationSec} s`);
  assert.ok(summary.partners[0].audioSecSent > 0, 'the partner emulator got audio');
  const console = logs(bot);
  assert.ok(console.length <= 12, `a few lines on the console, got ${console.length}:\n${console.join('\n')}`);
  assert.not.ok(console.some((l) => l.includes('"level":')), 'no log records on the console');
  assert.not.ok(console.join('\n').includes('sk-container-check'), 'the key nowhere on the console');
  assert.ok(statSync(join(logDir, 'check-1.log')).size > 0, 'the log went to the file sink');
  say(`meeting: uid ${inside.uid}, audio thread ${tid} nice ${audio!.nice}, ${others.length} other threads nice 0; ${health}; docker stop -> exit 0; ` +
    `recording ${summary.durationSec.toFixed(3)} s, decodes to ${decoded.toFixed(3)} s (${((decoded - summary.durationSec) * 1000).toFixed(1)} ms); ` +
    `partner got ${summary.partners[0].audioSecSent.toFixed(1)} s; ${console.length} console lines, ${statSync(join(logDir, 'check-1.log')).size} B in the log file`);
  say(`console: ${console.join(' | ')}`);
});

test('without CAP_SYS_NICE: one clear warning, and the meeting runs at nice 0', async () => {
  const rec = botDir('earshot-ctr-rec-');
  const logDir = botDir('earshot-ctr-logs-');
  const metricsPort = await freePort();
  const bot = runDetached('nocap', [
    '--read-only', '--tmpfs', '/tmp', '--cap-drop', 'ALL', '-v', `${rec}:/recordings`, '-v', `${logDir}:/var/log/earshot`,
    '-e', 'MEETING_ID=check-2', '-e', 'EARSHOT_INPUT=lavfi:sine=f=440', '-e', `EARSHOT_METRICS=127.0.0.1:${metricsPort}`, IMAGE,
  ]);
  await ready(metricsPort);
  await sleep(1500);
  assert.is(docker(['stop', '-t', '30', bot]).status, 0);
  assert.is(inspect(bot, '{{.State.ExitCode}}'), '0');
  const warning = logs(bot).filter((l) => /warning/.test(l));
  assert.is(warning.length, 1, logs(bot).join('\n'));
  assert.match(warning[0]!, /no CAP_SYS_NICE .* runs at nice 0 - give the container --cap-add SYS_NICE/);
  const summary = JSON.parse(readFileSync(join(rec, 'check-2', 'summary.json'), 'utf8'));
  assert.ok(summary.durationSec > 1, `${summary.durationSec} s recorded`);
  assert.is(summary.threads.find((t: { role: string }) => t.role === 'audio').nice, 0);
  assert.match(readFileSync(join(logDir, 'check-2.log'), 'utf8'), /priority refused/);
  say(`no capability: "${warning[0]}"; ${summary.durationSec.toFixed(2)} s recorded at nice 0, exit 0`);
});

test('the queue in containers: 3 meetings, 2 bot containers, one killed mid-meeting; its meeting goes to the other bot after the lease, every meeting finishes once', async () => {
  const redis = await startRedis();
  const rec = botDir('earshot-ctr-queue-');
  const logDir = botDir('earshot-ctr-queue-logs-');
  try {
    const ids = ['c-alpha', 'c-bravo', 'c-charlie'];
    for (const id of ids) {
      const r = docker(['run', '--rm', '--network', 'host', '--entrypoint', 'node', IMAGE, '/app/bin/earshot', 'enqueue', '--queue', redis.url, '--meeting-id', id, '--input', 'lavfi:sine=f=440', '--duration', '3s']);
      assert.is(r.status, 0, r.stderr);
    }
    const bots = ['a', 'b'].map((n) =>
      runDetached(`bot-${n}`, [
        '--read-only', '--tmpfs', '/tmp', '--cap-drop', 'ALL', '--hostname', `bot-${n}`, '-v', `${rec}:/recordings`, '-v', `${logDir}:/var/log/earshot`,
        '-e', `EARSHOT_QUEUE=${redis.url}`, '-e', 'EARSHOT_MEETINGS=3', '-e', 'EARSHOT_LEASE=2s', '-e', 'EARSHOT_IDLE=30s', '-e', 'EARSHOT_METRICS=127.0.0.1:0', '-e', 'EARSHOT_RT_NICE=0',
        IMAGE,
      ]),
    );
    const leases = (b: string) => logs(b).filter((l) => /leased/.test(l));
    await until("both bots to lease a meeting", () => bots.every((b) => leases(b).length >= 1), 60_000);
    const [survivor, victim] = bots as [string, string];
    const killedMeeting = /meeting (\S+)/.exec(leases(victim)[0]!)![1]!;
    await sleep(1000);
    assert.is(docker(['kill', '--signal', 'KILL', victim]).status, 0);
    const killedAt = Date.now();
    const code = docker(['wait', survivor]).stdout.trim();
    const survivorLines = logs(survivor);
    assert.is(code, '0', survivorLines.join('\n'));
    const q = new Queue(QUEUE_NAME, { connection: { url: redis.url }, prefix: QUEUE_PREFIX });
    const counts = await q.getJobCounts('completed', 'failed', 'wait', 'active');
    await q.close();
    assert.equal(counts, { completed: 3, failed: 0, wait: 0, active: 0 });
    // docker logs -t: when the survivor leased the killed meeting again, after the kill.
    const stamped = docker(['logs', '-t', survivor]).stderr.split('\n');
    const rerun = stamped.find((l) => l.includes(`meeting ${killedMeeting} leased (attempt 2)`));
    assert.ok(rerun, survivorLines.join('\n'));
    const rerunAfterMs = Date.parse(rerun!.split(' ')[0]!) - killedAt;
    assert.ok(rerunAfterMs > 0, `re-leased ${rerunAfterMs} ms after the kill`);
    for (const id of ids) {
      const dir = id === killedMeeting ? `${id}+2` : id;
      const summary = JSON.parse(readFileSync(join(rec, dir, 'summary.json'), 'utf8'));
      assert.ok(Math.abs(summary.durationSec - 3) < 0.05, `${dir}: ${summary.durationSec} s`);
      assert.ok(Math.abs(decodedSeconds(rec, `${dir}/audio.opus`) - summary.durationSec) <= 0.02);
    }
    assert.ok(statSync(join(rec, killedMeeting, 'audio.opus')).size > 0 && !existsSync(join(rec, killedMeeting, 'summary.json')), 'the killed run\'s partial folder, kept');
    say(`queue: enqueued 3 (from the image); ${victim} killed holding ${killedMeeting}, re-leased ${rerunAfterMs} ms later; ${survivor} ran ${survivorLines.filter((l) => /leased/.test(l)).map((l) => /meeting (\S+ leased \(attempt \d\))/.exec(l)![1]).join(', ')}; ` +
      `finished ${counts.completed}/3, failed ${counts.failed}; folders: ${ids.map((id) => (id === killedMeeting ? `${id} (partial), ${id}+2` : id)).join(', ')}`);
  } finally {
    await redis.stop();
  }
});

test.run();
