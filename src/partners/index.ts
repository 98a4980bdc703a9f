/**
 * Partners as a meeting sees them. The two entry points: parsePartnerSpecs
 * (flags -> specs, in specs.ts) and createPartnerSinks (specs -> one
 * independent PartnerSink each, sharing one transcripts.jsonl and one
 * redactor that knows every key).
 */
import type { Logger } from 'pino';
import type { MeetingEvent } from '../events';
import { UserError } from '../util/duration';
import type { Tuning } from './core/policy';
import { PartnerStream, type PartnerSink } from './core/stream';
import { Redactor } from './secrets';
import { adapterFor } from './specs';
import type { PartnerStateChange, TranscriptSegment } from './status';
import { TranscriptWriter } from './transcripts';
import type { PartnerSpec } from './types';

export { adapterFor, parsePartnerSpecs, partnerFlags, partnerUsage, type PartnerFlagValues } from './specs';
export type { PartnerSink } from './core/stream';
export type { PartnerSpec } from './types';
export type { PartnerCodec, PartnerOutcome, PartnerProblem, PartnerState, PartnerStateChange, PartnerStatus, TranscriptSegment } from './status';

export interface PartnerContext {
  recordDir?: string;
  channels: number;
  logger: Logger;
  onEvent(e: MeetingEvent): void;
  /** Tests and benches: shorter backoff, timeouts. */
  tuning?: Partial<Tuning>;
  onSend?(latencyMs: number, bytes: number): void;
  onFinal?(start: number, end: number, sessionId: string | null): void;
  /** Every transcript segment as it arrives (also written to transcripts.jsonl when recording). */
  onTranscript?(t: TranscriptSegment): void;
  /** What a segment becomes before it is written and given (speaker attribution). */
  transcriptOf?(t: TranscriptSegment): TranscriptSegment;
  /** Connection state changes of each partner, with the reason. */
  onState?(change: PartnerStateChange): void;
}

export function createPartnerSinks(specs: PartnerSpec[], ctx: PartnerContext): PartnerSink[] {
  if (specs.length === 0) return [];
  const redact = new Redactor();
  for (const s of specs) redact.add(s.key);
  const adapters = specs.map((spec) => {
    const adapter = adapterFor(spec, ctx.channels);
    const ch = adapter.codec.channels;
    if (adapter.codec.name === 'linear16' && ch !== 1 && ch !== ctx.channels) {
      throw new UserError(`--partner ${spec.name}: channels=${ch} but the meeting has ${ctx.channels} - use ${spec.name}.channels=1 or ${ctx.channels}`);
    }
    return adapter;
  });
  const transcripts = ctx.recordDir ? TranscriptWriter.inDir(ctx.recordDir) : undefined;
  let open = specs.length;
  return specs.map((spec, i) => {
    const stream = new PartnerStream({
      spec,
      adapter: adapters[i]!,
      sourceChannels: ctx.channels,
      logger: ctx.logger.child({ partner: spec.name }),
      onEvent: ctx.onEvent,
      transcripts,
      redact,
      tuning: ctx.tuning,
      onSend: ctx.onSend,
      onFinal: ctx.onFinal,
      onTranscript: ctx.onTranscript,
      transcriptOf: ctx.transcriptOf,
      onState: ctx.onState,
    });
    // The shared transcripts file closes with the last partner.
    let last: Promise<void> | undefined;
    const closeFile = () => (last ??= --open === 0 ? (transcripts?.close() ?? Promise.resolve()) : Promise.resolve());
    const close = stream.close.bind(stream);
    const abort = stream.abort.bind(stream);
    stream.close = () => close().then(closeFile);
    stream.abort = () => {
      abort();
      void closeFile();
    };
    return stream;
  });
}
