/**
 * `--metrics ADDR` and the like: a listen address, checked without loading the metrics server
 * (prom-client and its ~80 modules load only for a meeting that serves metrics).
 */
import { UserError } from '../errors';

/** Parses `host:port`, `:port`, `port` or `[v6]:port`; the host defaults to loopback. */
export function parseListenAddress(addr: string, flag = '--metrics'): { host: string; port: number } {
  const m = /^(?:(?:\[([^\]]+)\]|([^:[\]]*)):)?(\d+)$/.exec(addr.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || !(port >= 0 && port <= 65535)) {
    throw new UserError(`${flag} "${addr}" is not an address - use host:port, :port (binds 127.0.0.1) or e.g. 0.0.0.0:9464`);
  }
  return { host: m[1] ?? (m[2] || '127.0.0.1'), port };
}
