/**
 * A partner connection's state: one discriminated union (discord.js voice
 * style), each state carrying only the data that exists in it, instead of
 * flags that can disagree. Transitions go through PartnerStream.to(), which
 * reports each change (onState) with its reason.
 */
import type { PartnerProblem, PartnerState } from '../status';
import type { Link } from './link';

export type ConnState =
  | { status: 'connecting'; link: Link }
  | { status: 'open'; link: Link }
  /** Our end-of-stream message is out; waiting for the partner's answer. */
  | { status: 'closing'; link: Link }
  | { status: 'backoff'; timer: NodeJS.Timeout }
  | { status: 'done' }
  | { status: 'failed'; problem: PartnerProblem; reason: string; lostFrom: number }
  | { status: 'closed' };

export type { PartnerState };

/** The link of a state that has one. */
export function linkOf(s: ConnState): Link | undefined {
  return 'link' in s ? s.link : undefined;
}

/** States after which nothing more is sent. */
export function isFinal(s: ConnState): boolean {
  return s.status === 'done' || s.status === 'failed' || s.status === 'closed';
}
