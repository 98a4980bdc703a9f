/**
 * What a partner stream tells the meeting about its partner's health: a
 * message that does not fit the protocol (skipped, counted, logged and
 * evented once), and a partner that stopped delivering (partner_down: key
 * rejected, never read, no results, never connected). Events go to the
 * meeting's event path, which logs them; this logs only what it alone knows.
 */
import type { Logger } from 'pino';
import type { MeetingEvent } from '../../events';
import type { Redactor } from '../secrets';
import type { PartnerProblem } from '../status';

export class Reports {
  badMessages = 0;
  stalls = 0;
  /** Set while no result came for longer than the no-results limit. */
  noResults?: string;

  constructor(
    private readonly name: string,
    private readonly log: Logger,
    private readonly redact: Redactor,
    private readonly onEvent: (e: MeetingEvent) => void,
    /** Seconds on the meeting timeline now (the end of the last frame written). */
    private readonly now: () => number,
  ) {}

  /** A partner message we could not use. */
  badMessage(err: unknown): void {
    if (++this.badMessages > 1) return;
    const error = this.redact.error(err);
    this.log.warn({ error }, 'partner sent a message that does not fit its protocol; skipping it');
    this.onEvent({ t: this.now(), kind: 'partner_bad_message', durationMs: 0, frames: 0, detail: { partner: this.name, error } });
  }

  /** A partner that stopped delivering; `log` when nothing else logs the reason. */
  down(problem: PartnerProblem, reason: string, log: boolean): void {
    if (log) this.log.warn(reason);
    this.onEvent({ t: this.now(), kind: 'partner_down', durationMs: 0, frames: 0, detail: { partner: this.name, problem, reason } });
  }

  stalled(why: string): void {
    this.down('never_read', `partner ${this.name}: ${why} - check the partner's health; reconnecting and replaying`, this.stalls++ === 0);
  }

  /** Called while audio flows; reports once until results come back. */
  silentFor(ms: number, limitMs: number): void {
    if (!limitMs || ms < limitMs || this.noResults) return;
    this.noResults = `partner ${this.name}: no result for ${Math.round(ms / 1000)} s while audio was sent - check the partner's status, the model and --partner-param`;
    this.down('no_results', this.noResults, true);
  }

  resultArrived(): void {
    this.noResults = undefined;
  }
}
