/**
 * The recorder sink: `audio.opus` (Ogg Opus), optional `audio.wav`,
 * `events.jsonl` and (with partners) `transcripts.jsonl` in one directory. It runs on the main thread, so it never
 * waits for the disk: writes are queued to libuv, what is queued is capped,
 * and past the cap whole frames are dropped and counted. Lost frames (from
 * the ring or dropped here) are filled with silence, so the files keep the
 * meeting timeline and stay aligned with events.jsonl.
 */
import { join, resolve } from 'node:path';
import { createStreamEncoder } from '../opus';
import { UserError } from '../errors';
import type { MeetingEvent } from '../events';
import { FRAME_MS, FRAME_SAMPLES, MAX_OPUS_BYTES, SAMPLE_RATE, frameTime, type Frame } from '../realtime/frame';
import { JsonLinesFile } from './jsonl-file';
import { AsyncFileWriter } from './file-writer';
import { OggOpusStream } from './ogg';
import { makeDir, MEETING_FILES, unwritable } from './record-dir';
import type { FrameSink } from './sink';
import { WavStream } from './wav';

export const RECORDING_FILES = { opus: MEETING_FILES.opus, wav: MEETING_FILES.wav, events: MEETING_FILES.events, transcripts: MEETING_FILES.transcripts } as const;

/** transcripts.jsonl may fall this far behind a stalled disk before lines are dropped (and counted). */
const MAX_TRANSCRIPT_PENDING_BYTES = 4 << 20;

/** A file of the recording could not be written: what and why (e.g. ENOSPC). */
export interface DiskError {
  file: string;
  code: string;
  message: string;
}

export interface RecorderOptions {
  dir: string;
  channels: number;
  wav: boolean;
  /** Also keep transcripts.jsonl (the meeting has partners). */
  transcripts?: boolean;
  /** Audio the disk may lag behind before frames are dropped (default 30 s at the highest Opus rate, plus WAV). */
  maxBufferedSec?: number;
  /** Overrides the byte cap derived from `maxBufferedSec`. */
  maxBufferedBytes?: number;
  /** How often staged pages and the WAV header reach the disk (default 1000 ms). */
  flushIntervalMs?: number;
  /** Called once per episode of dropped frames (when it ends, or at close): a ready `sink_overrun` event. */
  onOverrun?: (e: MeetingEvent) => void;
  /** Called the moment a file fails to write (once per file); what was queued for it is discarded from then on. */
  onDiskError?: (e: DiskError) => void;
}

export interface RecorderStats {
  /** Bytes the kernel has accepted, all files together. */
  bytesWritten: number;
  /** Bytes queued or staged but not yet written. */
  bufferedBytes: number;
  /** Frames received and recorded. */
  frames: number;
  /** Frames missing from the input (gaps in `seq`), recorded as silence. */
  gapFrames: number;
  /** Frames dropped here because the disk lagged past the cap, recorded as silence. */
  framesDropped: number;
  /** Length of the recording on the meeting timeline. */
  durationSec: number;
  events: number;
  /** Transcript lines written, and dropped because the disk fell behind. */
  transcripts: number;
  transcriptsDropped: number;
  /** The first write error (e.g. "ENOSPC: no space left on device"), if any. */
  error?: string;
}

/**
 * One 20 ms Opus packet of digital silence, encoded once and reused for every gap frame, by the
 * libopus the audio thread already loaded (a second one, @discordjs/opus's, cost the main thread
 * its own copy of libopus; the bitrate does not change a silent packet).
 */
export function silencePacket(channels: number): Buffer {
  const out = Buffer.alloc(MAX_OPUS_BYTES);
  return out.subarray(0, createStreamEncoder(channels, 64000).encodeInto(new Int16Array(FRAME_SAMPLES * channels), out));
}

function openIn(dir: string, name: string, onError?: (err: NodeJS.ErrnoException) => void): AsyncFileWriter {
  try {
    return new AsyncFileWriter(join(dir, name), onError);
  } catch (err) {
    throw unwritable(dir, err);
  }
}

