/**
 * Transcripts per speaker, two ways. `each`: for each participant that appears, the meeting's
 * partner specs are opened again under `<partner>@<participant>`, fed that participant's stream
 * (on the meeting timeline, silence where absent), and every segment they return carries the
 * participant as its speaker; transcripts are written beside the participant's recording
 * (participants/<name>/transcripts.jsonl) when recording. `multichannel`: each partner is
 * opened once, every participant a channel of its own (multichannel.ts), the speaker found from
 * the result's channel; transcripts go to the meeting's transcripts.jsonl.
 *
 * Every connection is listed with the participant(s) it carries (`statuses()`), so the summary
 * shows them beside the mix's partners.
 */
import { join } from 'node:path';
import type { Logger } from 'pino';
import { createPartnerSinks, type PartnerContext, type PartnerSink, type PartnerSpec, type PartnerStatus, type TranscriptSegment } from '../partners';
import type { FrameSink } from '../sinks/sink';
import { MultichannelFeed } from './multichannel';
import { safeName } from './names';

export interface ParticipantPartnersOptions extends Omit<PartnerContext, 'channels' | 'recordDir' | 'onTranscript' | 'transcriptOf'> {
  specs: PartnerSpec[];
  recordDir?: string;
  onTranscript?(t: TranscriptSegment & { speaker: string }): void;
}

/** A participant's partner connection: whom it carries (`participant`, or `participants` by channel). */
export type ParticipantPartnerStatus = PartnerStatus & { participant?: string; participants?: string[] };

export class ParticipantPartners {
  private readonly each: { participant: string; sinks: PartnerSink[] }[] = [];
  private readonly multi?: MultichannelFeed;

  /** `slots`: with multichannel, the channel slots of each connection; else a connection per participant. */
  constructor(
    private readonly o: ParticipantPartnersOptions,
    multichannel?: { slots: number; log: Logger },
  ) {
    if (multichannel) {
      // Its transcripts reach the meeting's transcripts.jsonl through onTranscript, speaker attributed.
      this.multi = new MultichannelFeed({
        ...o,
        recordDir: undefined,
        ...multichannel,
        onTranscript: (t) => o.onTranscript?.(t as TranscriptSegment & { speaker: string }),
      });
    }
  }

  /** The sinks of one participant's stream. */
  participantSinks(participant: string): FrameSink[] {
    if (this.multi) return this.multi.participantSink(participant);
    const o = this.o;
    const sinks = createPartnerSinks(
      o.specs.map((s) => ({ ...s, name: `${s.name}@${participant}` })),
      {
        ...o,
        channels: 1,
        ...(o.recordDir && { recordDir: join(o.recordDir, 'participants', safeName(participant)) }),
        onTranscript: (t) => o.onTranscript?.({ ...t, speaker: participant }),
      },
    );
    this.each.push({ participant, sinks });
    return sinks;
  }

  /** The sinks of the mixed meeting (the multichannel feed: it sends a frame per mixed frame). */
  get mixSinks(): FrameSink[] {
    return this.multi ? [this.multi.mixSink] : [];
  }

  statuses(): ParticipantPartnerStatus[] {
    if (this.multi) return this.multi.partners.map((p) => ({ ...p.status(), participants: [...this.multi!.slots] }));
    return this.each.flatMap((e) => e.sinks.map((s) => ({ ...s.status(), participant: e.participant })));
  }

  /** Stops every connection at once (the meeting was told not to wait). */
  abort(): void {
    for (const p of this.multi?.partners ?? this.each.flatMap((e) => e.sinks)) p.abort();
  }
}

/** A partner connection per participant (`each`), as a PageMeeting's `participantSinks`. */
export function participantPartners(o: ParticipantPartnersOptions): (participant: string) => FrameSink[] {
  const p = new ParticipantPartners(o);
  return (participant) => p.participantSinks(participant);
}
