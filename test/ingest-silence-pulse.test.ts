/**
 * The capture watchdog on a real Pulse monitor: a meeting capturing a PulseAudio null sink's
 * monitor where nothing plays gets digital silence, which is capture_silent after the configured
 * time and a degraded meeting; a sound played into the sink makes it healthy again.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { startMeeting, type Health, type MeetingEvent } from '../src';
import { SPEECH } from './fixtures/audio';
import { startPulse, type PulseServer } from './fixtures/pulse';

let pulse: PulseServer | undefined;

test.before(async () => {
  pulse = await startPulse();
});

test('a Pulse monitor delivering only digital silence is capture_silent and degraded; sound makes it healthy again', async () => {
  assert.ok(pulse, 'pulseaudio runs (test/prereqs.sh installs it)');
  const env = pulse!.env;
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
  pulse?.stop();
});
test.run();
