/**
 * A meeting's health as one value: starting (no audio framed yet), ok,
 * degraded (audio flows but a best-effort component is down: the disk, a
 * partner, a sink), stalled (no input framed within the stall window) or
 * ended. /healthz, the metrics and the library's `health` event all read it;
 * a change is announced once.
 */
export type HealthStatus = 'starting' | 'ok' | 'degraded' | 'stalled' | 'ended';

export interface Health {
  status: HealthStatus;
  /** True once ingest has delivered audio. */
  ready: boolean;
  /** One line per component that is down: "recorder: no space left on device (ENOSPC) writing audio.opus". */
  problems: string[];
}

export class HealthMonitor {
  private readonly problems = new Map<string, string>();
  private ended = false;
  private last = '';

  constructor(
    private readonly audio: { ready(): boolean; flowing(): boolean },
    private readonly onChange: (h: Health) => void,
  ) {}

  current(): Health {
    const ready = this.audio.ready();
    const problems = [...this.problems].map(([component, why]) => `${component}: ${why}`);
    const status: HealthStatus = this.ended
      ? 'ended'
      : !ready
        ? 'starting'
        : !this.audio.flowing()
          ? 'stalled'
          : problems.length
            ? 'degraded'
            : 'ok';
    return { status, ready, problems };
  }

  /** A component is down (`why`), or back (`why` undefined). */
  set(component: string, why: string | undefined): void {
    if (why === undefined) this.problems.delete(component);
    else this.problems.set(component, why);
    this.check();
  }

  end(): void {
    this.ended = true;
    this.check();
  }

  /** Announces the health if it changed since the last call. */
  check(): void {
    const h = this.current();
    const key = `${h.status}|${h.ready}|${h.problems.join('|')}`;
    if (key === this.last) return;
    this.last = key;
    this.onChange(h);
  }
}
