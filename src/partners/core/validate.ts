/**
 * Network input is checked against the protocol's shape before use. A shape
 * is a small declarative schema; `check` walks a parsed JSON value and either
 * returns it typed or throws a BadMessage naming the first field that does
 * not fit ("Results.channel.alternatives[0].words[0]: expected object, got
 * null"). Unknown fields are allowed (providers add fields all the time);
 * missing required ones and wrong types are not.
 */

export class BadMessage extends Error {
  override name = 'BadMessage';
}

export type Shape<T> = { readonly check: (v: unknown, path: string) => T };

const kind = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);
const fail = (path: string, want: string, v: unknown): never => {
  throw new BadMessage(`${path}: expected ${want}, got ${kind(v)}`);
};

export const str: Shape<string> = { check: (v, p) => (typeof v === 'string' ? v : fail(p, 'string', v)) };
export const bool: Shape<boolean> = { check: (v, p) => (typeof v === 'boolean' ? v : fail(p, 'boolean', v)) };
/** A finite number (NaN and Infinity do not survive JSON anyway, but a string "1.2" is not a number). */
export const num: Shape<number> = { check: (v, p) => (typeof v === 'number' && Number.isFinite(v) ? v : fail(p, 'number', v)) };
export const unknownValue: Shape<unknown> = { check: (v) => v };

export function literal<const L extends string>(value: L): Shape<L> {
  return { check: (v, p) => (v === value ? value : fail(p, JSON.stringify(value), v)) };
}

export function arr<T>(of: Shape<T>, maxItems = 100_000): Shape<T[]> {
  return {
    check: (v, p) => {
      if (!Array.isArray(v)) return fail(p, 'array', v);
      if (v.length > maxItems) throw new BadMessage(`${p}: ${v.length} items, more than ${maxItems}`);
      return v.map((x, i) => of.check(x, `${p}[${i}]`));
    },
  };
}

/** Optional field: absent or null reads as undefined. */
export function opt<T>(s: Shape<T>): Shape<T | undefined> & { optional: true } {
  return { optional: true, check: (v, p) => (v === undefined || v === null ? undefined : s.check(v, p)) };
}

type Fields = Record<string, Shape<unknown>>;
type Out<F extends Fields> = { [K in keyof F]: F[K] extends Shape<infer T> ? T : never };

export function obj<F extends Fields>(fields: F): Shape<Out<F>> {
  return {
    check: (v, p) => {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) return fail(p, 'object', v);
      const src = v as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      for (const [k, s] of Object.entries(fields)) out[k] = s.check(src[k], `${p}.${k}`);
      return out as Out<F>;
    },
  };
}

/** One of several shapes, chosen by a discriminating string field ("type", "message"). */
export function byTag(tag: string, shapes: Record<string, Shape<unknown>>): Shape<Record<string, unknown>> {
  return {
    check: (v, p) => {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) return fail(p, 'object', v);
      const t = (v as Record<string, unknown>)[tag];
      if (typeof t !== 'string') return fail(`${p}.${tag}`, 'string', t);
      const s = shapes[t];
      return (s ? s.check(v, t) : { [tag]: t }) as Record<string, unknown>;
    },
  };
}

/** Parses a text frame as JSON and checks it; throws BadMessage on either failure. */
export function readJson<T>(text: string, shape: Shape<T>, what = 'message'): T {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new BadMessage(`${what} is not JSON (${text.length} bytes)`);
  }
  return shape.check(v, what);
}
