/** The partners' status types as the meeting handle passes them on (they belong to src/partners/status.ts). */
export type { PartnerOutcome, PartnerProblem, PartnerState, PartnerStateChange, PartnerStatus, TranscriptSegment } from '../partners/status';
