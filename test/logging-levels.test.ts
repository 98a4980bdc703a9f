/**
 * Per-module levels, redaction of secrets, sink and level flag errors, and the
 * worker-thread log link, all through real files and a real worker.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createLogging, loggingOptionsFrom, moduleLogger } from '../src/logging';
import { parseLevelSpec } from '../src/logging/levels';
import { createWorkerLogLink } from '../src/logging/worker';
import { UserError } from '../src/util/duration';

const dir = mkdtempSync(join(tmpdir(), 'earshot-loglevels-'));
const readLines = (p: string) => readFileSync(p, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));

test('levels: default plus per-module, flag over EARSHOT_LOG_LEVEL', () => {
  const spec = parseLevelSpec('partners=trace,warn', 'info,realtime=debug');
  assert.equal(spec, { base: 'warn', modules: { realtime: 'debug', partners: 'trace' } });
  assert.throws(() => parseLevelSpec('partners=loud', undefined), (e: unknown) => e instanceof UserError && /partners=trace/.test((e as Error).message));
  assert.throws(() => loggingOptionsFrom({ 'log-sink': 'tcp:1' }) && createLogging({ sink: 'tcp:1' }), /file:PATH, socket:PATH/);
});

test('module loggers follow --log-level; secrets never reach the file', async () => {
  const file = join(dir, 'levels.log');
  const logging = createLogging({ sink: `file:${file}`, level: 'info,partners=trace' });
  const partners = moduleLogger(logging, 'partners');
  const realtime = moduleLogger(logging, 'realtime');
  assert.is(moduleLogger(logging, 'partners'), partners, 'one child per module');
  partners.trace({ seq: 1 }, 'chunk sent');
  realtime.trace({ seq: 1 }, 'must not appear');
  realtime.info('realtime info');
  partners.info(
    {
      key: 'sk-live-AAA',
      partner: { name: 'deepgram', token: 'tok-BBB', headers: { authorization: 'Token CCC' } },
      url: 'wss://api.example/v1/listen?encoding=linear16&token=DDD&model=nova',
    },
    'connecting to https://api.example/v1?key=EEE',
  );
  await logging.close();
  const text = readFileSync(file, 'utf8');
  for (const secret of ['AAA', 'BBB', 'CCC', 'DDD', 'EEE']) assert.not.ok(text.includes(secret), `${secret} leaked: ${text}`);
  const lines = readLines(file);
  assert.ok(lines.some((l) => l.module === 'partners' && l.level === 10 && l.msg === 'chunk sent'));
  assert.not.ok(lines.some((l) => l.msg === 'must not appear'));
  const connect = lines.find((l) => l.msg?.startsWith('connecting'))!;
  assert.is(connect.key, '[Redacted]');
  assert.is(connect.partner.headers.authorization, '[Redacted]');
  assert.ok(connect.url.includes('token=[Redacted]&model=nova'));
  assert.is(connect.msg, 'connecting to https://api.example/v1?key=[Redacted]');
  assert.is(logging.stats().written, lines.length);
});

test('worker link: records from a worker reach the main logger; a full link drops and counts', async () => {
  const file = join(dir, 'worker.log');
  const logging = createLogging({ sink: `file:${file}`, level: 'info,realtime=debug' });
  const link = createWorkerLogLink(logging, 'realtime', 16);
  const workerModule = require.resolve('../src/logging/worker');
  const worker = new Worker(
    `const { workerData } = require('node:worker_threads');
     const log = require(${JSON.stringify(workerModule)}).workerLogger(workerData.log);
     log.trace('below the level');
     log.warn({ tid: 42, key: 'sk-SECRET' }, 'refused SCHED_FIFO');
     for (let i = 0; i < 500; i++) log.debug({ i }, 'burst');`,
    { eval: true, workerData: { log: link.workerData }, transferList: [link.workerData.port] },
  );
  await new Promise((resolve, reject) => worker.once('exit', resolve).once('error', reject));
  await new Promise((r) => setTimeout(r, 200)); // let queued messages arrive
  link.close();
  await logging.close();
  const lines = readLines(file);
  const warn = lines.find((l) => l.msg === 'refused SCHED_FIFO');
  assert.ok(warn, 'the warning arrived');
  assert.is(warn.module, 'realtime');
  assert.is(warn.key, '[Redacted]');
  assert.not.ok(lines.some((l) => l.msg === 'below the level'));
  const bursts = lines.filter((l) => l.msg === 'burst').length;
  assert.ok(link.dropped() > 0, 'a 16-record link dropped part of a 500-record burst');
  assert.is(bursts + 1 + link.dropped(), 501, 'each record either arrived or was counted as dropped');
  assert.is(logging.stats().dropped, link.dropped());
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
