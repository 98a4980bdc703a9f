/**
 * Transcripts per speaker, one partner connection per participant: for each participant that
 * appears, the meeting's partner specs are opened again under `<partner>@<participant>`, fed
 * that participant's stream (on the meeting timeline, silence where absent), and every segment
 * they return carries the participant as its speaker. Transcripts are written beside the
 * participant's recording (participants/<name>/transcripts.jsonl) when recording.
 * (A provider's multichannel mode - Deepgram's `multichannel` - is the other way, not built yet.)
 */
import { join } from 'node:path';
import { createPartnerSinks, type PartnerContext, type PartnerSpec, type TranscriptSegment } from '../partners';
import type { FrameSink } from '../sinks/sink';
import { safeName } from './names';

export interface ParticipantPartnersOptions extends Omit<PartnerContext, 'channels' | 'recordDir' | 'onTranscript'> {
  specs: PartnerSpec[];
  recordDir?: string;
  onTranscript?(t: TranscriptSegment & { speaker: string }): void;
}

export function participantPartners(o: ParticipantPartnersOptions): (participant: string) => FrameSink[] {
  return (participant) =>
    createPartnerSinks(
      o.specs.map((s) => ({ ...s, name: `${s.name}@${participant}` })),
      {
        ...o,
        channels: 1,
        ...(o.recordDir && { recordDir: join(o.recordDir, 'participants', safeName(participant)) }),
        onTranscript: (t) => o.onTranscript?.({ ...t, speaker: participant }),
      },
    );
}
