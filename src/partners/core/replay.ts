/**
 * The replay buffer and its timeline map. Chunks sit on one "sent-audio"
 * axis (positions in samples at the partner's rate, contiguous across the
 * whole meeting) and stay until a final result covers them, so a new
 * connection can replay from the last confirmed point. The map takes a
 * position on that axis back to meeting-timeline seconds (a new anchor
 * wherever the timeline jumps). Bounded: past `capSamples` the oldest chunks
 * go, and what went unconfirmed is remembered so the loss is reported with
 * its true cause.
 */
import type { NewChunk } from './chunker';

export interface Chunk extends NewChunk {
  id: number;
  /** Position on the sent-audio axis. */
  pos: number;
  sent: boolean;
}

interface Anchor {
  pos: number;
  at: number;
}

export class ReplayBuffer {
  private chunks: Chunk[] = [];
  private head = 0;
  private anchors: Anchor[] = [];
  nextId = 0;
  /** End of the audio produced so far, on the sent axis. */
  producedPos = 0;
  bufferedSamples = 0;
  /** Everything before this position was confirmed by the partner. */
  confirmedPos = 0;
  /** Unconfirmed audio before this position was evicted by the cap (0: none ever). */
  evictedTo = 0;

  constructor(
    readonly rate: number,
    private readonly capSamples: number,
  ) {}

  push(c: NewChunk): void {
    const last = this.anchors[this.anchors.length - 1];
    if (!last || Math.abs(last.at + (this.producedPos - last.pos) / this.rate - c.t) > 0.5 / this.rate) {
      this.anchors.push({ pos: this.producedPos, at: c.t });
    }
    this.chunks.push({ ...c, id: this.nextId++, pos: this.producedPos, sent: false });
    this.producedPos += c.samples;
    this.bufferedSamples += c.samples;
    // Bounded: the oldest audio goes first, and is remembered if it was never confirmed.
    while (this.bufferedSamples > this.capSamples && this.head < this.chunks.length) {
      const old = this.chunks[this.head]!;
      if (old.pos + old.samples > this.confirmedPos) this.evictedTo = old.pos + old.samples;
      this.drop();
    }
    this.compact();
  }

  /** Frees the sent chunks that finals have covered. */
  confirm(upTo: number): void {
    if (upTo > this.confirmedPos) this.confirmedPos = upTo;
    while (this.head < this.chunks.length) {
      const c = this.chunks[this.head]!;
      if (!c.sent || c.pos + c.samples > this.confirmedPos) break;
      this.drop();
    }
    this.compact();
  }

  /** Nothing more will be sent (a failed partner): free everything. */
  clear(): void {
    this.chunks = [];
    this.head = 0;
    this.bufferedSamples = 0;
  }

  byId(id: number): Chunk | undefined {
    const first = this.chunks[this.head];
    return first ? this.chunks[this.head + (id - first.id)] : undefined;
  }

  firstId(): number {
    return this.chunks[this.head]?.id ?? this.nextId;
  }

  /** The first chunk not fully confirmed: where a new connection starts. */
  replayFrom(): number {
    let id = this.firstId();
    while (id < this.nextId && this.byId(id)!.pos + this.byId(id)!.samples <= this.confirmedPos) id++;
    return id;
  }

  /** Start position of chunk `id` (producedPos past the end). */
  posOf(id: number): number {
    return this.byId(id)?.pos ?? this.producedPos;
  }

  /** Timeline seconds of a position on the sent axis. */
  timeOf(pos: number): number {
    const as = this.anchors;
    let i = as.length - 1;
    while (i > 0 && as[i]!.pos > pos) i--;
    const a = as[i];
    return a ? a.at + (pos - a.pos) / this.rate : 0;
  }

  private drop(): void {
    this.bufferedSamples -= this.chunks[this.head]!.samples;
    this.chunks[this.head++] = undefined as unknown as Chunk;
  }

  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.chunks.length) {
      this.chunks = this.chunks.slice(this.head);
      this.head = 0;
    }
  }
}

/**
 * One connection's clock: the partner counts time from the first sample it
 * got on this connection; where the buffer skipped audio under us the
 * partner's clock runs on while the sent axis jumps.
 */
export class ConnectionClock {
  private anchors: Anchor[] = [];
  /** Samples sent on this connection, and the sent-axis end of the last one (-1: none yet). */
  sent = 0;
  lastEnd = -1;

  constructor(private readonly rate: number) {}

  /** Records a chunk about to be sent; returns the sent-axis span it skipped, if any. */
  sending(pos: number, samples: number): { from: number; to: number } | undefined {
    let skipped: { from: number; to: number } | undefined;
    if (pos !== this.lastEnd) {
      if (this.lastEnd >= 0 && pos > this.lastEnd) skipped = { from: this.lastEnd, to: pos };
      this.anchors.push({ pos: this.sent, at: pos });
    }
    this.sent += samples;
    this.lastEnd = pos + samples;
    return skipped;
  }

  /** Connection seconds -> sent-axis position. */
  posOf(sec: number): number {
    const cs = sec * this.rate;
    const as = this.anchors;
    let i = as.length - 1;
    while (i > 0 && as[i]!.pos > cs) i--;
    const a = as[i];
    return a ? a.at + (cs - a.pos) : 0;
  }

  get started(): boolean {
    return this.anchors.length > 0;
  }
}
