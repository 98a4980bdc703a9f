/**
 * Partners as a meeting sees them. The two entry points: parsePartnerSpecs
 * (flags -> specs, in specs.ts) and createPartnerSinks (specs -> one
 * independent PartnerSink each, sharing one transcripts.jsonl and one
 * redactor that knows every key).
 */
import { UserError } from '../util/duration';
import { PartnerStream, type PartnerSink, type StreamDeps } from './core/stream';
import { Redactor } from './secrets';
import { adapterFor } from './specs';
import { TranscriptWriter } from './transcripts';
import type { PartnerSpec } from './types';

export { adapterFor, parsePartnerSpecs, partnerFlags, partnerUsage, type PartnerFlagValues } from './specs';
export type { PartnerSink } from './core/stream';
export type { PartnerSpec } from './types';
export type { PartnerCodec, PartnerOutcome, PartnerProblem, PartnerState, PartnerStateChange, PartnerStatus, TranscriptSegment } from './status';

/** What a meeting hands its partners: the hooks every stream shares (StreamDeps), its channels and folder. */
export interface PartnerContext
  extends Pick<StreamDeps, 'logger' | 'onEvent' | 'tuning' | 'onSend' | 'onFinal' | 'onTranscript' | 'transcriptOf' | 'onState'> {
  recordDir?: string;
  channels: number;
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
