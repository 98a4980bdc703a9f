/**
 * `earshot/participants`: a meeting of participants from the meeting page - its control plane
 * (PageMeeting), transcripts per speaker (participantPartners), and the capture script.
 */
export { PageMeeting, type PageMeetingOptions, type ParticipantSummary } from './meeting';
export { participantPartners, type ParticipantPartnersOptions } from './partners';
export { captureScript, type CaptureScriptOptions } from '../page';
