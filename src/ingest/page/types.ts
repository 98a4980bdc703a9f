/** What a page input reports about its participants (types only: part of the package's public summary). */

export type Presence = 'live' | 'muted' | 'left';

export interface ParticipantInfo {
  participant: string;
  presence: Presence;
  tracks: number;
  /** Samples the browser concealed for this participant (upstream losses). */
  upstreamConcealedSamples: number;
}

/** One participant in summary.json. */
export interface ParticipantSummary extends ParticipantInfo {
  /** Its recording (participants/<name>/audio.opus), when recording. */
  file?: string;
  dropouts: number;
  concealedSamples: number;
  /** Audio that arrived after its time was framed (dropped), and holes the page's audio skipped (zero-filled). */
  lateSamples: number;
  holeSamples: number;
}