export class Recorder implements FrameSink {
  readonly name = 'recorder';
  readonly dir: string;
  readonly files: { opus: string; wav?: string; events: string; transcripts?: string };

  private readonly channels: number;
  private readonly silence: Buffer;
  private readonly oggFile: AsyncFileWriter;
  private readonly ogg: OggOpusStream;
  private oggPosition = 0;
  private readonly wavFile?: AsyncFileWriter;
  private readonly wav?: WavStream;
  private readonly events: JsonLinesFile;
  private readonly transcripts?: JsonLinesFile;
  private readonly maxBufferedBytes: number;
  private readonly timer: NodeJS.Timeout;
  private readonly onOverrun?: (e: MeetingEvent) => void;

  private nextSeq = 0;
  private frames = 0;
  private gapFrames = 0;
  private framesDropped = 0;
  /** The current run of dropped frames: first seq and length (0 when none). */
  private dropStart = 0;
  private dropRun = 0;
  private closing: Promise<void> | null = null;
  private eventsClosing: Promise<void> | null = null;

  constructor(opts: RecorderOptions) {
    this.dir = resolve(opts.dir);
    this.channels = opts.channels;
    try {
      makeDir(this.dir);
    } catch (err) {
      throw unwritable(this.dir, err);
    }
    const onError = (name: string) => (err: NodeJS.ErrnoException) =>
      opts.onDiskError?.({ file: join(this.dir, name), code: err.code ?? 'EIO', message: err.message });
    const opened: AsyncFileWriter[] = [];
    try {
      this.oggFile = openIn(this.dir, RECORDING_FILES.opus, onError(RECORDING_FILES.opus));
      opened.push(this.oggFile);
      if (opts.wav) {
        this.wavFile = openIn(this.dir, RECORDING_FILES.wav, onError(RECORDING_FILES.wav));
        opened.push(this.wavFile);
      }
      this.events = new JsonLinesFile(join(this.dir, RECORDING_FILES.events), onError(RECORDING_FILES.events));
      if (opts.transcripts) {
        const name = RECORDING_FILES.transcripts;
        this.transcripts = new JsonLinesFile(join(this.dir, name), onError(name), MAX_TRANSCRIPT_PENDING_BYTES);
      }
    } catch (err) {
      for (const w of opened) w.closeSync();
      throw err instanceof UserError ? err : unwritable(this.dir, err);
    }
    this.files = {
      opus: this.oggFile.path,
      ...(this.wavFile && { wav: this.wavFile.path }),
      events: join(this.dir, RECORDING_FILES.events),
      ...(this.transcripts && { transcripts: join(this.dir, RECORDING_FILES.transcripts) }),
    };

    this.silence = silencePacket(opts.channels);
    this.ogg = new OggOpusStream({ channels: opts.channels, onPage: (page) => this.writePage(page) });
    if (this.wavFile) this.wav = new WavStream(this.wavFile, opts.channels);

    const bytesPerSec = (1000 / FRAME_MS) * MAX_OPUS_BYTES + (opts.wav ? SAMPLE_RATE * opts.channels * 2 : 0);
    this.maxBufferedBytes = opts.maxBufferedBytes ?? (opts.maxBufferedSec ?? 30) * bytesPerSec;
    this.onOverrun = opts.onOverrun;
    // Wall-clock flush: if frames stop coming, what was recorded still reaches the disk within a second.
    this.timer = setInterval(() => this.flush(), opts.flushIntervalMs ?? 1000);
    this.timer.unref();
  }

