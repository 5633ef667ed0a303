// Content-Type parsing and the `type` option of the parsers (what type-is does for body-parser):
// which requests a parser handles, and whether a request has a body at all.
import { mimeMatch, normalizeType } from '../type-is.js';

/** The shape of request the parsers need: Node's IncomingMessage and FcgiRequest both fit. */
export interface HeaderBag {
  headers: Record<string, string | string[] | undefined>;
}

export function header(req: HeaderBag, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

export interface MediaType {
  /** `type/subtype`, lower case. */
  type: string;
  /** Parameter names lower case; values as sent (quotes removed). */
  params: Record<string, string>;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Parses a Content-Type value; null when it is not `type/subtype` with well-formed parameters. */
export function parseMediaType(value: string | undefined): MediaType | null {
  if (!value) return null;
  const semi = value.indexOf(';');
  const type = (semi < 0 ? value : value.slice(0, semi)).trim().toLowerCase();
  const slash = type.indexOf('/');
  if (slash <= 0 || !TOKEN.test(type.slice(0, slash)) || !TOKEN.test(type.slice(slash + 1))) return null;
  const params: Record<string, string> = Object.create(null);
  if (semi >= 0 && !parseParams(value, semi, params)) return null;
  return { type, params };
}

/** `; name=value` pairs from `at` on (value a token or a quoted string); false when malformed. */
export function parseParams(s: string, at: number, out: Record<string, string>): boolean {
  let i = at;
  while (i < s.length) {
    while (i < s.length && (s[i] === ';' || s[i] === ' ' || s[i] === '\t')) i++;
    if (i >= s.length) break;
    const eq = s.indexOf('=', i);
    if (eq < 0) return false;
    const name = s.slice(i, eq).trim().toLowerCase();
    if (!TOKEN.test(name)) return false;
    i = eq + 1;
    while (s[i] === ' ' || s[i] === '\t') i++;
    let value = '';
    if (s[i] === '"') {
      i++;
      let closed = false;
      while (i < s.length) {
        const c = s[i]!;
        // A backslash escapes only a quote or a backslash: browsers send Windows paths unescaped.
        if (c === '\\' && (s[i + 1] === '"' || s[i + 1] === '\\')) {
          value += s[i + 1];
          i += 2;
        } else if (c === '"') {
          i++;
          closed = true;
          break;
        } else {
          value += c;
          i++;
        }
      }
      if (!closed) return false;
      while (s[i] === ' ' || s[i] === '\t') i++;
      if (i < s.length && s[i] !== ';') return false;
    } else {
      const end = s.indexOf(';', i);
      value = (end < 0 ? s.slice(i) : s.slice(i, end)).trim();
      i = end < 0 ? s.length : end;
    }
    if (!(name in out)) out[name] = value;
  }
  return true;
}

/** The charset parameter of the request's Content-Type, lower case; undefined when absent. */
export function charsetOf(req: HeaderBag): string | undefined {
  const cs = parseMediaType(header(req, 'content-type'))?.params.charset;
  return cs ? cs.toLowerCase() : undefined;
}

/**
 * Whether the request has a body, as type-is decides for body-parser: a Content-Length or a
 * Transfer-Encoding. Web servers send CONTENT_LENGTH with every body they buffer (nginx sends an
 * empty one for none, which the request headers leave out).
 */
export function hasBody(req: HeaderBag): boolean {
  if (header(req, 'transfer-encoding') !== undefined) return true;
  const cl = header(req, 'content-length');
  return cl !== undefined && /^\s*\d+\s*$/.test(cl);
}

/** The Content-Length as a number; undefined when absent or unreadable. */
export function declaredLength(req: HeaderBag): number | undefined {
  const cl = header(req, 'content-length');
  if (cl === undefined || !/^\s*\d+\s*$/.test(cl)) return undefined;
  return Number(cl);
}

/** What the `type` option may be: media types, extensions ('json'), wildcards, or a function. */
export type TypeOption<Req = any> = string | readonly string[] | ((req: Req) => boolean);

/** Turns a `type` option entry into a media type pattern ('json' -> application/json), as req.is() does. */
function normalizeSpec(spec: string): string | null {
  return normalizeType(spec.trim().toLowerCase()) || null;
}

/** A predicate for the `type` option: which requests a parser handles. */
export function typeMatcher<Req extends HeaderBag>(option: TypeOption<Req>): (req: Req) => boolean {
  if (typeof option === 'function') return option;
  const patterns = (typeof option === 'string' ? [option] : [...option])
    .map(normalizeSpec)
    .filter((p): p is string => p !== null);
  return (req) => {
    const mt = parseMediaType(header(req, 'content-type'));
    return mt !== null && patterns.some((p) => mimeMatch(p, mt.type));
  };
}
