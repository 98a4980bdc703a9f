/**
 * What a running meeting exposes to the control plane (metrics, heartbeat,
 * health checks, summary). Read-only views; nothing here touches the audio.
 */
import type { LoopDelay } from '../util/loop-delay';
import type { EventKind } from '../events';
import type { LogStats } from '../logging/sink';
import type { RtStats } from '../realtime/stats';
import type { Health } from './health';

/** Owned by the partners (src/partners/status.ts). */
export type { PartnerStatus } from '../partners/status';
import type { PartnerStatus } from '../partners/status';

export type { LogStats };

/** The health of a context that reports only ready() and healthy(). */
export function healthOf(ctx: RunContext): Health {
  if (ctx.health) return ctx.health();
  const ready = ctx.ready();
  return { status: !ready ? 'starting' : ctx.healthy() ? 'ok' : 'stalled', ready, problems: [] };
}

export interface RunContext {
  /** For earshot_meeting_info, when the meeting has an id. */
  readonly meetingId?: string;
  /** Wall-clock start of the run (ms since epoch). */
  readonly startedAt: number;
  readonly stats: RtStats;
  readonly ringSlots: number;
  ringFill(): number;
  /** Kernel tid -> role ('audio', 'main', ...) for the threads we own. */
  threadRoles(): Map<number, string>;
  partners(): PartnerStatus[];
  log(): LogStats;
  /** Main-thread event-loop delay since the meeting started running (beyond the monitor's own period). */
  readonly eventLoopDelay: LoopDelay;
  eventCounts(): Partial<Record<EventKind, number>>;
  /** True once ingest has started delivering audio. */
  ready(): boolean;
  /** True while frames are being published (the last within the stall window). */
  healthy(): boolean;
  /** The whole picture: status and the components that are down (else derived from ready/healthy). */
  health?(): Health;
}
