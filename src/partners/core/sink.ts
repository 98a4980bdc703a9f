/**
 * The stream's faces: what the meeting holds (PartnerSink) and what the
 * stream is built from (StreamDeps: the spec, the provider's adapter, and
 * where its reports go).
 */
import type { Logger } from 'pino';
import type { MeetingEvent } from '../../events';
import type { FrameSink } from '../../sinks/sink';
import type { Redactor } from '../secrets';
import type { PartnerStateChange, PartnerStatus, TranscriptSegment } from '../status';
import type { TranscriptWriter } from '../transcripts';
import type { Adapter, PartnerSpec } from '../types';
import type { Tuning } from './policy';

export interface PartnerSink extends FrameSink {
  status(): PartnerStatus;
  /** The error that stopped this partner for good, if any (already redacted). */
  error(): string | undefined;
  /** Stops at once: sockets cut, timers cleared, what was not confirmed accounted as gaps. */
  abort(): void;
}

export interface StreamDeps {
  spec: PartnerSpec;
  adapter: Adapter;
  /** Channels of the frames we are given. */
  sourceChannels: number;
  logger: Logger;
  onEvent(e: MeetingEvent): void;
  transcripts?: TranscriptWriter;
  redact: Redactor;
  /** Tests and benches: shorter backoff, timeouts. */
  tuning?: Partial<Tuning>;
  /** Latency samples (ms, capture -> send) for benches; off by default. */
  onSend?(latencyMs: number, bytes: number): void;
  /** Every final as mapped to the timeline, silence included (benches). */
  onFinal?(start: number, end: number, sessionId: string | null): void;
  /** Every transcript segment as it arrives (also written to transcripts.jsonl when recording). */
  onTranscript?(t: TranscriptSegment): void;
  /** What a segment becomes before it is written and given (a multichannel feed names the channel's speaker). */
  transcriptOf?(t: TranscriptSegment): TranscriptSegment;
  /** Connection state changes, with the reason. */
  onState?(change: PartnerStateChange): void;
}
