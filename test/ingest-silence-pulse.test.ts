/**
 * The capture watchdog on a real Pulse monitor: a meeting capturing a PulseAudio null sink's
 * monitor where nothing plays gets digital silence, which is capture_silent after the configured
 * time and a degraded meeting; a sound played into the sink makes it healthy again.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { startMeeting, type Health, type MeetingEvent } from '../src';
import { SPEECH } from './fixtures/audio';
import { tempDir } from './tmp';

const dir = tempDir('earshot-pulse-silent-');
const socket = join(dir, 'native');
const env = { PULSE_SERVER: `unix:${socket}`, XDG_RUNTIME_DIR: dir, HOME: dir };
let server: ChildProcess | undefined;

test.before(async () => {
  server = spawn(
    'pulseaudio',
    ['-n', '--daemonize=no', '--exit-idle-time=-1', '--use-pid-file=no', '--log-target=stderr',
      `--load=module-native-protocol-unix socket=${socket} auth-anonymous=1`,
      '--load=module-null-sink sink_name=meeting rate=48000 channels=1'],
    { env: { ...process.env, ...env }, stdio: 'ignore' },
  );
  for (let i = 0; i < 100 && !existsSync(socket); i++) await new Promise((r) => setTimeout(r, 50));
});

test('a Pulse monitor delivering only digital silence is capture_silent and degraded; sound makes it healthy again', async () => {
  assert.ok(existsSync(socket), 'pulseaudio runs (test/prereqs.sh installs it)');
  Object.assign(process.env, env); // ffmpeg (spawned by the meeting) finds this server
  const events: MeetingEvent[] = [];
  const health: Health[] = [];
  const meeting = await startMeeting({ input: 'pulse:meeting.monitor', captureSilentAfter: 1000 });
  meeting.on('event', (e) => events.push(e));
  meeting.on('health', (h) => health.push(h));
  for (let i = 0; i < 200 && !meeting.status().ready; i++) await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, 1600));
  const whileSilent = meeting.status();
  const silentEvents = events.filter((e) => e.kind === 'capture_silent').length;
  const play = spawn('paplay', ['-d', 'meeting', SPEECH], { env: { ...process.env, ...env }, stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 1500));
  const whilePlaying = meeting.status();
  play.kill();
  const summary = await meeting.stop();
  assert.is(silentEvents, 1, JSON.stringify(events));
  assert.is(whileSilent.status, 'degraded');
  assert.match(whileSilent.problems.join(), /capture silent: pulse:meeting.monitor/);
  assert.is(whilePlaying.status, 'ok', `healthy again once sound played: ${health.map((h) => h.status).join(' > ')}`);
  assert.is(summary.outcome, 'stopped');
});

test.after(() => {
  server?.kill('SIGTERM');
});
test.run();
