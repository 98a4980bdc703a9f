/**
 * Fault injection (issue 18): each fault outside the audio path, done for real to a real
 * `earshot run` (the real ffmpeg, the partner emulator's fault plan, a tmpfs filled up, real
 * signals), and the outcome asserted: the meeting completes or fails at once with one clear line,
 * the files are finalised, the exit status follows the documented policy, nothing hangs, and no
 * secret leaks. Independent runs go in parallel to keep the suite short.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { MeetingEvent } from '../src/events';
import { IngestSupervisor } from '../src/ingest/supervisor';
import { parseSource } from '../src/ingest/spec';
import { startEmulator, type Emulator } from '../src/partners/emulator';
import { parseFaults } from '../src/partners/emulator/faults';
import type { RunSummary } from '../src/run/summary';
import { decode, seconds, SPEECH } from './fixtures/audio';
import { runEarshot, startEarshot, type CliResult } from './fixtures/cli';
import { tempDir } from './tmp';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const summaryOf = (dir: string) => JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as RunSummary;
const eventsOf = (dir: string): MeetingEvent[] =>
  readFileSync(join(dir, 'events.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
const oneLine = (r: CliResult) => r.stderr.trim().split('\n');
/** What each fault did, one line, printed beside uvu's dots (the figures the assertions hold). */
const note = (line: string) => process.stdout.write(`\n  fault: ${line}`);

/** The Ogg page header type of the last page: 4 is end of stream (a finalised file). */
function lastPageType(file: string): number {
  const b = readFileSync(file);
  return b[b.lastIndexOf('OggS') + 5]!;
}

async function emulator(faults: string[], key?: string): Promise<Emulator> {
  return startEmulator({ protocol: 'deepgram', faults: parseFaults(faults), ...(key && { key }) });
}

const partnerArgs = (emu: Emulator) => ['--partner', 'deepgram', '--partner-url', emu.url, '--partner-key-env', 'FAULT_KEY'];
const KEY_ENV = { FAULT_KEY: 'fault-key-abcdef' };

