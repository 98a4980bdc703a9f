/**
 * `page:ADDR` ingest: the meeting's pages connect here (server.ts), and what they send becomes
 * participants - each with a presence (live, muted, left: states, never gaps), audio placed on the
 * meeting timeline, `upstream_loss` events from WebRTC's statistics (upstream.ts), and a
 * `capture_silent` watchdog on every live track (../silence.ts). A participant is a label: the
 * page's stream id unless the bot names it; one participant may have several tracks over a
 * meeting (a rejoin), and is live while any of them is.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { MeetingEvent } from '../../events';
import { captureScript, type CaptureScriptOptions } from '../../page';
import { SilenceWatchdog } from '../silence';
import { PageServer, type PageServerStats, type PageTrack } from './server';
import { UpstreamLoss } from './upstream';

import type { ParticipantInfo, Presence } from './types';

export type { ParticipantInfo, ParticipantSummary, Presence } from './types';

/** Where participants' audio goes (the real-time path, or a test's recorder). */
export interface ParticipantFeed {
  presence(participant: string, state: Presence): void;
  /** `position`: timeline sample (48 kHz) of pcm[0]. `pcm` is the feed's to keep. */
  audio(participant: string, position: number, pcm: Int16Array): void;
}

export interface PageIngestOptions {
  host: string;
  port: number;
  /** The meeting's page token; a random one when omitted. */
  token?: string;
  /** Our wall clock (performance.timeOrigin + now) at timeline sample 0. */
  originMs: number;
  log: Logger;
  report(e: MeetingEvent): void;
  /** A live track delivering nothing or digital silence this long is `capture_silent`. */
  silentAfterMs: number;
  feed: ParticipantFeed;
  /** The silent sources changed (for health). */
  onSilence?(silentParticipants: string[]): void;
}


export class PageIngest {
  private readonly presence = new Map<string, Presence>();
  private readonly upstream: UpstreamLoss;
  private readonly watchdog: SilenceWatchdog;

  private constructor(
    private readonly o: PageIngestOptions,
    readonly token: string,
    private readonly server: PageServer,
    upstream: UpstreamLoss,
    watchdog: SilenceWatchdog,
  ) {
    this.upstream = upstream;
    this.watchdog = watchdog;
  }

  static async start(o: PageIngestOptions): Promise<PageIngest> {
    const token = o.token ?? randomBytes(24).toString('base64url');
    const upstream = new UpstreamLoss(o.report);
    const tracks = new Map<string, PageTrack>();
    let self: PageIngest | undefined;
    const watchdog = new SilenceWatchdog({
      afterMs: o.silentAfterMs,
      report: o.report,
      timelineSec: (ms) => (ms - o.originMs) / 1000,
      onChange: (ids) => o.onSilence?.([...new Set(ids.map((id) => tracks.get(id)?.label ?? id))]),
    }).start();
    const server = await PageServer.listen({
      host: o.host,
      port: o.port,
      token,
      originMs: o.originMs,
      log: o.log,
      listener: {
        track: (t, change) => {
          tracks.set(t.key, t);
          self?.trackChanged(t, change, [...tracks.values()]);
        },
        audio: (t, position, pcm) => {
          watchdog.sound(t.key, pcm);
          o.feed.audio(t.label, position, pcm);
        },
        stats: (t, s, clock) => upstream.stats(t.label, t.key, s, clock),
      },
    });
    self = new PageIngest(o, token, server, upstream, watchdog);
    return self;
  }

  /** ws://host:port/ for the capture script. */
  get url(): string {
    return this.server.url;
  }

  /** The capture script for this meeting's pages (holds the token: for the browser only). */
  captureScript(extra: Omit<CaptureScriptOptions, 'url' | 'token'> = {}): string {
    return captureScript({ ...extra, url: this.url, token: this.token });
  }

  participants(): ParticipantInfo[] {
    const tracks = this.server.tracks();
    return [...this.presence].map(([participant, presence]) => ({
      participant,
      presence,
      tracks: tracks.filter((t) => t.label === participant).length,
      upstreamConcealedSamples: this.upstream.concealedSamples.get(participant) ?? 0,
    }));
  }

  /** Participants whose live capture is silent now. */
  silent(): string[] {
    const ids = new Set(this.watchdog.silent());
    return [...new Set(this.server.tracks().filter((t) => ids.has(t.key)).map((t) => t.label))];
  }

  get counters(): PageServerStats {
    return this.server.counters;
  }

  clocks(): Array<{ session: string; driftPpm: number; steps: number }> {
    return this.server.clocks();
  }

  async close(): Promise<void> {
    this.watchdog.stop();
    await this.server.close();
  }

  private trackChanged(t: PageTrack, change: 'added' | 'state' | 'label', all: PageTrack[]): void {
    if (change === 'label') this.watchdog.rest(t.key); // re-watched under its new name below
    if (t.state === 'live') this.watchdog.watch(t.key, t.label);
    else this.watchdog.rest(t.key);
    this.o.log.info({ participant: t.label, track: t.trackId, state: t.state, change }, `participant ${t.label}: track ${change === 'added' ? 'added' : t.state}`);
    // A participant's presence is the best of its tracks' states.
    for (const label of new Set(all.map((x) => x.label))) {
      const states = all.filter((x) => x.label === label).map((x) => x.state);
      const presence: Presence = states.includes('live') ? 'live' : states.includes('muted') ? 'muted' : 'left';
      if (this.presence.get(label) === presence) continue;
      this.presence.set(label, presence);
      this.o.feed.presence(label, presence);
    }
  }
}
