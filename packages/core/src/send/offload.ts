// Letting the web server send the file: the app answers with a header naming it, and nginx
// (X-Accel-Redirect), lighttpd or Apache mod_xsendfile (X-Sendfile) send the bytes with
// sendfile(2). This file holds the option, checked once, and the mapping from the file's absolute
// path to the header's value. What each server does with the value (seen on nginx 1.22, lighttpd
// 1.4.69, mod_xsendfile 0.12; see docs/sendfile-offload.md):
// - nginx percent-decodes an X-Accel-Redirect URI once and cuts it at a raw '?': so every
//   character outside [A-Za-z0-9-._~!*'()] of each segment is percent-encoded.
// - lighttpd percent-decodes X-Sendfile, mod_xsendfile does not: a path with '%' means two
//   different files to them, so such a file is not offloaded (it is streamed by the app).
import { isAbsolute, resolve } from 'node:path';

/** The headers understood; X-LIGHTTPD-send-file is lighttpd's older name of X-Sendfile. */
export type OffloadHeader = 'X-Accel-Redirect' | 'X-Sendfile' | 'X-LIGHTTPD-send-file';

/**
 * `{ header: 'X-Accel-Redirect', map: { '/srv/files/': '/_protected/' } }` (nginx: the value is
 * the URI of an `internal` location) or `{ header: 'X-Sendfile' }` (lighttpd, Apache
 * mod_xsendfile: the value is the file's absolute path, or with `map` the path the web server
 * sees). Only files below a key of `map` are offloaded, by the longest matching key; others are
 * streamed by the app as without the option.
 */
export type SendOffload =
  | { header: 'X-Accel-Redirect'; map: Readonly<Record<string, string>> }
  | { header: 'X-Sendfile' | 'X-LIGHTTPD-send-file'; map?: Readonly<Record<string, string>> };

interface Rule {
  /** File system prefix without its trailing '/' ('' for the root directory). */
  from: string;
  /** What replaces it, without a trailing '/'. */
  to: string;
}

export interface NormalizedOffload {
  header: OffloadHeader;
  /** 'uri' for X-Accel-Redirect (percent-encoded), 'path' for X-Sendfile (raw bytes). */
  kind: 'uri' | 'path';
  /** Longest `from` first; null: every absolute path, unchanged. */
  rules: Rule[] | null;
}

const HEADERS: Record<string, OffloadHeader> = {
  'x-accel-redirect': 'X-Accel-Redirect',
  'x-sendfile': 'X-Sendfile',
  'x-lighttpd-send-file': 'X-LIGHTTPD-send-file',
};

const cache = new WeakMap<object, NormalizedOffload>();

function trimSlash(s: string): string {
  return s.endsWith('/') ? s.replace(/\/+$/, '') : s;
}

/** Checks the option (TypeError when wrong) and prepares it; false/undefined/null mean off. */
export function normalizeOffload(value: unknown): NormalizedOffload | null {
  if (value === undefined || value === null || value === false) return null;
  if (typeof value !== 'object')
    throw new TypeError('offload must be an object such as { header: "X-Sendfile" }, or false');
  const known = cache.get(value);
  if (known) return known;
  const { header: name, map } = value as { header?: unknown; map?: unknown };
  const header = typeof name === 'string' ? HEADERS[name.toLowerCase()] : undefined;
  if (!header) throw new TypeError('offload.header must be "X-Accel-Redirect", "X-Sendfile" or "X-LIGHTTPD-send-file"');
  const kind = header === 'X-Accel-Redirect' ? 'uri' : 'path';
  let rules: Rule[] | null = null;
  if (map !== undefined) {
    if (map === null || typeof map !== 'object' || Array.isArray(map))
      throw new TypeError('offload.map must be an object of path prefixes');
    rules = Object.entries(map as Record<string, unknown>).map(([from, to]) => rule(from, to, kind));
    rules.sort((a, b) => b.from.length - a.from.length);
  }
  if (kind === 'uri' && (rules === null || rules.length === 0)) {
    throw new TypeError("offload.map is required for X-Accel-Redirect: { '/abs/dir/': '/internal-location/' }");
  }
  const out: NormalizedOffload = { header, kind, rules };
  cache.set(value, out);
  return out;
}

function rule(from: string, to: unknown, kind: 'uri' | 'path'): Rule {
  if (!isAbsolute(from)) throw new TypeError(`offload.map: ${JSON.stringify(from)} is not an absolute path`);
  if (typeof to !== 'string')
    throw new TypeError(`offload.map: the value for ${JSON.stringify(from)} must be a string`);
  if (kind === 'uri' && !/^\/[\x21-\x22\x24-\x3e\x40-\x7e]*$/.test(to)) {
    // A URI path as written in the nginx location: ASCII, no space, '?' or '#'.
    throw new TypeError(
      `offload.map: ${JSON.stringify(to)} must be a URI path starting with '/' (ASCII, no space, '?' or '#')`,
    );
  }
  if (kind === 'path' && !isAbsolute(to))
    throw new TypeError(`offload.map: ${JSON.stringify(to)} is not an absolute path`);
  return { from: trimSlash(resolve(from)), to: trimSlash(to) };
}

/** Percent-encodes each segment of a path ('/' kept); null for a lone surrogate, which no URI can carry. */
export function encodeUriPath(path: string): string | null {
  try {
    return path.split('/').map(encodeURIComponent).join('/');
  } catch {
    return null;
  }
}

/** Characters a raw X-Sendfile value cannot carry unambiguously (see the top of the file). */
const UNSAFE_RAW = /[%\x00-\x1f\x7f]|\s$/;

/**
 * The header value for the file at absolute `path`, or null when it is not to be offloaded
 * (outside every mapped prefix, or not expressible): the caller then streams the file. An
 * X-Sendfile value is the path's UTF-8 bytes, one latin1 character per byte (as the header block
 * is written), so a non-ASCII name reaches the web server as the bytes of the file name.
 */
export function offloadValue(path: string, o: NormalizedOffload): string | null {
  let mapped = path;
  if (o.rules) {
    const r = o.rules.find((x) => path === x.from || path.startsWith(x.from + '/'));
    if (!r) return null;
    const rest = path.slice(r.from.length);
    if (o.kind === 'uri') {
      const encoded = encodeUriPath(rest);
      return encoded === null ? null : r.to + encoded || '/';
    }
    mapped = r.to + rest || '/';
  }
  if (UNSAFE_RAW.test(mapped)) return null;
  return Buffer.from(mapped, 'utf8').toString('latin1');
}