test('start-up refusals: one line, exit 2, at once, before any audio and without a trace on disk', async () => {
  const dir = tempDir('earshot-faults-start-');
  const fifo = join(dir, 'fifo');
  execFileSync('mkfifo', [fifo]);
  const busy = createServer().listen(0, '127.0.0.1');
  await new Promise((r) => busy.once('listening', r));
  const port = (busy.address() as { port: number }).port;
  const input = ['--input', `file:${SPEECH}`];
  const cases: Array<[string[], RegExp]> = [
    [[...input, '--metrics', `127.0.0.1:${port}`], /--metrics 127\.0\.0\.1:\d+: cannot listen \(the address is in use/],
    [[...input, '--metrics', '10.255.255.1:9464'], /10\.255\.255\.1 is not an address of this host/],
    [[...input, '--heartbeat', '0'], /--heartbeat 0 must be longer than 0/],
    [[...input, '--duration', '0'], /--duration 0 must be longer than 0/],
    [[...input, '--rt-policy', 'fifo:0'], /--rt-policy "fifo:0" - use other, fifo\[:PRIO\] or rr\[:PRIO\] with PRIO 1-99/],
    [[...input, '--log-sink', 'file:/nonexistent-earshot/x.log'], /--log-sink file:\/nonexistent-earshot\/x\.log cannot be opened \(ENOENT\)/],
    [[...input, '--record', '/proc/x'], /cannot record to \/proc\/x: .*\(ENOENT\)/],
    [['--input', `file:${fifo}`], /is a FIFO - file: reads recordings/],
    [['--input', 'file:/dev/zero'], /is a device/],
  ];
  try {
    const results = await Promise.all(
      cases.map(async ([args, _]) => {
        const rec = join(dir, `rec-${Math.random().toString(36).slice(2)}`);
        const t0 = Date.now();
        const r = await runEarshot(['run', ...args, ...(args.includes('--record') ? [] : ['--record', rec]), ...(args.includes('--log-sink') ? [] : ['--log-sink', 'null'])]);
        return { r, ms: Date.now() - t0, rec };
      }),
    );
    results.forEach(({ r, ms, rec }, i) => {
      const [args, message] = cases[i]!;
      assert.is(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.equal(oneLine(r).length, 1, r.stderr);
      assert.match(r.stderr, message);
      assert.ok(ms < 5000, `${args.join(' ')} took ${ms} ms`);
      assert.not.ok(existsSync(rec), `${args.join(' ')} left ${rec}`);
    });
    note(`${cases.length} start-up refusals: exit 2, one line each, slowest ${Math.max(...results.map((r) => r.ms))} ms, no folder left`);
    // The tools around the meeting refuse the same way (before minutes of work, not after).
    const repro = await Promise.all([
      runEarshot(['repro', '--json', '/nonexistent-earshot/d/x.json']),
      runEarshot(['repro', '--work', '/dev/null']),
      runEarshot(['repro', '--sample', fifo]),
      runEarshot(['partner', '--protocol', 'deepgram', '--port', '0', '--fault', 'close=0999@1s']),
    ]);
    for (const r of repro) {
      assert.is(r.code, 2, r.stderr);
      assert.equal(oneLine(r).length, 1, r.stderr);
    }
  } finally {
    busy.close();
  }
});

test('a source that never answers ends the meeting at --duration with the cause, and credentials in it never leak', async () => {
  const dir = tempDir('earshot-faults-url-');
  // Accepts connections and never says a word.
  const sockets: Socket[] = [];
  const silent: Server = createServer((s) => sockets.push(s)).listen(0, '127.0.0.1');
  await new Promise((r) => silent.once('listening', r));
  const port = (silent.address() as { port: number }).port;
  const url = `url:http://bot:SEKRIT-pass@127.0.0.1:${port}/live.mp3?token=SEKRIT-token`;
  try {
    const run = startEarshot(['run', '--input', url, '--duration', '3s', '--record', join(dir, 'rec'), '--log-sink', `file:${join(dir, 'log.jsonl')}`, '--log-level', 'debug']);
    await sleep(1500);
    const ffmpeg = execFileSync('pgrep', ['-P', String(run.child.pid), 'ffmpeg']).toString().trim();
    const argv = readFileSync(`/proc/${ffmpeg}/cmdline`, 'utf8');
    const t0 = Date.now();
    const r = await run.done;
    assert.ok(Date.now() - t0 < 4000, 'ended by --duration, not by a hang');
    assert.is(r.code, 1, r.stderr);
    assert.match(r.stderr, /earshot: no audio from url:http:\/\/\[Redacted\]@127\.0\.0\.1:\d+\/live\.mp3\?token=\[Redacted\] within 3 s - check that the source is reachable/);
    const s = summaryOf(join(dir, 'rec'));
    assert.equal([s.outcome, s.error?.code], ['failed', 'ERR_INGEST']);
    const everything = [argv, r.stdout, r.stderr, readFileSync(join(dir, 'log.jsonl'), 'utf8'), ...readdirSync(join(dir, 'rec')).map((f) => readFileSync(join(dir, 'rec', f), 'latin1'))];
    for (const text of everything) assert.not.ok(text.includes('SEKRIT'), `a credential leaked: ${text.slice(0, 300)}`);
    assert.match(argv, /-f\0concat\0.*-i\0pipe:0/, 'ffmpeg reads the URL from its stdin');
    note(`url that never answers, --duration 3s: exit ${r.code} ${((Date.now() - t0) / 1000 + 1.5).toFixed(1)} s after the start; no credential in argv, stderr, log, events or summary`);
  } finally {
    sockets.forEach((s) => s.destroy());
    silent.close();
  }
});

test('a full disk is seen as it happens: event, log line, /healthz degraded, a clear last line, the summary on stderr', async () => {
  const mnt = tempDir('earshot-faults-disk-');
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mnt]);
  const log = join(tempDir('earshot-faults-disklog-'), 'log.jsonl');
  try {
    const run = startEarshot(['run', '--input', `file:${SPEECH}`, '--duration', '5s', '--wav', '--record', join(mnt, 'rec'), '--metrics', '127.0.0.1:0', '--log-sink', `file:${log}`]);
    let url: string | undefined;
    for (let i = 0; i < 100 && !url; i++, await sleep(50)) url = /"url":"(http:[^"]+)"/.exec(existsSync(log) ? readFileSync(log, 'utf8') : '')?.[1];
    let health = '';
    for (let i = 0; i < 80 && !health.startsWith('degraded'); i++, await sleep(50)) health = await (await fetch(`${url}/healthz`)).text();
    const r = await run.done;
    assert.match(health, /^degraded: recorder: no space left on device \(ENOSPC\) writing audio\.(opus|wav)/);
    assert.is(r.code, 1, r.stderr);
    assert.match(r.stderr, /earshot: recording incomplete: no space left on device \(ENOSPC\) writing audio\.(opus|wav) at [\d.]+ s - free space/);
    const onStderr = JSON.parse(/the summary follows:\n(\{.*\})/.exec(r.stderr)![1]!) as RunSummary;
    assert.equal([onStderr.outcome, onStderr.ok, onStderr.durationSec], ['duration', false, 5]);
    const lines = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const diskEvents = lines.filter((l) => l.event?.kind === 'disk_error');
    assert.ok(diskEvents.length >= 1 && diskEvents[0].level === 50 && diskEvents[0].event.t < 3, JSON.stringify(diskEvents[0]));
    assert.is(lines[lines.length - 1].msg, 'meeting ended', 'the last log record carries the summary');
    note(`tmpfs full: disk_error at ${diskEvents[0].event.t} s, /healthz "${health.trim()}", exit ${r.code}, summary on stderr`);
  } finally {
    execFileSync('umount', [mnt]);
  }
});

