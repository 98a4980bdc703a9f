'use strict';
// HEALTHCHECK: 200 from /healthz while audio flows; anything else (503 when
// stalled, no answer) is unhealthy. Reads the same EARSHOT_METRICS as the bot.
// A queue bot (EARSHOT_QUEUE) serves /healthz only while it runs a meeting:
// between meetings nothing listens, and that is a bot waiting, not a sick one
// (a bot that died has ended the container; a meeting's own stalls still answer 503).
const addr = process.env.EARSHOT_METRICS || ':9464';
const port = /(\d+)$/.exec(addr)?.[1] ?? '9464';
const waiting = (err) => !!process.env.EARSHOT_QUEUE && err?.cause?.code === 'ECONNREFUSED';
fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(2500) }).then(
  (res) => process.exit(res.status === 200 ? 0 : 1),
  (err) => process.exit(waiting(err) ? 0 : 1),
);
