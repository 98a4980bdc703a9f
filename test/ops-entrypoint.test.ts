/**
 * docker/entrypoint.sh outside a container: configured by environment
 * variables only, it runs a meeting (against the partner emulator when
 * `earshot run` takes partners), drops root to uid 10001 keeping only
 * CAP_SYS_NICE, keeps secrets out of argv, and exits 0 on SIGTERM with a
 * finalised recording. With EARSHOT_QUEUE it takes its meeting from a real
 * redis-server instead.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, ROOT } from '../src/paths';
import { readableCli } from './readable-build';
import { freePort, startRedis } from './queue-redis';
import { deadline, sleep } from './fixtures/wait';

const ENTRYPOINT = join(ROOT, 'docker', 'entrypoint.sh');
const isRoot = process.getuid?.() === 0;

/** Only what a container would get: PATH plus the meeting's variables. */
function entryEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  // As root the entrypoint drops to uid 10001, which must reach the CLI.
  return { PATH: process.env.PATH, HOME: '/tmp', EARSHOT_JS: readableCli(), ...extra };
}

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'earshot-entry-'));
  // The bot runs as uid 10001 once root is dropped: it must reach its folders.
  chmodSync(dir, 0o755);
  return dir;
}

test('configuration errors are one line and exit 2, before anything starts', () => {
  const dir = tempDir();
  try {
    const run = (env: Record<string, string>) => spawnSync('sh', [ENTRYPOINT], { env: entryEnv(env), encoding: 'utf8' });
    let r = run({ EARSHOT_INPUT: 'lavfi:sine' });
    assert.is(r.status, 2);
    assert.match(r.stderr, /MEETING_ID is not set/);
    r = run({ MEETING_ID: '../etc', EARSHOT_INPUT: 'lavfi:sine' });
    assert.is(r.status, 2);
    assert.match(r.stderr, /may hold only letters/);
    r = run({ MEETING_ID: 'm1' });
    assert.match(r.stderr, /EARSHOT_INPUT is not set/);
    writeFileSync(join(dir, 'key'), 'sekrit\n');
    r = run({ MEETING_ID: 'm1', EARSHOT_INPUT: 'lavfi:sine', EARSHOT_X_KEY: 'a', EARSHOT_X_KEY_FILE: join(dir, 'key') });
    assert.is(r.status, 2);
    assert.match(r.stderr, /both EARSHOT_X_KEY and EARSHOT_X_KEY_FILE are set/);
    assert.not.match(r.stderr, /sekrit/);
    r = run({ MEETING_ID: 'm1', EARSHOT_INPUT: 'lavfi:sine', EARSHOT_X_KEY_FILE: join(dir, 'missing') });
    assert.match(r.stderr, /EARSHOT_X_KEY_FILE: cannot read/);
    // Other programs' *_FILE variables are theirs (a CA bundle is no secret to load).
    r = run({ MEETING_ID: 'm1', EARSHOT_INPUT: 'lavfi:sine', SSL_CERT_FILE: join(dir, 'missing'), EARSHOT_LOG_SINK: 'console-sync' });
    assert.match(r.stderr, /console-sync/);
    r = run({ MEETING_ID: 'm1', EARSHOT_INPUT: 'lavfi:sine', EARSHOT_LOG_SINK: 'console-sync', EARSHOT_RECORD_ROOT: dir });
    assert.is(r.status, 2);
    assert.match(r.stderr, /console-sync/);
    r = run({ MEETING_ID: 'm1', EARSHOT_INPUT: 'lavfi:sine', EARSHOT_PARTNERS: 'deepgram', EARSHOT_RECORD_ROOT: dir, EARSHOT_LOG_DIR: dir });
    assert.is(r.status, 2);
    assert.match(r.stderr, /EARSHOT_PARTNER_DEEPGRAM_URL is not set/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a meeting from environment variables only; SIGTERM finalises it and exits 0', async () => {
  const dir = tempDir();
  const partnersSupported = /--partner\b/.test(spawnSync(process.execPath, [CLI, 'run', '--help'], { encoding: 'utf8' }).stdout);
  const secret = 'sk-test-0123456789';
  writeFileSync(join(dir, 'raw.key'), `${secret}\n`, { mode: 0o600 });
  const env: Record<string, string> = {
    MEETING_ID: 'standup-42',
    EARSHOT_INPUT: 'lavfi:sine=f=440',
    EARSHOT_RECORD_ROOT: join(dir, 'recordings'),
    EARSHOT_LOG_DIR: join(dir, 'logs'),
    EARSHOT_METRICS: '127.0.0.1:0',
    EARSHOT_HEARTBEAT: '1s',
    EARSHOT_RT_NICE: '-5',
  };
  let emulator: ReturnType<typeof spawn> | undefined;
  if (partnersSupported) {
    emulator = spawn(process.execPath, [CLI, 'partner', '--protocol', 'raw', '--port', '0', '--quiet'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      emulator!.stdout!.on('data', (d) => {
        out += d;
        const m = /listening on (\S+)/.exec(out);
        if (m) resolve(m[1]!);
      });
      emulator!.once('exit', () => reject(new Error('the partner emulator exited')));
    });
    Object.assign(env, { EARSHOT_PARTNERS: 'raw', EARSHOT_PARTNER_RAW_URL: url, EARSHOT_PARTNER_RAW_KEY_FILE: join(dir, 'raw.key') });
  }
  const child = spawn('sh', [ENTRYPOINT], { env: entryEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  const logFile = join(dir, 'logs', 'standup-42.log');
  const recDir = join(dir, 'recordings', 'standup-42');
  try {
    let url: string | undefined;
    for (let i = 0; i < 300 && !url; i++) {
      await sleep(50);
      if (existsSync(logFile)) url = /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(readFileSync(logFile, 'utf8'))?.[1];
    }
    assert.ok(url, `no metrics URL in ${logFile}; stderr: ${stderr}`);
    let ready = 0;
    for (let i = 0; i < 200 && ready !== 200; i++) {
      await sleep(50);
      ready = (await fetch(`${url}/readyz`).catch(() => ({ status: 0 }))).status;
    }
    assert.is(ready, 200, '/readyz once ingest runs');

    // exec all the way down: the shell's pid is now earshot's.
    const cmdline = readFileSync(`/proc/${child.pid}/cmdline`, 'utf8').split('\0');
    assert.ok(cmdline.includes('run') && cmdline.includes('--record'), cmdline.join(' '));
    assert.not.ok(cmdline.join(' ').includes(secret), 'the key is never in argv');
    const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
    if (isRoot) {
      assert.match(status, /^Uid:\s+10001\s/m, 'root is dropped to uid 10001');
      assert.match(status, /^CapAmb:\s+0+800000$/m, 'only CAP_SYS_NICE is kept, as an ambient capability');
      const audio = /"role":"audio"[^}]*"nice":(-?\d+)/.exec(readFileSync(logFile, 'utf8'));
      assert.ok(audio, 'the audio thread in the log');
      assert.is(Number(audio![1]), -5, 'the dropped user may still lower the audio thread nice');
    }
    await sleep(1500);
    child.kill('SIGTERM');
    const code = await Promise.race([exited, deadline(20_000)]);
    if (code === 'timeout') child.kill('SIGKILL');
    assert.is(code, 0, `exit on SIGTERM; stderr: ${stderr}`);

    const summary = JSON.parse(readFileSync(join(recDir, 'summary.json'), 'utf8'));
    assert.ok(summary.durationSec > 1, `summary durationSec ${summary.durationSec}`);
    // Finalised: the Ogg Opus file decodes to the end without an error.
    const probe = spawnSync('ffmpeg', ['-v', 'error', '-i', join(recDir, 'audio.opus'), '-f', 'null', '-'], { encoding: 'utf8' });
    assert.is(probe.status, 0, probe.stderr);
    assert.is(probe.stderr.trim(), '');
    const log = readFileSync(logFile, 'utf8');
    assert.not.ok(log.includes(secret), 'the key is never logged');
    assert.match(log, /"msg":"heartbeat"/);
    assert.not.match(stdout + stderr, /"level":/, 'no log records on the console');
    process.stdout.write(`\n  entrypoint: ${summary.durationSec} s recorded, ${summary.frames} frames, exit ${code} on SIGTERM${partnersSupported ? ', partner raw' : ' (earshot run has no --partner yet)'}\n`);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    emulator?.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
});

test('EARSHOT_QUEUE: the meeting (id, input, flags) comes from the queue, recorded under the record root', async () => {
  const dir = tempDir();
  const redis = await startRedis();
  try {
    const run = (env: Record<string, string>) => spawnSync('sh', [ENTRYPOINT], { env: entryEnv(env), encoding: 'utf8' });
    let r = run({ EARSHOT_QUEUE: redis.url, MEETING_ID: 'm1' });
    assert.is(r.status, 2);
    assert.match(r.stderr, /EARSHOT_QUEUE is set, and so is MEETING_ID/);
    r = run({ EARSHOT_QUEUE: 'redis://:hunter22@127.0.0.1:1' });
    assert.is(r.status, 2);
    assert.match(r.stderr, /EARSHOT_QUEUE carries a password/);
    assert.not.match(r.stderr, /hunter22/);

    const enq = spawnSync(process.execPath, [CLI, 'enqueue', '--queue', redis.url, '--meeting-id', 'from-queue', '--input', 'lavfi:sine=f=440', '--duration', '2s'], { encoding: 'utf8' });
    assert.is(enq.status, 0, enq.stderr);
    r = run({
      EARSHOT_QUEUE: redis.url,
      EARSHOT_IDLE: '5s',
      EARSHOT_RECORD_ROOT: join(dir, 'recordings'),
      EARSHOT_LOG_DIR: join(dir, 'logs'),
      EARSHOT_METRICS: '127.0.0.1:0',
      HOSTNAME: 'bot-7',
    });
    assert.is(r.status, 0, r.stderr);
    assert.match(r.stderr, /meeting from-queue leased \(attempt 1\)/);
    assert.match(r.stderr, /meeting from-queue finished, acknowledged/);
    const summary = JSON.parse(readFileSync(join(dir, 'recordings', 'from-queue', 'summary.json'), 'utf8'));
    assert.ok(Math.abs(summary.durationSec - 2) < 0.05, `${summary.durationSec} s`);
    assert.ok(existsSync(join(dir, 'logs', 'bot-7.log')), 'the log file is named after the bot (its pod)');
  } finally {
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('HEALTHCHECK: nothing on /healthz is unhealthy, except for a queue bot between meetings', async () => {
  const port = await freePort();
  const check = (env: Record<string, string>) =>
    spawnSync(process.execPath, [join(ROOT, 'docker', 'healthcheck.js')], { env: { PATH: process.env.PATH, EARSHOT_METRICS: `127.0.0.1:${port}`, ...env } }).status;
  assert.is(check({}), 1, 'a meeting whose /healthz does not answer');
  assert.is(check({ EARSHOT_QUEUE: 'redis://127.0.0.1:6379' }), 0, 'a queue bot waiting for its next meeting');
});

test.run();