test('SIGTERM, then SIGKILL 2 s later, during a stalled partner: the recording and the summary are final within a second', async () => {
  const emu = await emulator(['stall=1s']);
  const dir = tempDir('earshot-faults-kill-');
  const rec = join(dir, 'rec');
  try {
    const run = startEarshot(['run', '--input', `file:${SPEECH}`, '--record', rec, ...partnerArgs(emu), '--log-sink', 'null'], KEY_ENV);
    await sleep(5000);
    run.child.kill('SIGTERM');
    const t0 = Date.now();
    await sleep(2000);
    run.child.kill('SIGKILL');
    const r = await run.done;
    assert.is(r.code, null, 'killed, as docker stop would');
    const s = summaryOf(rec);
    const written = statSync(join(rec, 'summary.json')).mtimeMs;
    assert.ok(written - t0 < 1000, `summary.json written ${Math.round(written - t0)} ms after SIGTERM`);
    assert.equal([s.outcome, s.complete, s.partners[0]!.state], ['stopped', false, 'closing']);
    assert.is(lastPageType(join(rec, 'audio.opus')), 4, 'the Ogg stream ends with its end-of-stream page');
    assert.ok(Math.abs(seconds(decode(join(rec, 'audio.opus'))) - s.durationSec) <= 0.02);
    eventsOf(rec); // every line parses
    note(`SIGTERM then SIGKILL 2 s later, partner stalled: summary.json ${Math.round(written - t0)} ms after SIGTERM (complete false, partner closing), Ogg EOS page, ${s.durationSec} s decodable`);
  } finally {
    await emu.close();
  }
});

test('a second SIGTERM drops a stalled partner at once: the complete summary, then the exit', async () => {
  const emu = await emulator(['stall=1s']);
  const rec = join(tempDir('earshot-faults-twice-'), 'rec');
  try {
    const run = startEarshot(['run', '--input', `file:${SPEECH}`, '--record', rec, ...partnerArgs(emu), '--partners-required', 'none', '--log-sink', 'null'], KEY_ENV);
    await sleep(4000);
    run.child.kill('SIGTERM');
    await sleep(300);
    run.child.kill('SIGTERM');
    const t0 = Date.now();
    const r = await run.done;
    assert.ok(Date.now() - t0 < 3000, `exited ${Date.now() - t0} ms after the second signal`);
    assert.is(r.code, 0, r.stderr);
    assert.match(r.stderr, /SIGTERM again: dropping the partners/);
    const s = summaryOf(rec);
    assert.equal([s.outcome, s.complete, s.partners[0]!.state], ['stopped', true, 'closed']);
    assert.is(lastPageType(join(rec, 'audio.opus')), 4);
    note(`second SIGTERM: exit ${r.code} ${Date.now() - t0} ms after it, summary complete, partner ${s.partners[0]!.state}`);
  } finally {
    await emu.close();
  }
});

