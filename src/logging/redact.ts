/**
 * Secrets never reach a log line: pino's redaction for well-known keys, plus
 * a scrub of credentials carried in URL query strings (`?token=`, `&key=`),
 * which key-based redaction cannot see.
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

const QUERY_SECRET = /([?&](?:token|key|api_key|apikey|access_token|auth|sig|signature)=)[^&#\s"']+/gi;

export function scrubString(text: string): string {
  // Cheap pre-check: most log strings carry no query string at all.
  if (text.indexOf('=') < 0) return text;
  return text.replace(QUERY_SECRET, `$1${CENSOR}`);
}

/**
 * Returns `obj` itself when nothing needed scrubbing, else a shallow copy
 * with scrubbed strings (never mutates what the caller logged).
 */
export function scrubObject<T>(obj: T, depth = 2): T {
  if (obj === null || typeof obj !== 'object' || depth < 0) return obj;
  if (Array.isArray(obj)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < obj.length; i++) {
      const v = obj[i];
      const s = typeof v === 'string' ? scrubString(v) : typeof v === 'object' ? scrubObject(v, depth - 1) : v;
      if (s !== v) (out ??= obj.slice())[i] = s;
    }
    return (out ?? obj) as T;
  }
  if (Buffer.isBuffer(obj) || ArrayBuffer.isView(obj) || obj instanceof Error) return obj;
  let out: Record<string, unknown> | undefined;
  for (const k of Object.keys(obj)) {
    const v = (obj as Record<string, unknown>)[k];
    const s = typeof v === 'string' ? scrubString(v) : typeof v === 'object' ? scrubObject(v, depth - 1) : v;
    if (s !== v) (out ??= { ...(obj as Record<string, unknown>) })[k] = s;
  }
  return (out ?? obj) as T;
}
