/** An event in sample units, before conversion to seconds at the analyzer's boundary. */
import type { DetectKind } from './analyze';

export interface RawEvent {
  kind: DetectKind;
  /** First affected sample (absolute index in the channel). */
  start: number;
  /** One past the last affected sample; equal to `start` for a point event (a splice). */
  end: number;
  score: number;
}
