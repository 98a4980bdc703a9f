/**
 * The operations side services of a meeting: the metrics server (/metrics,
 * /healthz, /readyz) and the log heartbeat. Both start before ingest, so a
 * bad address fails the start with one line; once running, a fault in either
 * is reported (`onFault`) and never reaches the meeting. The metrics server (prom-client) is
 * loaded only when asked for: most meetings never pay its start-up and memory.
 */
import type { Logger } from 'pino';
import type { RunContext } from '../run/context';
import { startHeartbeat } from './heartbeat';

export interface OpsOptions {
  /** --metrics ADDR (host:port or :port; default host 127.0.0.1). */
  metrics?: string;
  /** --heartbeat: log the thread/process heartbeat this often (ms, > 0). */
  heartbeatMs?: number;
}

export interface Ops {
  /** The metrics base URL, when metrics were asked for. */
  metricsUrl?: string;
  close(): Promise<void>;
}

export async function startOps(opts: OpsOptions, ctx: RunContext, logger: Logger, onFault: (component: string, err: Error) => void): Promise<Ops> {
  const metrics = opts.metrics !== undefined ? await (await import('./metrics')).startMetrics(opts.metrics, ctx, (err) => onFault('metrics', err)) : undefined;
  const heartbeat = opts.heartbeatMs !== undefined ? startHeartbeat(opts.heartbeatMs, ctx, logger) : undefined;
  if (metrics) logger.info({ url: metrics.url }, 'metrics: serving /metrics, /healthz and /readyz');
  return {
    metricsUrl: metrics?.url,
    async close() {
      heartbeat?.stop();
      await metrics?.close();
    },
  };
}
