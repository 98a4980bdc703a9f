/**
 * Offline analysis of one channel (placeholder interface; the detector issue
 * fills it in). Samples are floats in [-1, 1), pushed in blocks of any size;
 * state is bounded so that archives stream through in constant memory.
 */
export type DetectKind = 'click' | 'dropout' | 'discontinuity' | 'repeat' | 'clipping';

export interface DetectEvent {
  kind: DetectKind;
  startSec: number;
  endSec: number;
  channel: number;
  score: number;
}

export interface DetectOptions {
  /** Multiplies every detection threshold's strictness: >1 finds more, <1 fewer. Default 1. */
  sensitivity?: number;
  /** Bits of the source's integer samples (for full-scale and digital-silence tests); 0 for float. */
  bitsPerSample?: number;
}

export class ChannelAnalyzer {
  constructor(
    readonly sampleRate: number,
    readonly channel: number,
    readonly opts: DetectOptions = {},
  ) {}

  push(_block: Float32Array): void {}

  finish(): DetectEvent[] {
    return [];
  }
}
