/**
 * earshot as a library: `import { startMeeting } from 'earshot'`. This file is the package's
 * public surface and only re-exports: the meeting API, its option, event and summary types, and
 * the error classes. Anything not exported here is internal and may change.
 */
export { startMeeting, Meeting, type MeetingEventMap, type StopOptions } from './run/meeting';
export type {
  Duration,
  LogOptions,
  MeetingOptions,
  PartnerOptions,
  PartnersRequired,
  PriorityOptions,
  RecordExisting,
} from './run/options';
export type { PartnerSummary, RunSummary, ThreadSummary } from './run/summary';
export type { Health, HealthStatus } from './run/health';
export type { EventKind, MeetingEvent } from './events';
export type { PartnerState, PartnerStateChange, TranscriptSegment } from './run/partner-types';
export { EarshotError, UserError, isEarshotError, type ErrorCode, type EarshotErrorOptions } from './errors';
export { VERSION } from './run/version';
