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