  write(frame: Frame): void {
    if (this.closing || frame.seq < this.nextSeq) return; // after close, or a replayed frame
    if (frame.channels !== this.channels) {
      throw new Error(`recorder: frame has ${frame.channels} channels, recording has ${this.channels}`);
    }
    if (this.bufferedBytes() > this.maxBufferedBytes) {
      if (this.dropRun === 0) this.dropStart = frame.seq;
      this.dropRun++;
      this.framesDropped++;
      return;
    }
    const missing = frame.seq - this.nextSeq;
    if (missing > 0) this.fillGap(missing);
    this.reportOverrun();
    this.ogg.addPacket(frame.opus.length > 0 ? frame.opus : this.silence, FRAME_SAMPLES);
    this.wav?.writeFrame(frame.pcm);
    this.frames++;
    this.nextSeq = frame.seq + 1;
  }

  event(e: MeetingEvent): void {
    if (!this.eventsClosing) this.events.append(e);
  }

  /** One transcript line (a segment on the meeting timeline, already stamped by the caller). */
  transcript(line: object): void {
    if (!this.eventsClosing) this.transcripts?.append(line);
  }

  stats(): RecorderStats {
    const files = [this.oggFile, this.wavFile].filter((f): f is AsyncFileWriter => f !== undefined);
    const error = files.map((f) => f.error).find((e) => e) ?? this.events.error ?? this.transcripts?.error;
    return {
      bytesWritten: files.reduce((n, f) => n + f.bytesWritten, this.events.bytesWritten),
      bufferedBytes: this.bufferedBytes(),
      frames: this.frames,
      gapFrames: this.gapFrames,
      framesDropped: this.framesDropped,
      durationSec: frameTime(this.nextSeq),
      events: this.events.count,
      transcripts: this.transcripts?.count ?? 0,
      transcriptsDropped: this.transcripts?.dropped ?? 0,
      ...(error && { error: error.message }),
    };
  }

  /** Finalises and closes everything: the audio files (closeAudio), then events.jsonl and transcripts.jsonl. */
  close(): Promise<void> {
    this.eventsClosing ??= this.closeAudio().then(async () => {
      await Promise.all([this.events.close(), this.transcripts?.close()]);
    });
    return this.eventsClosing;
  }

  /**
   * Writes the last page (EOS) and the final WAV header, and closes the audio files. events.jsonl
   * and transcripts.jsonl stay open for what finalising the partners brings (a gap, the last words).
   */
  closeAudio(): Promise<void> {
    this.closing ??= (async () => {
      clearInterval(this.timer);
      // Frames dropped at the very end still belong to the timeline.
      if (this.dropRun > 0) {
        const missing = this.dropStart + this.dropRun - this.nextSeq;
        this.fillGap(missing);
        this.nextSeq += missing;
      }
      this.reportOverrun();
      this.ogg.end(this.silence);
      this.wav?.flush();
      await Promise.all([this.oggFile.close(), this.wavFile?.close()]);
    })();
    return this.closing;
  }

  private fillGap(missing: number): void {
    // Frames dropped here sit just before this frame; the rest were lost upstream.
    const droppedHere = Math.min(this.dropRun, missing);
    this.gapFrames += missing - droppedHere;
    for (let i = 0; i < missing; i++) this.ogg.addPacket(this.silence, FRAME_SAMPLES);
    this.wav?.skipFrames(missing);
  }

  private reportOverrun(): void {
    if (this.dropRun === 0) return;
    const e: MeetingEvent = {
      t: frameTime(this.dropStart),
      kind: 'sink_overrun',
      durationMs: this.dropRun * FRAME_MS,
      frames: this.dropRun,
      detail: { sink: this.name, maxBufferedBytes: this.maxBufferedBytes },
    };
    this.dropRun = 0;
    this.onOverrun?.(e);
  }

  private flush(): void {
    this.ogg.flush(true);
    this.wav?.flush();
  }

  private bufferedBytes(): number {
    return this.oggFile.pendingBytes + (this.wavFile?.pendingBytes ?? 0) + (this.wav?.stagedBytes ?? 0);
  }

  private writePage(page: Buffer): void {
    this.oggFile.write(page, this.oggPosition);
    this.oggPosition += page.length;
  }
}
