/**
 * A meeting bot's audio with earshot as a library: record the meeting, stream it to a
 * transcription partner, and act on events, transcripts and partner states as they happen.
 *
 *   INPUT=file:samples/speech.wav RECORD=out/bot DEEPGRAM_URL=ws://127.0.0.1:8080/v1/listen \
 *   DEEPGRAM_API_KEY=anything node bot.js
 */
import { startMeeting, UserError } from 'earshot';

async function main(): Promise<number> {
  const record = process.env.RECORD ?? 'recordings/demo-meeting';
  const meeting = await startMeeting({
    // A bot captures the browser's audio through a PulseAudio null sink's monitor.
    input: process.env.INPUT ?? 'pulse:meeting.monitor',
    meetingId: process.env.MEETING_ID ?? 'demo-meeting',
    record,
    partners: [{ provider: 'deepgram', url: process.env.DEEPGRAM_URL, keyEnv: 'DEEPGRAM_API_KEY' }],
    log: { sink: `file:${record}/earshot.log` },
  });
  meeting.on('event', (e) => console.error(`event: ${e.kind} at ${e.t.toFixed(2)} s (${e.durationMs} ms)`));
  meeting.on('transcript', (t) => t.final && console.error(`transcript [${t.start.toFixed(2)}-${t.end.toFixed(2)} s]: ${t.text}`));
  meeting.on('partner', (c) => console.error(`partner ${c.partner}: ${c.from} -> ${c.to}`));
  meeting.on('health', (h) => console.error(`health: ${h.status}${h.problems.length ? ` (${h.problems.join('; ')})` : ''}`));

  // The bot knows when the meeting is over (here: SIGTERM); otherwise it ends with its input.
  process.once('SIGTERM', () => {
    void meeting.stop().then((s) => console.error(`stopped: ${s.durationSec.toFixed(2)} s recorded in ${s.recording?.dir}`));
  });
  const summary = await meeting.finished;
  console.log(JSON.stringify(summary));
  return summary.ok ? 0 : 1;
}

main().then(
  (code) => (process.exitCode = code),
  (err: unknown) => {
    console.error(err instanceof UserError ? `bot: ${err.message}` : err);
    process.exitCode = 2;
  },
);
