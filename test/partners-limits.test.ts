/**
 * Network input is size-bounded: a partner (a separate process, so its own
 * memory does not count) that answers with 64 MiB text frames is cut at the
 * frame header (maxPayload 1 MiB), the client's memory stays flat, and the
 * meeting goes on and ends with the partner reported.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { MeetingEvent } from '../src/events';
import { createPartnerSinks, parsePartnerSpecs } from '../src/partners';
import { startChildEmulator, stopChild } from '../bench/partners-child';
import { drive, meeting, quietLogger } from './partners-fixture';

process.env.EARSHOT_LIMITS_KEY = 'limits-key-0000';

test('64 MiB frames from a partner: cut at the header, RSS flat, the meeting goes on', async () => {
  const emu = await startChildEmulator('deepgram', 0, ['flood=64M']);
  try {
    const events: MeetingEvent[] = [];
    const logs: string[] = [];
    const specs = parsePartnerSpecs({ partner: ['deepgram'], 'partner-url': [emu.url], 'partner-key-env': ['EARSHOT_LIMITS_KEY'] });
    const [sink] = createPartnerSinks(specs, { channels: 1, logger: quietLogger(logs), onEvent: (e) => events.push(e), tuning: { backoffBaseMs: 30, closeTimeoutMs: 1500 } });
    const rss0 = process.memoryUsage().rss;
    let peak = rss0;
    const watch = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10);
    await drive([sink!], meeting(8), { speed: 2 });
    await sink!.close();
    clearInterval(watch);
    const st = sink!.status();
    assert.ok(st.reconnects >= 2, `the oversized frames closed the socket (${st.reconnects} reconnects)`);
    assert.ok(peak - rss0 < 48 << 20, `RSS grew ${((peak - rss0) / 1048576).toFixed(1)} MiB`);
    assert.ok(logs.some((l) => /1009|Max payload size exceeded/.test(l)), 'the cause is logged');
  } finally {
    await stopChild(emu);
  }
});

test.run();
