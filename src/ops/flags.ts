/**
 * The operations flags of `earshot run`, for its parseArgs options, and the
 * one call that starts what they ask for.
 */
import type { Logger } from 'pino';
import type { RunContext } from '../run/context';
import { parseDuration } from '../util/duration';
import { startHeartbeat } from './heartbeat';
import { parseListenAddress, startMetrics } from './metrics';

export const opsFlags = {
  /** --metrics ADDR: serve /metrics, /healthz, /readyz (host:port or :port; default host 127.0.0.1). */
  metrics: { type: 'string' },
  /** --heartbeat DUR: log the thread/process heartbeat every DUR (e.g. 10s). */
  heartbeat: { type: 'string' },
} as const;

export interface OpsOptions {
  metrics?: string;
  heartbeat?: string;
}

/** Checks the flags before anything starts, so a typo fails the run up front. */
export function validateOpsFlags(opts: OpsOptions): void {
  if (opts.metrics !== undefined) parseListenAddress(opts.metrics);
  if (opts.heartbeat !== undefined) parseDuration(opts.heartbeat, '--heartbeat');
}

export interface Ops {
  /** The metrics base URL, when --metrics was given. */
  metricsUrl?: string;
  close(): Promise<void>;
}

export async function startOps(opts: OpsOptions, ctx: RunContext, logger: Logger): Promise<Ops> {
  validateOpsFlags(opts);
  const metrics = opts.metrics !== undefined ? await startMetrics(opts.metrics, ctx) : undefined;
  const heartbeat = opts.heartbeat !== undefined ? startHeartbeat(parseDuration(opts.heartbeat, '--heartbeat'), ctx, logger) : undefined;
  if (metrics) logger.info({ url: metrics.url }, 'metrics: serving /metrics, /healthz and /readyz');
  return {
    metricsUrl: metrics?.url,
    async close() {
      heartbeat?.stop();
      await metrics?.close();
    },
  };
}
