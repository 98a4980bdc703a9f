/**
 * Types of what earshot's capture script (capture.js) adds to the meeting page: `window.earshot`.
 * A bot reaches it with `page.evaluate(() => window.earshot.setLabel(id, 'Alice'))`.
 */
export interface EarshotCaptureStatus {
  /** True while the page's WebSocket to earshot is open and welcomed. */
  connected: boolean;
  /** Messages (audio periods, states, statistics) sent or waiting, not yet acknowledged. */
  queued: number;
  queuedBytes: number;
  /** Audio dropped from a full buffer during an outage, in samples (48 kHz). */
  droppedSamples: number;
  tracks: Array<{ index: number; trackId: string; label: string; state: 'live' | 'muted' }>;
  audioContext: AudioContextState | 'none';
}

export interface EarshotCapture {
  readonly version: number;
  /** Names the participant of a remote track id or stream id, before or after it appears. */
  setLabel(id: string, label: string): void;
  status(): Promise<EarshotCaptureStatus>;
  /** Stops capturing and closes the connection to earshot. */
  stop(): void;
  /** Present only when the script was made with `faults: true` (tests). */
  readonly faults?: {
    /** The tap of a track (by track id or label) stops delivering while the track stays live. */
    breakTap(id: string): void;
  };
}

declare global {
  interface Window {
    earshot: EarshotCapture;
  }
}
