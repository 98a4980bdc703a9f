/**
 * `earshot doctor` as a real child process: as root and as an unprivileged
 * user (setpriv), with stdout on a socket, a file and a pty, judging log
 * sinks and partner endpoints on loopback.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI } from '../src/paths';
import { checkLogSink, devMajor, devMinor, ttyName } from '../src/ops/doctor/console';
import type { Check, DoctorReport } from '../src/ops/doctor';
import { readableCli } from './readable-build';

const FAST = ['--sample', '100ms'];

function doctor(args: string[], opts: SpawnSyncOptions & { prefix?: string[] } = {}) {
  // A prefix (setpriv) runs it as another user, who may not reach this checkout.
  const cli = opts.prefix ? readableCli() : CLI;
  const cmd = [...(opts.prefix ?? []), process.execPath, cli, 'doctor', ...FAST, ...args];
  const r = spawnSync(cmd[0]!, cmd.slice(1), { encoding: 'utf8', timeout: 60_000, ...opts });
  return { status: r.status, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? '') };
}

function doctorJson(args: string[] = [], opts: SpawnSyncOptions & { prefix?: string[] } = {}) {
  const r = doctor(['--json', ...args], opts);
  let report: DoctorReport;
  try {
    report = JSON.parse(r.stdout);
  } catch {
    throw new Error(`doctor --json printed no JSON (exit ${r.status}): ${r.stdout}\n${r.stderr}`);
  }
  const byId = (id: string): Check => {
    const c = report.checks.find((x) => x.id === id);
    assert.ok(c, `no ${id} check in ${report.checks.map((x) => x.id).join(', ')}`);
    return c!;
  };
  return { ...r, report, byId };
}

const kernelConsoles = (() => {
  try {
    return readFileSync('/proc/consoles', 'utf8');
  } catch {
    return '';
  }
})();
const serialConsole = /^(ttyS\d+)/m.exec(kernelConsoles)?.[1];
const isRoot = process.getuid?.() === 0;
const hasSetpriv = spawnSync('setpriv', ['--version']).status === 0;
const hasScript = spawnSync('script', ['--version']).status === 0;

test('device numbers: glibc major/minor and the tty names behind them', () => {
  assert.is(devMajor(0x440), 4);
  assert.is(devMinor(0x440), 64);
  assert.equal(ttyName(4, 64), { kind: 'serial', device: 'ttyS0' });
  assert.equal(ttyName(4, 1), { kind: 'tty', device: 'tty1' });
  assert.equal(ttyName(136, 3), { kind: 'pty', device: 'pts/3' });
  assert.equal(ttyName(1, 3), { kind: 'null', device: 'null' });
});

test('JSON shape; stdout on a socket is found and is ok; root may lower nice and use FIFO', () => {
  const { status, report, byId } = doctorJson();
  assert.type(report.host.kernel, 'string');
  assert.ok(report.host.cpus >= 1);
  for (const c of report.checks) {
    assert.type(c.id, 'string');
    assert.ok(['ok', 'info', 'warn', 'fail', 'skip'].includes(c.status), c.id);
    assert.type(c.summary, 'string');
    if (c.status === 'fail') assert.type(c.fix, 'string', `${c.id} fails without a fix`);
  }
  assert.is(report.ok, report.counts.fail === 0);
  assert.is(status, report.ok ? 0 : 1);
  // spawnSync's 'pipe' stdio is a unix socketpair on Linux.
  assert.is(byId('stdout').data!.kind, 'socket');
  assert.is(byId('stdout').status, 'ok');
  for (const id of ['memory', 'nofile', 'cpu.steal', 'cpu.iowait', 'autogroup', 'cgroup.cpu.max', 'ffmpeg', 'native', 'opus']) byId(id);
  assert.is(byId('ffmpeg').status, 'ok', byId('ffmpeg').summary);
  assert.is(byId('native').status, 'ok');
  assert.is(byId('opus').status, 'ok');
  if (isRoot) {
    assert.is(byId('priority.nice').status, 'ok', byId('priority.nice').summary);
    assert.match(byId('priority.nice').summary, /CAP_SYS_NICE/);
    assert.is(byId('priority.fifo').status, 'ok');
    assert.is((byId('priority.nice').data!.after as { nice: number }).nice, (byId('priority.nice').data!.before as { nice: number }).nice, 'restored');
  }
});

test('the serial kernel console, its IRQ CPU, and --rt-cpus away from it', () => {
  if (!serialConsole) return; // not a serial-console host
  const { byId } = doctorJson();
  const con = byId('console');
  assert.is(con.status, 'warn');
  assert.match(con.summary, new RegExp(`kernel console is serial: ${serialConsole}`));
  const irq = byId('console.irq');
  const interrupts = readFileSync('/proc/interrupts', 'utf8');
  if (!new RegExp(`\\b${serialConsole}\\b`).test(interrupts)) return;
  const serving = irq.data!.servingCpus as number[];
  assert.ok(serving.length >= 1);
  const rec = irq.data!.recommendRtCpus as string | null;
  if (rec !== null) {
    assert.match(irq.summary, new RegExp(`--rt-cpus ${rec}`));
    for (const cpu of serving) assert.not.ok(rec.split(',').includes(String(cpu)), `recommended ${rec} includes the IRQ CPU ${cpu}`);
  }
});

test('as an unprivileged user (setpriv): nice and FIFO are refused with the reason, exit 1', () => {
  if (!isRoot || !hasSetpriv) return;
  const prefix = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all'];
  const { status, report, byId } = doctorJson([], { prefix });
  assert.is(report.host.uid, 65534);
  assert.is(status, 1);
  const grants = byId('priority.grants');
  assert.is(grants.data!.capSysNice, false);
  assert.match(grants.summary, /CAP_SYS_NICE not in CapEff/);
  const nice = byId('priority.nice');
  assert.is(nice.status, 'fail');
  assert.match(nice.summary, /refused \((EACCES|EPERM)\): no CAP_SYS_NICE and RLIMIT_NICE/);
  assert.match(nice.fix!, /--cap-add SYS_NICE/);
  const fifo = byId('priority.fifo');
  assert.is(fifo.status, 'warn');
  assert.match(fifo.summary, /refused \(EPERM\).*RLIMIT_RTPRIO/);

  // The table says the same, truthfully.
  const table = doctor([], { prefix });
  assert.is(table.status, 1);
  assert.match(table.stdout, /FAIL\s+priority\.nice\s+lowering nice to -10 refused/);
  assert.match(table.stdout, /WARN\s+priority\.fifo\s+SCHED_FIFO priority 10 refused/);
  assert.match(table.stdout, /failed/);
});

test('stdout to a file and to a pty are told apart', () => {
  const dir = mkdtempSync(join(tmpdir(), 'earshot-doctor-'));
  try {
    const out = join(dir, 'out.json');
    const fd = openSync(out, 'w');
    spawnSync(process.execPath, [CLI, 'doctor', '--json', ...FAST], { stdio: ['ignore', fd, 'ignore'], timeout: 60_000 });
    closeSync(fd);
    const report = JSON.parse(readFileSync(out, 'utf8')) as DoctorReport;
    const stdout = report.checks.find((c) => c.id === 'stdout')!;
    assert.is(stdout.data!.kind, 'file');
    assert.is(stdout.data!.target, out);
    if (!hasScript) return;
    // util-linux script(1) gives the child a pseudo-terminal.
    const r = spawnSync('script', ['-qec', `${process.execPath} ${CLI} doctor --json ${FAST.join(' ')}`, '/dev/null'], { encoding: 'utf8', timeout: 60_000 });
    const text = r.stdout.slice(r.stdout.indexOf('{')).replace(/\r\n/g, '\n');
    const viaPty = JSON.parse(text) as DoctorReport;
    const s = viaPty.checks.find((c) => c.id === 'stdout')!;
    assert.is(s.data!.kind, 'pty');
    assert.is(s.status, 'warn');
    assert.match(s.summary, /synchronously/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('log sinks: the console fails, a file or socket is fine', () => {
  const dir = mkdtempSync(join(tmpdir(), 'earshot-sink-'));
  try {
    assert.is(checkLogSink(`file:${join(dir, 'meeting.log')}`, true).status, 'ok');
    assert.is(checkLogSink('null', true).status, 'ok');
    assert.is(checkLogSink('file:/dev/null', true).status, 'ok');
    assert.is(checkLogSink('file:/no/such/dir/x.log', true).status, 'fail');
    assert.is(checkLogSink('carrier-pigeon', true).status, 'fail');
    assert.is(checkLogSink(`socket:${join(dir, 'log.sock')}`, true).status, 'warn', 'nothing listens there');
    // stat only: the console device is never opened. A container has the host's kernel
    // console in /proc/consoles but no /dev/console device.
    if (serialConsole && existsSync('/dev/console')) {
      const con = checkLogSink('file:/dev/console', true);
      assert.is(con.status, 'fail');
      assert.match(con.summary, new RegExp(`/dev/console -> ${serialConsole}`));
      assert.is(checkLogSink(`file:/dev/${serialConsole}`, true).status, 'fail');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--partners: a listening loopback port passes, a closed one fails, keys are never printed', async () => {
  const server = createServer((s) => s.destroy());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const closed = createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const closedPort = (closed.address() as { port: number }).port;
  await new Promise((r) => closed.close(r));
  try {
    const child = await new Promise<{ code: number | null; out: string }>((resolve) => {
      // Async spawn: the server above must keep accepting while the child runs.
      const { spawn } = require('node:child_process') as typeof import('node:child_process');
      const p = spawn(process.execPath, [CLI, 'doctor', '--json', ...FAST, '--partners', `ws://127.0.0.1:${port}/v1/listen?token=sekrit`, '--partners', `ws://127.0.0.1:${closedPort}/`]);
      let out = '';
      p.stdout.on('data', (d) => (out += d));
      p.on('close', (code) => resolve({ code, out }));
    });
    assert.not.match(child.out, /sekrit/);
    const report = JSON.parse(child.out) as DoctorReport;
    const partners = report.checks.filter((c) => c.id === 'partner');
    assert.is(partners.length, 2);
    assert.is(partners[0]!.status, 'ok', partners[0]!.summary);
    assert.match(partners[0]!.summary, new RegExp(`ws://127.0.0.1:${port}/v1/listen: 127.0.0.1 -> 127.0.0.1, TCP ${port} connects`));
    assert.is(partners[1]!.status, 'fail');
    assert.match(partners[1]!.summary, /ECONNREFUSED/);
    assert.is(child.code, 1);
  } finally {
    server.close();
  }
});

test('a bad flag is one line and exit 2', () => {
  const r = doctor(['--nope']);
  assert.is(r.status, 2);
  assert.match(r.stderr, /^earshot: .*--nope.*earshot doctor --help/);
  assert.is(r.stderr.trim().split('\n').length, 1);
  assert.is(doctor(['--rt-nice', '-50']).status, 2);
});

test.run();
