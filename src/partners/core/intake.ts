/**
 * A partner's results in, transcript lines out. Each result becomes a
 * segment on the meeting timeline stamped with the connection's session; a
 * final one confirms the audio it covers in the replay buffer (with result
 * channels apart, only up to the earliest channel's last final: a channel
 * that has not caught up still needs its audio on a replay), and a segment
 * is written and given once it has its place on its channel's timeline.
 */
import type { PartnerResult } from '../types';
import type { Link } from './link';
import type { ReplayBuffer } from './replay';
import { TranscriptTimeline, toSegment } from './results';
import type { StreamDeps } from './sink';

export class ResultIntake {
  private readonly timelines: TranscriptTimeline[];
  /** Each result channel's last final end (s of its connection). */
  private readonly finalEnds: number[];
  /** The current connection's session, stamped on its segments. */
  private session: string | null = null;
  private readonly sessions: string[] = [];

  constructor(private readonly d: StreamDeps, private readonly buf: ReplayBuffer) {
    this.timelines = Array.from({ length: d.adapter.resultChannels ?? 1 }, () => new TranscriptTimeline());
    this.finalEnds = this.timelines.map(() => 0);
  }

  /** A new connection: its seconds start again at 0, and it has no session yet. */
  newConnection(): void {
    this.finalEnds.fill(0);
    this.session = null;
  }

  /** A session id the partner gave: `current` when it names this connection's (a message), not only a handshake's. */
  sessionNamed(id: string, current: boolean): void {
    if (current) this.session = id;
    if (!this.sessions.includes(id)) this.sessions.push(id);
  }

  sessionIds(): string[] {
    return [...this.sessions];
  }

  /** One result on `link`; returns whether it was a final that confirmed audio. */
  take(link: Link, r: PartnerResult): boolean {
    const { d } = this;
    const seg = toSegment(r, { link, buf: this.buf, name: d.spec.name, provider: d.adapter.provider, sessionId: this.session });
    if (!seg) return false;
    if (r.final) {
      d.onFinal?.(seg.start, seg.end, this.session);
      link.confirmed = true;
      this.buf.confirm(Math.min(link.clock.posOf(this.confirmedEnd(r.end, r.channel)), link.clock.lastEnd));
    }
    const timeline = this.timelines[r.channel ?? 0] ?? this.timelines[0]!;
    if (timeline.accept(seg, d.spec.interim)) {
      const out = d.transcriptOf?.(seg) ?? seg;
      d.transcripts?.write(out);
      d.onTranscript?.(out);
    }
    return r.final;
  }

  /** The connection time confirmed by a final ending at `end`: with channels apart, the earliest channel's last final. */
  private confirmedEnd(end: number, channel: number | undefined): number {
    if (this.finalEnds.length === 1) return end;
    const c = channel ?? 0;
    if (c < this.finalEnds.length) this.finalEnds[c] = Math.max(this.finalEnds[c]!, end);
    return Math.min(...this.finalEnds);
  }
}
