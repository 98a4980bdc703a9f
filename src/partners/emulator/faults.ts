/**
 * The emulator's fault plan, given as `--fault SPEC` (repeatable):
 *   reject=401          refuse every handshake with this HTTP status (400-599)
 *   rate-limit=2        refuse the first 2 connections as the provider's rate limit
 *   drop-after=5s       cut the TCP connection (no close frame) after 5 s of audio
 *   close=1011@8s       send a close frame with this code after 8 s of audio
 *   stall=3s[:5s]       stop reading after 3 s of audio (for good, or for 5 s)
 *   slow=32k            read at most 32 kB/s (k and M suffixes)
 *   malformed=2s        send one message that breaks the protocol's shape after 2 s of audio
 *   flood=64M           send one text frame of this size on each session after 1 s of audio
 * Times are audio seconds received on a session; drop, close, stall and
 * malformed fire once per emulator (the first session to get there), so a
 * client's reconnection is served normally. Every spec is checked here, so a
 * bad one is one clear line at start-up, never a crash when it fires.
 */
import { UserError, parseDuration } from '../../util/duration';

export interface FaultPlan {
  reject?: number;
  rateLimit?: number;
  dropAfterSec?: number;
  close?: { code: number; atSec: number };
  stall?: { atSec: number; forSec?: number };
  slowBytesPerSec?: number;
  malformedAtSec?: number;
  floodBytes?: number;
}

export const FAULT_USAGE = 'reject=401, rate-limit=2, drop-after=5s, close=1011@8s, stall=3s[:5s], slow=32k, malformed=2s or flood=64M';

/** Close codes an endpoint may send (RFC 6455 §7.4): 1000-1003, 1007-1014, 3000-4999. */
export function sendableCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

function bytes(v: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)([kKmM]?)(?:B|B\/s)?$/.exec(v);
  if (!m) return undefined;
  return Math.round(Number(m[1]) * (m[2] ? (m[2].toLowerCase() === 'k' ? 1024 : 1024 * 1024) : 1));
}

export function parseFaults(specs: string[]): FaultPlan {
  const plan: FaultPlan = {};
  for (const spec of specs) {
    const eq = spec.indexOf('=');
    const k = eq < 0 ? spec : spec.slice(0, eq);
    const v = eq < 0 ? '' : spec.slice(eq + 1);
    const bad = (fix: string) => new UserError(`--fault ${spec}: ${fix}`);
    const seconds = (text: string, example: string) => {
      try {
        return parseDuration(text, `--fault ${k}`) / 1000;
      } catch {
        throw bad(`"${text}" is not a duration - use e.g. ${example}`);
      }
    };
    switch (k) {
      case 'reject': {
        const code = Number(v);
        if (!/^\d+$/.test(v) || code < 400 || code > 599) throw bad('use reject=401 (an HTTP status 400-599)');
        plan.reject = code;
        break;
      }
      case 'rate-limit': {
        if (!/^\d+$/.test(v) || Number(v) < 1) throw bad('use rate-limit=N (the first N connections are refused as rate-limited)');
        plan.rateLimit = Number(v);
        break;
      }
      case 'drop-after':
        plan.dropAfterSec = seconds(v, 'drop-after=5s');
        break;
      case 'close': {
        const m = /^(\d{4})@(.+)$/.exec(v);
        if (!m) throw bad('use close=CODE@TIME, e.g. close=1011@8s');
        const code = Number(m[1]);
        if (!sendableCloseCode(code)) throw bad(`${m[1]} is not a close code an endpoint may send - use 1000-1003, 1007-1014 or 3000-4999`);
        plan.close = { code, atSec: seconds(m[2]!, 'close=1011@8s') };
        break;
      }
      case 'stall': {
        const [at, dur] = v.split(':');
        plan.stall = { atSec: seconds(at ?? '', 'stall=3s'), forSec: dur ? seconds(dur, 'stall=3s:5s') : undefined };
        break;
      }
      case 'slow': {
        const n = bytes(v);
        if (!n) throw bad('use slow=BYTES_PER_SECOND, e.g. slow=32k');
        plan.slowBytesPerSec = n;
        break;
      }
      case 'malformed':
        plan.malformedAtSec = seconds(v, 'malformed=2s');
        break;
      case 'flood': {
        const n = bytes(v);
        if (!n || n > 512 * 1024 * 1024) throw bad('use flood=SIZE up to 512M, e.g. flood=64M');
        plan.floodBytes = n;
        break;
      }
      default:
        throw bad(`unknown fault - use ${FAULT_USAGE}`);
    }
  }
  return plan;
}
