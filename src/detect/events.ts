/** An event in sample units, before conversion to seconds at the analyzer's boundary. */
import type { DetectKind } from './analyze';

export interface RawEvent {
  kind: DetectKind;
  /** First affected sample (absolute index in the channel). */
  start: number;
  /** One past the last affected sample; equal to `start` for a point event (a splice). */
  end: number;
  /** Linear level of the defect (a click's pulse peak, a jump's size, the audio a dropout lost...). */
  level: number;
  /** RMS of the 20 ms before `start`, filled in by the analyzer as the event is found. */
  ref?: number;
}
