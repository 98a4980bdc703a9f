/**
 * The emulator's fault plan, given as `--fault SPEC` (repeatable):
 *   reject=401          refuse every handshake with this HTTP status
 *   drop-after=5s       cut the TCP connection (no close frame) after 5 s of audio
 *   close=1011@8s       send a close frame with this code after 8 s of audio
 *   stall=3s[:5s]       stop reading after 3 s of audio (for good, or for 5 s)
 *   slow=32k            read at most 32 kB/s (k and M suffixes)
 * Times are audio seconds received on a session; drop, close and stall fire
 * once per emulator (the first session to get there), so a client's
 * reconnection is served normally.
 */
import { UserError, parseDuration } from '../../util/duration';

export interface FaultPlan {
  reject?: number;
  dropAfterSec?: number;
  close?: { code: number; atSec: number };
  stall?: { atSec: number; forSec?: number };
  slowBytesPerSec?: number;
}

export function parseFaults(specs: string[]): FaultPlan {
  const plan: FaultPlan = {};
  for (const spec of specs) {
    const [k, v = ''] = spec.split('=', 2) as [string, string?];
    const bad = (fix: string) => new UserError(`--fault ${spec}: ${fix}`);
    switch (k) {
      case 'reject': {
        const code = Number(v);
        if (!Number.isInteger(code) || code < 400 || code > 599) throw bad('use reject=401 (an HTTP status 400-599)');
        plan.reject = code;
        break;
      }
      case 'drop-after':
        plan.dropAfterSec = parseDuration(v, '--fault drop-after') / 1000;
        break;
      case 'close': {
        const m = /^(\d{4})@(.+)$/.exec(v);
        if (!m) throw bad('use close=CODE@TIME, e.g. close=1011@8s');
        plan.close = { code: Number(m[1]), atSec: parseDuration(m[2]!, '--fault close') / 1000 };
        break;
      }
      case 'stall': {
        const [at, dur] = v.split(':');
        plan.stall = {
          atSec: parseDuration(at ?? '', '--fault stall') / 1000,
          forSec: dur ? parseDuration(dur, '--fault stall') / 1000 : undefined,
        };
        break;
      }
      case 'slow': {
        const m = /^(\d+(?:\.\d+)?)([kKmM]?)(?:B\/s)?$/.exec(v);
        if (!m) throw bad('use slow=BYTES_PER_SECOND, e.g. slow=32k');
        plan.slowBytesPerSec = Number(m[1]) * (m[2] ? (m[2].toLowerCase() === 'k' ? 1e3 : 1e6) : 1);
        break;
      }
      default:
        throw bad('unknown fault - use reject=401, drop-after=5s, close=1011@8s, stall=3s or slow=32k');
    }
  }
  return plan;
}
