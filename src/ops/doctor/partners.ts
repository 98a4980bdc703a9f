/** `--partners URL`: can this host resolve and reach each transcription endpoint? */
import { lookup } from 'node:dns/promises';
import { connect } from 'node:net';
import { check, type Check } from './check';

const TIMEOUT_MS = 3_000;

/** The URL without credentials or query (keys travel there): safe to print. */
export function safeUrl(u: URL): string {
  return `${u.protocol}//${u.host}${u.pathname === '/' ? '' : u.pathname}`;
}

export async function checkPartner(raw: string): Promise<Check> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return check('partner', 'fail', `"${raw.split('?')[0]}" is not a URL`, 'pass e.g. --partners wss://api.deepgram.com/v1/listen');
  }
  const shown = safeUrl(url);
  const port = Number(url.port) || ({ 'ws:': 80, 'http:': 80, 'wss:': 443, 'https:': 443 } as Record<string, number>)[url.protocol];
  if (!port) return check('partner', 'fail', `${shown}: unsupported scheme ${url.protocol}`, 'use ws://, wss://, http:// or https://');
  const host = url.hostname.replace(/^\[|\]$/g, '');
  let address: string;
  const t0 = performance.now();
  try {
    address = (await withTimeout(lookup(host), `resolving ${host}`)).address;
  } catch (err) {
    return check('partner', 'fail', `${shown}: ${host} does not resolve (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, 'check DNS and the partner URL', { url: shown });
  }
  const resolvedMs = performance.now() - t0;
  try {
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        const s = connect({ host: address, port }, () => {
          s.destroy();
          resolve();
        });
        s.once('error', reject);
        s.setTimeout(TIMEOUT_MS, () => s.destroy(new Error('timed out')));
      }),
      `connecting to ${address}:${port}`,
    );
  } catch (err) {
    return check('partner', 'fail', `${shown}: ${host} -> ${address}, but TCP ${port} is unreachable (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, 'check firewalls/egress rules and that the partner is up', { url: shown, address, port });
  }
  const connectMs = performance.now() - t0 - resolvedMs;
  return check('partner', 'ok', `${shown}: ${host} -> ${address}, TCP ${port} connects in ${connectMs.toFixed(1)} ms`, undefined, { url: shown, address, port, resolveMs: Math.round(resolvedMs * 10) / 10, connectMs: Math.round(connectMs * 10) / 10 });
}

function withTimeout<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${TIMEOUT_MS} ms ${what}`)), TIMEOUT_MS);
    }),
  ]);
}
