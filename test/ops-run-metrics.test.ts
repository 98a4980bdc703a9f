/**
 * End to end: scrape /metrics from a real `earshot run` while it plays a
 * paced sine, inject a worker stall through the lead's test hook, then kill
 * ingest, and watch the counters and health checks react.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI } from '../src/paths';
import { deadline, sleep } from './fixtures/wait';


async function metrics(url: string): Promise<Map<string, { labels: Record<string, string>; value: number }[]>> {
  const text = await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
  const out = new Map<string, { labels: Record<string, string>; value: number }[]>();
  for (const line of text.split('\n')) {
    const m = /^([\w:]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)) labels[l[1]!] = l[2]!;
    if (!out.has(m[1]!)) out.set(m[1]!, []);
    out.get(m[1]!)!.push({ labels, value: Number(m[3]) });
  }
  return out;
}

const value = (m: Awaited<ReturnType<typeof metrics>>, name: string, role?: string) =>
  (m.get(name) ?? []).find((r) => role === undefined || r.labels.role === role);

async function healthz(url: string): Promise<number> {
  try {
    return (await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2000) })).status;
  } catch {
    return 0;
  }
}

/** The ffmpeg child of `pid`, from /proc (no pgrep: exact parentage). */
function ffmpegChild(pid: number): number | undefined {
  for (const t of readdirSync(`/proc/${pid}/task`)) {
    let kids = '';
    try {
      kids = readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8');
    } catch {
      continue;
    }
    for (const k of kids.trim().split(/\s+/).filter(Boolean)) {
      try {
        if (readFileSync(`/proc/${k}/comm`, 'utf8').trim() === 'ffmpeg') return Number(k);
      } catch {
        /* gone */
      }
    }
  }
  return undefined;
}

test('earshot run --metrics: audio thread nice/policy, deadline misses on a stall, /healthz 503 on stall and when ingest dies', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'earshot-ops-run-'));
  const log = join(dir, 'run.log');
  const rec = join(dir, 'rec');
  // Stall the worker 1.6 s at 2.5 s of meeting time: longer than the 1 s health window.
  const child = spawn(
    process.execPath,
    [CLI, 'run', '--input', 'lavfi:sine=f=440', '--duration', '9s', '--rt-nice', '5', '--metrics', '127.0.0.1:0', '--record', rec, '--log-sink', `file:${log}`, '--test-stall-worker', '2500:1600'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  try {
    // The URL (port 0 picks a free one) is in the log.
    let url: string | undefined;
    for (let i = 0; i < 200 && !url; i++) {
      await sleep(50);
      if (existsSync(log)) url = /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(readFileSync(log, 'utf8'))?.[1];
    }
    assert.ok(url, `no metrics URL in the log; stderr: ${stderr}`);

    // The audio worker, as the kernel reports it.
    let m = await metrics(url!);
    for (let i = 0; i < 100 && !value(m, 'earshot_thread_nice', 'audio'); i++) {
      await sleep(50);
      m = await metrics(url!);
    }
    const nice = value(m, 'earshot_thread_nice', 'audio');
    assert.ok(nice, 'an audio thread in earshot_thread_nice');
    assert.is(nice!.value, 5);
    assert.is(value(m, 'earshot_thread_policy', 'audio')!.labels.policy, 'other');
    assert.is(value(m, 'earshot_thread_policy', 'audio')!.labels.tid, nice!.labels.tid);
    const framesAtStart = value(m, 'earshot_frames_total')?.value ?? 0;
    const missesBefore = value(m, 'earshot_deadline_misses_total')?.value ?? 0;
    assert.ok(framesAtStart < 2500 / 20, `first scrape came after the stall (${framesAtStart} frames)`);

    // Watch /healthz through the stall; then kill ingest and watch again.
    const seen: number[] = [];
    let missesAfter = missesBefore;
    for (let i = 0; i < 400; i++) {
      seen.push(await healthz(url!));
      m = await metrics(url!);
      missesAfter = value(m, 'earshot_deadline_misses_total')?.value ?? missesAfter;
      const frames = value(m, 'earshot_frames_total')?.value ?? 0;
      if (frames > (2500 + 1600) / 20 + 25 && seen.includes(503)) break;
      await sleep(20);
    }
    assert.ok(seen.includes(503), `/healthz never said 503 during a 1.6 s stall: ${[...new Set(seen)]}`);
    assert.is(seen[seen.length - 1], 200, 'healthy again once frames flow');
    assert.ok(missesAfter - missesBefore >= 20, `deadline misses ${missesBefore} -> ${missesAfter} across a 1.6 s stall`);
    const late = value(m, 'earshot_frame_lateness_max_seconds')!.value;
    assert.ok(late >= 1, `max lateness ${late} s after a 1.6 s stall`);

    const ffmpeg = ffmpegChild(child.pid!);
    assert.ok(ffmpeg, 'the ffmpeg ingest child');
    process.kill(ffmpeg!, 'SIGKILL');
    let sawDown = false;
    for (let i = 0; i < 150 && !sawDown; i++) sawDown = (await healthz(url!)) === 503;
    assert.ok(sawDown, '/healthz 503 once ingest died');
    process.stdout.write(
      `\n  run: audio tid ${nice!.labels.tid} nice ${nice!.value} policy other; deadline misses ${missesBefore} -> ${missesAfter} across the stall, max lateness ${late.toFixed(3)} s; /healthz 503 during the stall and after SIGKILL of ffmpeg ${ffmpeg}\n`,
    );
  } finally {
    const code = await Promise.race([exited, deadline(30_000)]);
    if (code === 'timeout') child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    assert.is(code, 0, `earshot run exit ${code}; stderr: ${stderr}; stdout: ${stdout}`);
  }
});

test.run();
