/**
 * The native helper changes only the calling thread: proven by reading
 * /proc/self/task/<tid>/stat and /status for the worker and the main thread.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import { join } from 'node:path';
import { native } from '../src/native';
import { readThread } from '../src/ops/proc';
import { ROOT } from '../src/paths';

const addon = join(ROOT, 'native', 'build', 'Release', 'earshot_native.node');

function inWorker(code: string): Promise<{ tid: number; result: unknown; error?: string }> {
  return new Promise((resolve, reject) => {
    const w = new Worker(
      `const { parentPort } = require('node:worker_threads');
       const n = require(${JSON.stringify(addon)});
       let result, error;
       try { result = (() => { ${code} })(); } catch (e) { error = e.code + ' ' + e.errno + ' ' + e.message; }
       parentPort.postMessage({ tid: n.gettid(), result, error });
       setTimeout(() => {}, 300);`,
      { eval: true },
    );
    w.once('message', resolve);
    w.once('error', reject);
  });
}

test('gettid is the kernel tid of the calling thread', () => {
  assert.is(native().gettid(), process.pid); // the main thread's tid is the pid
});

test("a worker's nice, affinity and policy change leaves the main thread untouched", async () => {
  const before = readThread(process.pid);
  const fifo = process.getuid?.() === 0;
  const { tid, error } = await inWorker(`
    n.setNice(7);
    n.setAffinity([0]);
    ${fifo ? 'n.setScheduler(1, 5);' : ''}
    // Stay alive briefly so the main thread can read /proc while it exists.
    const end = Date.now() + 50; while (Date.now() < end);
  `);
  assert.is(error, undefined);
  assert.is.not(tid, process.pid);
  const main = readThread(process.pid);
  assert.is(main.nice, before.nice, 'main thread nice unchanged');
  assert.is(main.cpus, before.cpus, 'main thread affinity unchanged');
  assert.is(main.policy, before.policy, 'main thread policy unchanged');
});

test('the worker sees its own change in /proc while the main thread keeps its own', async () => {
  const { result, error } = await inWorker(`
    const fs = require('node:fs');
    n.setNice(9);
    n.setAffinity([0]);
    const stat = (tid) => { const s = fs.readFileSync('/proc/self/task/' + tid + '/stat', 'utf8'); return s.slice(s.lastIndexOf(')') + 2).split(' '); };
    const status = (tid) => /Cpus_allowed_list:\\s*(\\S+)/.exec(fs.readFileSync('/proc/self/task/' + tid + '/status', 'utf8'))[1];
    const me = n.gettid();
    return { myNice: Number(stat(me)[16]), myCpus: status(me), mainNice: Number(stat(process.pid)[16]), mainCpus: status(process.pid),
             back: n.getNice(), aff: n.getAffinity() };
  `);
  assert.is(error, undefined);
  const r = result as Record<string, unknown>;
  assert.is(r.myNice, 9);
  assert.is(r.myCpus, '0');
  assert.is(r.back, 9);
  assert.equal(r.aff, [0]);
  assert.is(r.mainNice, readThread(process.pid).nice);
  assert.is(r.mainCpus, readThread(process.pid).cpus);
});

test('SCHED_FIFO on a worker is visible in /proc field 41 and 40 (as root)', async () => {
  if (process.getuid?.() !== 0) return console.log('  (skipped: SCHED_FIFO needs root or RLIMIT_RTPRIO)');
  const { result, error } = await inWorker(`return n.setScheduler(1, 12);`);
  assert.is(error, undefined);
  assert.equal(result, { policy: 'fifo', priority: 12 });
  assert.is(readThread(process.pid).policy, 'other');
});

test('refusals carry errno and name the missing permission', async () => {
  // (The unprivileged EPERM path is exercised by doctor's setpriv test.)
  const { error } = await inWorker(`n.setScheduler(1, 0);`); // FIFO priority 0 is invalid
  assert.ok(error && error.startsWith('EINVAL 22 sched_setscheduler failed'), error);
  assert.ok(error!.includes('priority must be 1..99'), error);
});

test('setThreadName names only the calling thread in /proc', async () => {
  const { tid, error } = await inWorker(`n.setThreadName('earshot-audio-x'); const end = Date.now() + 50; while (Date.now() < end);`);
  assert.is(error, undefined);
  assert.is(readThread(tid).name, 'earshot-audio-x'); // 15 bytes kept: the kernel's limit
  assert.is.not(readThread(process.pid).name, 'earshot-audio-x');
});

test('setPipeSize grows a pipe and pollIn sees data', async () => {
  const { result, error } = await inWorker(`
    const fs = require('node:fs'), os = require('node:os'), path = require('node:path');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'earshot-native-'));
    const p = path.join(dir, 'fifo');
    n.mkfifo(p);
    const fd = fs.openSync(p, fs.constants.O_RDWR | fs.constants.O_NONBLOCK);
    const size = n.setPipeSize(fd, 1 << 20);
    const before = n.pollIn(fd, 0);
    fs.writeSync(fd, Buffer.alloc(10));
    const after = n.pollIn(fd, 100);
    fs.closeSync(fd); fs.rmSync(dir, { recursive: true });
    return { size, before, after };
  `);
  assert.is(error, undefined);
  const r = result as { size: number; before: number; after: number };
  assert.is(r.size, 1 << 20);
  assert.is(r.before, 0);
  assert.is(r.after, 1);
});

test('pidfdOpen + childExit tell a clean exit from a failure and a kill, and leave the child for Node to reap', async () => {
  const n = native();
  // Synchronous from spawn to childExit: Node's event loop cannot reap the children in between.
  const codes = ['exit 0', 'exit 3', 'kill -9 $$'].map((script) => {
    const child = spawn('sh', ['-c', script], { stdio: 'ignore' });
    const fd = n.pidfdOpen(child.pid!);
    const ready = n.pollIn(fd, 5000);
    const code = n.childExit(fd);
    n.closeFd(fd);
    return { ready, code, exited: new Promise((resolve) => child.on('exit', (c, sig) => resolve(sig ?? c))) };
  });
  assert.equal(codes.map((c) => c.ready), [1, 1, 1], 'the pidfd is readable once the child exits');
  assert.equal(codes.map((c) => c.code), [0, 3, 128 + 9]);
  // WNOWAIT: Node still reaps them and sees the same endings.
  assert.equal(await Promise.all(codes.map((c) => c.exited)), [0, 3, 'SIGKILL']);
});

test.run();