test('partners that misbehave cost only their own output: the meeting completes, the exit status follows --partners-required', async () => {
  const [bad, flood, refuse] = await Promise.all([emulator(['malformed=1s']), emulator(['flood=64M']), emulator(['reject=401'])]);
  const dir = tempDir('earshot-faults-partners-');
  try {
    const run = (name: string, emu: Emulator, extra: string[] = []) =>
      runEarshot(['run', '--input', `file:${SPEECH}`, '--duration', '4s', '--record', join(dir, name), ...partnerArgs(emu), ...extra, '--log-sink', 'null'], KEY_ENV);
    const [r1, r2, r3, r4] = await Promise.all([run('malformed', bad), run('flood', flood), run('refused', refuse), run('refused-none', refuse, ['--partners-required', 'none'])]);
    for (const [r, name] of [[r1, 'malformed'], [r2, 'flood'], [r3, 'refused'], [r4, 'refused-none']] as const) {
      const s = summaryOf(join(dir, name));
      assert.equal([s.outcome, s.durationSec, s.complete], ['duration', 4, true], `${name}: ${r.stderr}`);
      assert.is(lastPageType(join(dir, name, 'audio.opus')), 4);
      assert.not.match(r.stderr, /internal error|TypeError|\n\s+at /, `${name}: ${r.stderr}`);
    }
    assert.is(r1.code, 0, r1.stderr);
    assert.ok(summaryOf(join(dir, 'malformed')).partners[0]!.badMessages >= 1);
    assert.ok([0, 3].includes(r2.code!), r2.stderr);
    // A partner that refused the key for the whole meeting: said on stderr, exit 3 (or 0 when not required).
    assert.is(r3.code, 3, r3.stderr);
    assert.match(r3.stderr, /partner deepgram: NEVER DELIVERED/);
    assert.match(r3.stderr, /earshot: partner deepgram: .*refused the key - check --partner-key-env FAULT_KEY/);
    assert.is(r4.code, 0, r4.stderr);
    for (const r of [r1, r2, r3, r4]) assert.not.ok((r.stdout + r.stderr).includes(KEY_ENV.FAULT_KEY), 'the key leaked');
    note(`partners: malformed message exit ${r1.code} (${summaryOf(join(dir, 'malformed')).partners[0]!.badMessages} bad messages ignored), 64 MiB flood exit ${r2.code}, key refused exit ${r3.code} (exit ${r4.code} with --partners-required none); every recording final`);
  } finally {
    await Promise.all([bad.close(), flood.close(), refuse.close()]);
  }
});

test('an ffmpeg that ignores SIGTERM gets SIGKILL after the grace period', async () => {
  // A stand-in "ffmpeg" that traps SIGTERM, as a real one stuck in open(2) does in effect.
  const dir = tempDir('earshot-faults-grace-');
  const bin = join(dir, 'ffmpeg');
  const script = ['#!/bin/sh', 'trap "" TERM', 'while :; do sleep 1; done'];
  writeFileSync(bin, script.join('\n') + '\n', { mode: 0o755 });
  const sup = new IngestSupervisor(parseSource('lavfi:sine'), join(dir, 'out.pcm'), 1, { path: bin, origin: 'PATH' }, pino({ enabled: false }), {
    position: () => 0,
    onRestart: () => {},
    onEnd: () => {},
    onFatal: () => {},
  });
  sup.start();
  for (let i = 0; i < 100 && !sup.pid; i++) await sleep(20);
  const pid = sup.pid!;
  assert.ok(pid, 'started');
  await sleep(300);
  const t0 = Date.now();
  sup.stop(500);
  await sup.gone;
  const took = Date.now() - t0;
  assert.ok(took >= 450 && took < 2000, `gone after ${took} ms`);
  assert.not.ok(existsSync(`/proc/${pid}`), 'the process is gone');
  note(`ffmpeg ignoring SIGTERM: SIGKILLed ${took} ms after stop(500)`);
});

test('a SIGKILLed run leaves no ingest pipe folder behind', async () => {
  const before = new Set(readdirSync(tmpdir()).filter((f) => f.startsWith('earshot-')));
  const run = startEarshot(['run', '--input', `file:${SPEECH}`, '--log-sink', 'null']);
  await sleep(1500);
  const fds = readdirSync(`/proc/${run.child.pid}/fd`).map((fd) => {
    try {
      return execFileSync('readlink', [`/proc/${run.child.pid}/fd/${fd}`]).toString().trim();
    } catch {
      return '';
    }
  });
  run.child.kill('SIGKILL');
  await run.done;
  const pipe = fds.find((l) => l.includes('ingest.pcm'));
  assert.match(pipe ?? '', /ingest\.pcm \(deleted\)$/, 'the pipe is held open, its name already gone');
  const left = readdirSync(tmpdir()).filter((f) => f.startsWith('earshot-') && !before.has(f) && existsSync(join(tmpdir(), f, 'ingest.pcm')));
  assert.equal(left, []);
  note('SIGKILL mid-meeting: no /tmp/earshot-* pipe folder left (the pipe was held as "ingest.pcm (deleted)")');
});

test.run();
