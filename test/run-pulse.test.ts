/**
 * Capture as meeting bots do it: a real PulseAudio server with a null sink,
 * a sample played into it with paplay, and `earshot run --input pulse:<sink>.monitor`.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { correlation, decode, SPEECH } from './fixtures/audio';
import { startEarshot } from './fixtures/cli';

const have = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const dir = mkdtempSync(join(tmpdir(), 'earshot-pulse-'));
const socket = join(dir, 'native');
const env = { PULSE_SERVER: `unix:${socket}`, XDG_RUNTIME_DIR: dir, HOME: dir };
let server: ChildProcess | undefined;

test.before(async () => {
  if (!have('pulseaudio') || !have('paplay')) return; // the test says what is missing
  server = spawn(
    'pulseaudio',
    ['-n', '--daemonize=no', '--exit-idle-time=-1', '--use-pid-file=no', '--log-target=stderr',
      `--load=module-native-protocol-unix socket=${socket} auth-anonymous=1`,
      '--load=module-null-sink sink_name=meeting rate=48000 channels=1'],
    { env: { ...process.env, ...env }, stdio: 'ignore' },
  );
  for (let i = 0; i < 100 && !existsSync(socket); i++) await new Promise((r) => setTimeout(r, 50));
});

test('a sample played into a PulseAudio null sink is recorded from its monitor', async () => {
  assert.ok(server, 'pulseaudio and paplay are installed (test/prereqs.sh installs them)');
  const rec = join(dir, 'rec');
  const port = await freePort();
  const run = startEarshot(['run', '--input', 'pulse:meeting.monitor', '--record', rec, '--duration', '16s', '--log-sink', 'null', '--metrics', `127.0.0.1:${port}`], env);
  // Play once capture runs (/readyz: frames flow; an idle null sink's monitor delivers silence).
  for (let i = 0; i < 300; i++) {
    const ok = await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.ok, () => false);
    if (ok) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const play = spawnSync('paplay', ['-d', 'meeting', SPEECH], { env: { ...process.env, ...env } });
  assert.is(play.status, 0, String(play.stderr));
  const r = await run.done;
  assert.is(r.code, 0, r.stderr);
  const recorded = decode(join(rec, 'audio.opus'));
  const original = decode(SPEECH);
  const { peak, lagSec } = correlation(original, recorded, 4);
  assert.ok(peak > 0.8, `recording correlates with the sample: r=${peak.toFixed(3)} at ${lagSec.toFixed(3)} s`);
  assert.ok(lagSec >= -0.02 && lagSec < 3, `the sample starts where paplay played it (${lagSec} s)`);
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

test.after(() => {
  server?.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
});
test.run();
