/**
 * `earshot/participants`: a meeting of participants from the meeting page - its control plane
 * (PageMeeting), transcripts per speaker (ParticipantPartners: a connection each, or one
 * multichannel connection; participantPartners), and the capture script.
 */
export { PageMeeting, type PageMeetingOptions, type ParticipantSummary } from './meeting';
export { ParticipantPartners, participantPartners, type ParticipantPartnersOptions, type ParticipantPartnerStatus } from './partners';
export { captureScript, type CaptureScriptOptions } from '../page';
