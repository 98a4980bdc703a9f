/**
 * What the detector reads: an audio file opened as per-channel float blocks,
 * whichever decoder (our WAV reader or ffmpeg) produced them.
 */
import { UserError } from '../util/duration';

export interface AudioInfo {
  sampleRate: number;
  channels: number;
  /** Bits of the source's integer samples (for full-scale tests); 0 for float sources. */
  bitsPerSample: number;
  /** Frames (samples per channel) when the container says so up front; undefined when streaming. */
  frames: number | undefined;
  /** Human description for messages, e.g. "WAV 24-bit PCM" or "ffmpeg: flac". */
  codec: string;
}

export interface AudioSource {
  readonly info: AudioInfo;
  /**
   * Yields one Float32Array per channel per block (equal lengths, samples in
   * [-1, 1) for integer sources; float sources pass through unclamped). Each
   * block is freshly allocated: a consumer may keep it.
   */
  blocks(): AsyncGenerator<Float32Array[]>;
  /** Fraction of the input consumed so far (0..1), NaN when the total is unknown. */
  progress(): number;
  close(): Promise<void>;
}

/**
 * An input the detector cannot read: one line naming the file and the reason.
 * `unsupported` means well-formed but in an encoding our WAV reader does not
 * decode (µ-law, ADPCM...): the caller may hand it to ffmpeg instead.
 */
export class AudioFileError extends UserError {
  constructor(
    readonly file: string,
    readonly reason: string,
    readonly kind: 'malformed' | 'unsupported' | 'unreadable' = 'malformed',
  ) {
    super(`${file}: ${reason}`);
    this.name = 'AudioFileError';
  }
}
