/**
 * One file through the detector: open (WAV reader or ffmpeg), stream every
 * block into one ChannelAnalyzer per channel (and the report's envelope), and
 * return what was found. Runs inside a pool worker; never throws: a file that
 * cannot be read comes back with `error`, keeping whatever was found before
 * the failure.
 */
import { ChannelAnalyzer, type DetectEvent } from './analyze';
import { openAudio } from './decode';
import { Envelope, type EnvelopeData } from './envelope';
import { AudioFileError, type AudioSource } from './source';
import { fileVerdict, type FileVerdict } from './verdict';

export interface FileTask {
  /** Path to open. */
  path: string;
  /** Name to report (the path as the user gave or found it). */
  name: string;
  sensitivity?: number;
  envelope: boolean;
  /** Optional shared progress slots: [audio seconds analysed, fraction of the file consumed]. */
  progress?: SharedArrayBuffer;
}

export interface FileResult {
  file: string;
  sampleRate: number | null;
  channels: number | null;
  durationSec: number | null;
  events: DetectEvent[];
  /** Severity and chopped-audio verdict (absent when the file never opened). */
  verdict?: FileVerdict;
  error?: string;
  codec?: string;
  /** Seconds of wall time spent on this file (for the summary's × real time). */
  wallSec: number;
  envelope?: EnvelopeData;
}

export async function analyzeFile(task: FileTask): Promise<FileResult> {
  const t0 = performance.now();
  const slots = task.progress ? new Float64Array(task.progress) : undefined;
  const result: FileResult = { file: task.name, sampleRate: null, channels: null, durationSec: null, events: [], wallSec: 0 };
  let src: AudioSource | undefined;
  let analyzers: ChannelAnalyzer[] = [];
  let frames = 0;
  try {
    src = await openAudio(task.path, task.name);
    const { sampleRate, channels, bitsPerSample, codec } = src.info;
    Object.assign(result, { sampleRate, channels, durationSec: 0, codec });
    const opts = { sensitivity: task.sensitivity, bitsPerSample, lossy: isLossy(codec) };
    analyzers = Array.from({ length: channels }, (_, c) => new ChannelAnalyzer(sampleRate, c, opts));
    const envelope = task.envelope ? new Envelope(sampleRate) : undefined;
    for await (const block of src.blocks()) {
      for (let c = 0; c < channels; c++) analyzers[c]!.push(block[c]!);
      envelope?.push(block);
      frames += block[0]!.length;
      if (slots) {
        slots[0] = frames / sampleRate;
        slots[1] = src.progress();
      }
    }
    if (envelope) result.envelope = envelope.finish();
  } catch (err) {
    result.error = err instanceof AudioFileError ? err.reason : `cannot analyse it: ${(err as Error)?.message ?? String(err)}`;
  } finally {
    await src?.close().catch(() => {});
  }
  if (result.sampleRate) result.durationSec = frames / result.sampleRate;
  try {
    // Even after a read error, what was pushed so far is analysed and reported.
    result.events = analyzers.flatMap((a) => a.finish()).sort((a, b) => a.startSec - b.startSec || a.channel - b.channel);
  } catch (err) {
    result.error ??= `analysis failed: ${(err as Error)?.message ?? String(err)}`;
  }
  if (result.durationSec !== null) result.verdict = fileVerdict(result.events, result.durationSec);
  result.wallSec = (performance.now() - t0) / 1000;
  return result;
}

/** Codecs whose decoded output has holes as codec noise rather than silence (ffmpeg's decoder names). */
const LOSSY = /^ffmpeg: (opus|vorbis|mp3|mp2|aac|ac3|eac3|wmav\d|libopus|speex|gsm|amr\w*|g723_1|g729|adpcm\w*|pcm_[am]law|libcodec2|ilbc|cook|atrac\w*)$/;

export function isLossy(codec: string): boolean {
  return LOSSY.test(codec);
}
