/**
 * A partner's result, timed in seconds of its connection, as a transcript
 * segment on the meeting timeline: connection time -> sent-audio axis (the
 * connection's clock) -> timeline (the replay buffer's map).
 */
import type { TranscriptSegment } from '../status';
import type { PartnerResult } from '../types';
import type { Link } from './link';
import type { ReplayBuffer } from './replay';

const round = (x: number) => Math.round(x * 1000) / 1000;

export function toSegment(
  r: PartnerResult,
  at: { link: Link; buf: ReplayBuffer; name: string; provider: string; sessionId: string | null },
): TranscriptSegment | undefined {
  const { clock } = at.link;
  if (!clock.started) return undefined;
  const time = (sec: number) => at.buf.timeOf(clock.posOf(sec));
  return {
    partner: at.name,
    provider: at.provider,
    sessionId: at.sessionId,
    start: round(time(r.start)),
    end: round(time(r.end)),
    final: r.final,
    ...(r.endOfTurn !== undefined && { endOfTurn: r.endOfTurn }),
    text: r.text,
    ...(r.confidence !== undefined && { confidence: r.confidence }),
    ...(r.speaker !== undefined && { speaker: r.speaker }),
    ...(r.channel !== undefined && { channel: r.channel }),
    ...(r.words && {
      words: r.words.map((w) => ({
        word: w.word,
        start: round(time(w.start)),
        end: round(time(w.end)),
        ...(w.confidence !== undefined && { confidence: w.confidence }),
        ...(w.speaker !== undefined && { speaker: w.speaker }),
      })),
    }),
  };
}

/**
 * What reaches transcripts.jsonl: finals once on the timeline (a replay
 * starts up to one chunk before the last confirmed point, and a partner may
 * repeat itself: what ends before the last final's end is dropped, and a
 * start inside it is moved to it), interims only when asked and only ahead
 * of the last final, and no line for a silent final.
 */
export class TranscriptTimeline {
  private lastFinalEnd = -Infinity;

  accept(seg: TranscriptSegment, interim: boolean): boolean {
    if (seg.end <= this.lastFinalEnd + 0.005) return false;
    if (!seg.final) return interim;
    if (seg.start < this.lastFinalEnd) seg.start = round(this.lastFinalEnd);
    this.lastFinalEnd = seg.end;
    return !!seg.text || !!seg.words?.length;
  }
}
