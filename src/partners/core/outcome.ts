/**
 * A partner's outcome for the meeting, from what the stream saw: did it
 * deliver anything, and if not (or not any more), the one problem that
 * explains it, with a line naming the fix. The run decides what to do with
 * it (stderr, exit status); this only tells the truth.
 */
import type { PartnerOutcome, PartnerProblem } from '../status';

export interface OutcomeFacts {
  name: string;
  /** Any audio confirmed (a final, or the end-of-stream answer). */
  delivered: boolean;
  /** The failure that stopped the partner for the meeting, if any. */
  failed?: { problem: PartnerProblem; reason: string };
  /** Connections cut because the partner stopped reading. */
  stalls: number;
  /** Set while no result came for longer than --partner-no-results. */
  noResults?: string;
  /** The stream has ended (close or abort). */
  settled: boolean;
  /** Set when no connection ever opened while the meeting ran. */
  neverConnected?: string;
  sentAudio: boolean;
}

export function outcomeOf(f: OutcomeFacts): PartnerOutcome {
  const { delivered } = f;
  if (f.failed) return { delivered, problem: f.failed.problem, reason: f.failed.reason };
  if (delivered) return { delivered };
  if (f.stalls > 0) return { delivered, problem: 'never_read', reason: `partner ${f.name}: the partner stopped reading the audio - check the partner's health and the network` };
  if (f.noResults) return { delivered, problem: 'no_results', reason: f.noResults };
  if (!f.settled) return { delivered };
  if (f.neverConnected) return { delivered, problem: 'never_connected', reason: f.neverConnected };
  if (f.sentAudio) {
    return { delivered, problem: 'no_results', reason: `partner ${f.name}: no result came back for the whole meeting - check the partner's status, the model and --partner-param` };
  }
  return { delivered };
}
