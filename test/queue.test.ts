/**
 * Meetings from the queue against a real redis-server: `earshot enqueue` puts meetings in without
 * any key in clear; two bots (`earshot run --queue`, real processes) take them with a lease; one
 * bot is SIGKILLed in the middle of a meeting, and the other takes that meeting once the lease has
 * lapsed. Every meeting ends acknowledged, with a finalised recording folder (the killed bot's
 * partial folder kept beside the re-run), none ran on two bots at once, none was lost. A bot that
 * loses a meeting's lease stops that meeting in order and says so in one plain line.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import Redis from 'ioredis';
import { CLI } from '../src/paths';
import { QUEUE_NAME, QUEUE_PREFIX } from '../src/queue/connection';
import { jobIdOf } from '../src/queue/enqueue';
import { startRedis, type RedisServer } from './queue-redis';
import { tempDir } from './tmp';
import { deadline, sleep, until } from './fixtures/wait';

let redis: RedisServer;
const bots: Bot[] = [];

test.before(async () => {
  redis = await startRedis();
});
test.after(async () => {
  // A test that failed part-way leaves its bots waiting for meetings: none outlives the suite.
  for (const b of bots) if (b.child.exitCode === null && b.child.signalCode === null) b.child.kill('SIGKILL');
  await redis.stop();
});

function enqueue(args: string[], env: NodeJS.ProcessEnv = process.env) {
  const r = spawnSync(process.execPath, [CLI, 'enqueue', '--queue', redis.url, ...args], { encoding: 'utf8', env });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Everything Redis holds for a queued meeting, as stored. */
async function rawJob(meetingId: string): Promise<string> {
  const client = new Redis(redis.url);
  try {
    return JSON.stringify(await client.hgetall(`${QUEUE_PREFIX}:${QUEUE_NAME}:${jobIdOf(meetingId)}`));
  } finally {
    client.disconnect();
  }
}

