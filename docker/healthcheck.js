'use strict';
// HEALTHCHECK: 200 from /healthz while audio flows; anything else (503 when
// stalled, no answer) is unhealthy. Reads the same EARSHOT_METRICS as the bot.
const addr = process.env.EARSHOT_METRICS || ':9464';
const port = /(\d+)$/.exec(addr)?.[1] ?? '9464';
fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(2500) }).then(
  (res) => process.exit(res.status === 200 ? 0 : 1),
  () => process.exit(1),
);
