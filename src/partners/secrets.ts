/**
 * Keys never leave this module's callers in clear: every string we log, throw
 * or write passes through a Redactor that knows the keys in use, and URLs are
 * shown without credentials (userinfo, token-like query params).
 */
const MASK = '[redacted]';
const URL_SECRET_PARAMS = /([?&](?:token|key|api_key|apikey|access_token|auth|authorization)=)[^&#\s"']*/gi;

export class Redactor {
  private readonly secrets = new Set<string>();

  add(secret: string | undefined): void {
    // Very short strings would mask ordinary text; no real key is that short.
    if (secret && secret.length >= 4) this.secrets.add(secret);
  }

  text(s: string): string {
    let out = s;
    for (const k of this.secrets) if (out.includes(k)) out = out.split(k).join(MASK);
    // URL-encoded forms too (a key with +/= in a query string).
    for (const k of this.secrets) {
      const enc = encodeURIComponent(k);
      if (enc !== k && out.includes(enc)) out = out.split(enc).join(MASK);
    }
    return out;
  }

  /** A URL fit for logs: no userinfo, no token-like query values, no known key anywhere. */
  url(u: string): string {
    let out = u.replace(URL_SECRET_PARAMS, `$1${MASK}`);
    out = out.replace(/^(\w+:\/\/)[^/@]*@/, '$1');
    return this.text(out);
  }

  error(err: unknown): string {
    return this.text(err instanceof Error ? err.message : String(err));
  }
}
