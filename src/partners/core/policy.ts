/**
 * The reconnect policy: what a connection's end means (retry now, later, or
 * never) and how long to wait. Providers give their own reading of their
 * close codes and error frames (adapter.classify); what they leave undecided
 * falls to the generic reading of HTTP statuses and RFC 6455 codes here.
 */
import type { Ending, Verdict } from '../types';

export interface Tuning {
  /** First reconnect delay and cap (ms); the delay doubles with full jitter. */
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** Delay floor for "later" failures (rate limits, concurrency). */
  slowRetryMs: number;
  /** Consecutive connections that end before confirming anything, then give up. */
  maxFailures: number;
  /** Stop sending while the socket holds more than this (bytes). */
  highWaterBytes: number;
  /** A ping unanswered for this long means the partner stopped reading (ms). */
  stallMs: number;
  /** How often to ping an open socket (ms). */
  pingMs: number;
  /** Bound on close(): drain + handshake (ms). */
  closeTimeoutMs: number;
  /** Handshake timeout (ms). */
  connectTimeoutMs: number;
  /** Tests: KeepAlive after this much silence instead of the provider's own figure (ms). */
  keepAliveMs?: number;
}

export const DEFAULT_TUNING: Tuning = {
  backoffBaseMs: 250,
  backoffMaxMs: 10_000,
  slowRetryMs: 15_000,
  maxFailures: 8,
  highWaterBytes: 256 * 1024,
  stallMs: 8_000,
  pingMs: 2_000,
  closeTimeoutMs: 15_000,
  connectTimeoutMs: 10_000,
};

/** The generic reading, for what a provider does not decide itself. */
export function genericVerdict(e: Ending): Verdict {
  if (e.http !== undefined) {
    if (e.http === 401 || e.http === 403) return { retry: 'never', problem: 'key_rejected' };
    if (e.http === 400 || e.http === 404 || e.http === 422) return { retry: 'never', problem: 'refused' };
    if (e.http === 429 || e.http === 402) return { retry: 'later' };
    return { retry: 'now' };
  }
  if (!e.opened) return { retry: 'now' }; // DNS, refused, TLS, timeouts: retried at the capped backoff
  switch (e.code) {
    case 4001:
    case 4003:
      return { retry: 'never', problem: 'key_rejected' };
    case 1008: // policy violation: permanent unless the provider says otherwise
    case 1003:
    case 1007:
      return { retry: 'never', problem: 'refused' };
    case 1013:
    case 4029:
      return { retry: 'later' };
    default:
      return { retry: 'now' }; // 1000 unasked, 1001, 1006, 1011, 1012, network errors
  }
}

export function verdictFor(e: Ending, provider?: (e: Ending) => Verdict | undefined): Verdict {
  return provider?.(e) ?? genericVerdict(e);
}

/** Text to match a provider's reason and error frame against. */
export function endingText(e: Ending): string {
  return `${e.reason ?? ''} ${e.error?.code ?? ''} ${e.error?.message ?? ''}`.toLowerCase();
}

/** The fix a user needs for a permanent failure. */
export function hintFor(problem: 'key_rejected' | 'refused', keySource: string | undefined): string {
  return problem === 'key_rejected'
    ? `the partner refused the key - check ${keySource ?? '--partner-key-env'}`
    : 'the partner refused the stream - check --partner-url, --partner-param and --partner-codec';
}

/**
 * Delay before the next attempt: exponential with jitter, growing with the
 * attempts since the last successful handshake; "later" failures wait at
 * least slowRetryMs (15 s: above every provider's documented minimum, Speechmatics' 5-10 s).
 */
export function backoffMs(step: number, v: Verdict, t: Tuning, random = Math.random): number {
  const base = v.retry === 'later' ? t.slowRetryMs : t.backoffBaseMs;
  const cap = Math.max(base, t.backoffMaxMs);
  const exp = Math.min(cap, base * 2 ** Math.max(0, step - 1));
  return v.retry === 'later' ? base + random() * exp : exp / 2 + (random() * exp) / 2;
}
