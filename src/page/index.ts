/**
 * `earshot/page`: the capture script a bot injects into the meeting page, configured for one
 * meeting. The script itself is plain browser JavaScript shipped in the package
 * (page/capture.js, its in-page API typed in page/capture.d.ts); this returns it as one string
 * for Playwright's `page.addInitScript(script)` or Puppeteer's `page.evaluateOnNewDocument(script)`.
 * The string holds the meeting's token: pass it to the browser, never to a log.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../paths';

export interface CaptureScriptOptions {
  /** Where earshot's page receiver listens (ws://127.0.0.1:PORT/). */
  url: string;
  /** The meeting's page token (startMeeting hands it out). */
  token: string;
  /** Participant names by remote track id or stream id, known before the tracks appear. */
  labels?: Record<string, string>;
  /** Audio the page may hold while earshot is unreachable, in bytes (default 64 MiB: ~11 min of one voice). */
  maxBufferBytes?: number;
  /** Adds `window.earshot.faults` (fault injection for tests). */
  faults?: boolean;
}

export const CAPTURE_SCRIPT_PATH = join(ROOT, 'page', 'capture.js');
let source: string | undefined;

export function captureScript(o: CaptureScriptOptions): string {
  source ??= readFileSync(CAPTURE_SCRIPT_PATH, 'utf8').trim().replace(/;$/, '');
  const config = { url: o.url, token: o.token, labels: o.labels ?? {}, maxBufferBytes: o.maxBufferBytes, faults: o.faults === true };
  return `${source}(${JSON.stringify(config)});\n`;
}
