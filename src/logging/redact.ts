/**
 * Secrets never reach a log line, an event or an error: pino's redaction for
 * well-known keys, a scrub of credentials carried in URLs (userinfo, and
 * token-like query parameters), which key-based redaction cannot see, and a
 * set of known secrets (a meeting's input credentials) masked wherever they
 * appear, e.g. in ffmpeg's own error lines.
 */
const SECRET_KEYS = [
  'key',
  'apiKey',
  'api_key',
  'token',
  'accessToken',
  'access_token',
  'authorization',
  'Authorization',
  'password',
  'secret',
];

/** pino `redact.paths`: the keys at the top level, one level down, and in headers. */
export const REDACT_PATHS = [
  ...SECRET_KEYS,
  ...SECRET_KEYS.map((k) => `*.${k}`),
  ...SECRET_KEYS.map((k) => `*.headers.${k}`),
  '*.headers["sec-websocket-protocol"]',
];

export const CENSOR = '[Redacted]';

/** Query parameters whose value is a credential. */
export const SECRET_PARAM = /^(?:token|key|api_key|apikey|access_token|auth|sig|signature|password|secret)$/i;
const QUERY_SECRET = /([?&](?:token|key|api_key|apikey|access_token|auth|sig|signature|password|secret)=)[^&#\s"']+/gi;
/** scheme://user:password@ or scheme://token@ */
const USERINFO = /(\b[a-z][a-z0-9+.-]*:\/\/)[^/?#\s@"']+@/gi;

/** Exact secrets to mask wherever they appear (and their URL-encoded forms). */
export class Secrets {
  private readonly list: string[] = [];

  add(secret: string | undefined): void {
    // Very short strings would mask ordinary text; no real credential is that short.
    if (!secret || secret.length < 4) return;
    for (const s of new Set([secret, encodeURIComponent(secret)])) if (!this.list.includes(s)) this.list.push(s);
    this.list.sort((a, b) => b.length - a.length);
  }

  get size(): number {
    return this.list.length;
  }

  scrub(text: string): string {
    let out = text;
    for (const s of this.list) if (out.includes(s)) out = out.split(s).join(CENSOR);
    return out;
  }
}

export function scrubString(text: string, secrets?: Secrets): string {
  let out = secrets?.size ? secrets.scrub(text) : text;
  // Cheap pre-checks: most log strings carry no URL and no query string.
  if (out.indexOf('=') >= 0) out = out.replace(QUERY_SECRET, `$1${CENSOR}`);
  if (out.indexOf('@') >= 0) out = out.replace(USERINFO, `$1${CENSOR}@`);
  return out;
}

/**
 * Returns `obj` itself when nothing needed scrubbing, else a shallow copy
 * with scrubbed strings (never mutates what the caller logged).
 */
export function scrubObject<T>(obj: T, depth = 2, secrets?: Secrets): T {
  if (obj === null || typeof obj !== 'object' || depth < 0) return obj;
  const scrub = (v: unknown) => (typeof v === 'string' ? scrubString(v, secrets) : typeof v === 'object' ? scrubObject(v, depth - 1, secrets) : v);
  if (Array.isArray(obj)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < obj.length; i++) {
      const s = scrub(obj[i]);
      if (s !== obj[i]) (out ??= obj.slice())[i] = s;
    }
    return (out ?? obj) as T;
  }
  if (Buffer.isBuffer(obj) || ArrayBuffer.isView(obj)) return obj;
  if (obj instanceof Error) {
    const message = scrubString(obj.message, secrets);
    const stack = obj.stack && scrubString(obj.stack, secrets);
    return message === obj.message && stack === obj.stack ? obj : ({ type: obj.name, message, stack } as T);
  }
  let out: Record<string, unknown> | undefined;
  for (const k of Object.keys(obj)) {
    const v = (obj as Record<string, unknown>)[k];
    const s = scrub(v);
    if (s !== v) (out ??= { ...(obj as Record<string, unknown>) })[k] = s;
  }
  return (out ?? obj) as T;
}