test('enqueue: one JSON line, a meeting id queued once, keys only by name and never in clear', async () => {
  const secret = 'dg-secret-0123456789abcdef';
  const env = { ...process.env, DG_KEY: secret };
  const ok = enqueue(['--meeting-id', 'keys-1', '--input', 'lavfi:sine', '--duration', '1s', '--partner', 'deepgram', '--partner-url', 'ws://127.0.0.1:1/v1/listen', '--partner-key-env', 'DG_KEY'], env);
  assert.is(ok.status, 0, ok.stderr);
  assert.equal(JSON.parse(ok.stdout), { meetingId: 'keys-1', added: true, state: 'waiting', waiting: 1 });
  const stored = await rawJob('keys-1');
  assert.match(stored, /DG_KEY/);
  assert.not.match(stored, new RegExp(secret), 'the key value is not in Redis');

  const again = enqueue(['--meeting-id', 'keys-1', '--input', 'lavfi:sine']);
  assert.is(again.status, 1);
  assert.match(again.stderr, /already in the queue \(waiting\) - nothing added/);

  const refused = [
    [['--partner', 'raw', '--partner-url', `ws://u:${secret}@127.0.0.1:1/`], /--partner-url ws:\/\/127\.0\.0\.1:1\/ carries a credential/],
    [['--partner', 'raw', '--partner-url', `ws://127.0.0.1:1/?token=${secret}`], /carries a credential/],
    [['--partner', 'raw', '--partner-param', `raw.api_key=${secret}`], /raw\.api_key=\.\.\. looks like a credential/],
    [['--record', '/tmp/x'], /--record is the bot's to set/],
    [['--rt-nise', '-10'], /Unknown option '--rt-nise'/],
  ] as const;
  for (const [extra, why] of refused) {
    const r = enqueue(['--meeting-id', 'keys-2', '--input', 'lavfi:sine', ...extra]);
    assert.is(r.status, 2, r.stderr);
    assert.match(r.stderr, why);
    assert.not.match(r.stderr, new RegExp(secret));
    assert.is(r.stderr.trim().split('\n').length, 1, 'one line');
  }
  const bad = enqueue(['--meeting-id', '../etc', '--input', 'lavfi:sine']);
  assert.match(bad.stderr, /may hold only letters/);
  const noRedis = spawnSync(process.execPath, [CLI, 'enqueue', '--queue', 'redis://127.0.0.1:1', '--meeting-id', 'x', '--input', 'lavfi:sine'], { encoding: 'utf8' });
  assert.is(noRedis.status, 2);
  assert.match(noRedis.stderr, /^earshot: cannot reach the queue at redis:\/\/127\.0\.0\.1:1\/?: .*ECONNREFUSED.* - is Redis running there\?\n$/);

  const q = new Queue(QUEUE_NAME, { connection: { url: redis.url }, prefix: QUEUE_PREFIX });
  await q.obliterate({ force: true });
  await q.close();
});

interface Bot {
  name: string;
  child: ChildProcess;
  lines: Array<{ t: number; text: string }>;
  exited: Promise<number | null>;
}

function startBot(name: string, root: string, t0: number): Bot {
  const child = spawn(
    process.execPath,
    [CLI, 'run', '--queue', redis.url, '--record-root', root, '--meetings', '3', '--idle', '30s', '--lease', '1500ms', '--log-sink', `file:${join(root, `${name}.log`)}`],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const bot: Bot = { name, child, lines: [], exited: new Promise((r) => child.on('exit', (code) => r(code))) };
  bots.push(bot);
  let rest = '';
  child.stderr!.on('data', (d) => {
    const parts = (rest + d).split('\n');
    rest = parts.pop()!;
    for (const text of parts) bot.lines.push({ t: Date.now() - t0, text });
  });
  return bot;
}

const leased = (b: Bot) => b.lines.filter((l) => /leased/.test(l.text));
const idOf = (text: string) => /meeting (\S+)/.exec(text)![1]!;


test('3 meetings, 2 bots, one SIGKILLed mid-meeting: its meeting is re-leased after the lease and every meeting is finished once', async () => {
  const root = tempDir('earshot-queue-');
  const ids = ['q-alpha', 'q-bravo', 'q-charlie'];
  for (const id of ids) {
    const r = enqueue(['--meeting-id', id, '--input', 'lavfi:sine=f=440', '--duration', '3s']);
    assert.is(r.status, 0, r.stderr);
  }
  const t0 = Date.now();
  const bots = [startBot('bot-a', root, t0), startBot('bot-b', root, t0)];
  try {
    // Both bots hold a meeting; the one that took its meeting last is killed 1 s into it.
    await until('both bots to lease a meeting', () => bots.every((b) => leased(b).length === 1));
    const victim = bots.reduce((a, b) => (leased(a)[0]!.t > leased(b)[0]!.t ? a : b));
    const survivor = bots.find((b) => b !== victim)!;
    const killedMeeting = idOf(leased(victim)[0]!.text);
    await sleep(1000);
    victim.child.kill('SIGKILL');
    const killedAt = Date.now() - t0;
    assert.is(await victim.exited, null, 'killed');

    const code = await Promise.race([survivor.exited, deadline(40_000)]);
    assert.is(code, 0, `the surviving bot exits 0 after its 3 meetings:\n${survivor.lines.map((l) => l.text).join('\n')}`);

    // The queue: all three acknowledged, nothing waiting, running or failed.
    const q = new Queue(QUEUE_NAME, { connection: { url: redis.url }, prefix: QUEUE_PREFIX });
    const counts = await q.getJobCounts('completed', 'failed', 'wait', 'active', 'delayed');
    await q.close();
    assert.equal(counts, { completed: 3, failed: 0, wait: 0, active: 0, delayed: 0 });

    const runs = survivor.lines.filter((l) => /leased/.test(l.text)).map((l) => ({ id: idOf(l.text), t: l.t, attempt: Number(/attempt (\d+)/.exec(l.text)![1]) }));
    const finished = survivor.lines.filter((l) => /finished, acknowledged/.test(l.text)).map((l) => ({ id: idOf(l.text), t: l.t }));
    assert.is(runs.length, 3, 'the survivor ran 3 meetings');
    assert.equal(new Set([...runs.map((r) => r.id), killedMeeting]), new Set(ids), 'every meeting was run');
    const rerun = runs.find((r) => r.id === killedMeeting)!;
    assert.is(rerun.attempt, 2);
    assert.ok(rerun.t > killedAt + 1500, `re-leased ${rerun.t - killedAt} ms after the kill, once the 1.5 s lease lapsed`);
    assert.equal(finished.map((f) => f.id).sort(), runs.map((r) => r.id).sort());
    // Never on two bots at once: each run of a meeting starts after the previous run ended.
    for (let i = 1; i < runs.length; i++) assert.ok(runs[i]!.t >= finished[i - 1]!.t, 'one meeting at a time per bot');
    assert.ok(leased(victim).length === 1 && rerun.t > killedAt, 'the killed meeting ran again only after its bot was gone');

    // The folders: one finalised recording per meeting, the killed bot's partial one beside.
    for (const id of ids) {
      const dir = join(root, id === killedMeeting ? `${id}+2` : id);
      const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
      assert.ok(Math.abs(summary.durationSec - 3) < 0.05, `${dir}: ${summary.durationSec} s`);
      const probe = spawnSync('ffmpeg', ['-v', 'error', '-i', join(dir, 'audio.opus'), '-f', 'null', '-'], { encoding: 'utf8' });
      assert.is(probe.status, 0, probe.stderr);
    }
    const partial = join(root, killedMeeting);
    assert.ok(statSync(join(partial, 'audio.opus')).size > 0, 'the killed bot recorded something');
    assert.not.ok(existsSync(join(partial, 'summary.json')), 'and never finished it');

    process.stdout.write(
      `\n  queue: enqueued ${ids.length}; leased ${bots.map((b) => `${b.name}:${leased(b).map((l) => idOf(l.text)).join(',')}`).join(' ')}; ` +
        `${victim.name} SIGKILLed ${killedAt} ms in, holding ${killedMeeting}; re-leased by ${survivor.name} at ${rerun.t} ms (attempt 2, ${rerun.t - killedAt} ms after the kill); ` +
        `finished ${counts.completed}/3, failed ${counts.failed}; folders ${ids.map((id) => (id === killedMeeting ? `${id} (partial) + ${id}+2` : id)).join(', ')}\n`,
    );
  } finally {
    for (const b of bots) if (b.child.exitCode === null && b.child.signalCode === null) b.child.kill('SIGKILL');
  }
});

test('SIGTERM to a bot mid-meeting: the recording is finalised and the meeting handed back at once', async () => {
  const root = tempDir('earshot-queue-term-');
  assert.is(enqueue(['--meeting-id', 'q-delta', '--input', 'lavfi:sine=f=440', '--duration', '30s']).status, 0);
  const t0 = Date.now();
  const bot = startBot('bot-c', root, t0);
  await until('the lease', () => leased(bot).length === 1);
  await sleep(2500);
  bot.child.kill('SIGTERM');
  assert.is(await bot.exited, 0);
  assert.ok(bot.lines.some((l) => /meeting q-delta handed back to the queue/.test(l.text)), bot.lines.map((l) => l.text).join('\n'));
  const summary = JSON.parse(readFileSync(join(root, 'q-delta', 'summary.json'), 'utf8'));
  assert.ok(summary.durationSec > 0.5 && summary.durationSec < 5, `finalised at ${summary.durationSec} s`);
  const q = new Queue(QUEUE_NAME, { connection: { url: redis.url }, prefix: QUEUE_PREFIX });
  const job = await q.getJob(jobIdOf('q-delta'));
  assert.is(await job!.getState(), 'waiting', 'waiting for the next bot, without a lease to lapse');
  await q.obliterate({ force: true });
  await q.close();
});

test('a lease lost mid-meeting (another bot may have it): the meeting stops here, its recording finalised', async () => {
  const root = tempDir('earshot-queue-lost-');
  assert.is(enqueue(['--meeting-id', 'q-echo', '--input', 'lavfi:sine=f=440', '--duration', '30s']).status, 0);
  const bot = startBot('bot-d', root, Date.now());
  await until('the lease', () => leased(bot).length === 1);
  await sleep(2000);
  // What another bot taking the meeting over looks like from here: the lease is no longer ours.
  const client = new Redis(redis.url);
  await client.del(`${QUEUE_PREFIX}:${QUEUE_NAME}:${jobIdOf('q-echo')}:lock`);
  client.disconnect();
  const lost = await until('the lost lease', () => bot.lines.find((l) => /lease lost/.test(l.text)), 10_000);
  assert.match(lost.text, /meeting q-echo: lease lost - stopped here, recording kept in .*q-echo; the queue gives the meeting to a bot again/);
  assert.not.ok(bot.lines.some((l) => /Missing lock|could not renew/.test(l.text)), 'said once, in plain words');
  const summary = JSON.parse(readFileSync(join(root, 'q-echo', 'summary.json'), 'utf8'));
  assert.is(summary.outcome, 'stopped');
  assert.ok(summary.durationSec > 1.5 && summary.durationSec < 6, `finalised at ${summary.durationSec} s`);
  bot.child.kill('SIGTERM');
  await bot.exited;
  const q = new Queue(QUEUE_NAME, { connection: { url: redis.url }, prefix: QUEUE_PREFIX });
  await q.obliterate({ force: true });
  await q.close();
});

test.run();
