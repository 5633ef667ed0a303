// Conditional requests (RFC 9110 section 13): Express's req.fresh through the fresh package, and
// for files the whole order of 13.2.2 (If-Match, else If-Unmodified-Since: 412 when false; then
// If-None-Match, else If-Modified-Since: 304 for GET and HEAD), and If-Range (13.1.5), which fresh
// does not cover. The 304 step agrees with fresh except where conditional-fresh.test.ts lists.
import fresh from 'fresh';

export interface FreshRequest {
  'if-none-match'?: string | undefined;
  'if-modified-since'?: string | undefined;
  'cache-control'?: string | undefined;
}

export interface FreshResponse {
  etag?: string | undefined;
  'last-modified'?: string | undefined;
}

/**
 * Express's req.fresh (the fresh package): true when the request's validators match the
 * response's: If-None-Match (weak comparison, `*`), else If-Modified-Since against
 * Last-Modified. `Cache-Control: no-cache` asks for a full answer.
 */
export function isFresh(req: FreshRequest, res: FreshResponse): boolean {
  return fresh(req as fresh.Headers, res as fresh.Headers);
}

export interface EntityTag {
  weak: boolean;
  /** The opaque-tag with its quotes. */
  opaque: string;
}

/**
 * Parses a list of entity-tags (`"a", W/"b,c"`). A quoted tag may hold commas, so this scans
 * rather than splits. Returns null for `*`; stops at the first malformed element.
 */
export function parseEntityTags(header: string): EntityTag[] | null {
  if (header.trim() === '*') return null;
  const tags: EntityTag[] = [];
  let i = 0;
  const n = header.length;
  while (i < n) {
    const c = header[i]!;
    if (c === ' ' || c === '\t' || c === ',') {
      i++;
      continue;
    }
    let weak = false;
    if (c === 'W' && header[i + 1] === '/') {
      weak = true;
      i += 2;
    }
    if (header[i] !== '"') break;
    const close = header.indexOf('"', i + 1);
    if (close < 0) break;
    tags.push({ weak, opaque: header.slice(i, close + 1) });
    i = close + 1;
  }
  return tags;
}

/** Parses one tag as sent in ETag ("x" or W/"x"). */
export function parseEntityTag(value: string): EntityTag | null {
  const tags = parseEntityTags(value);
  return tags && tags.length === 1 ? tags[0]! : null;
}

/** Strong comparison (13.1.1 via 8.8.3.2): both strong and identical. */
export function strongMatch(a: EntityTag, b: EntityTag): boolean {
  return !a.weak && !b.weak && a.opaque === b.opaque;
}

/** Weak comparison: identical opaque parts, W/ ignored. */
export function weakMatch(a: EntityTag, b: EntityTag): boolean {
  return a.opaque === b.opaque;
}

/** An HTTP-date as milliseconds, NaN when it is not one. */
export function parseHttpDate(value: string | undefined): number {
  if (!value) return NaN;
  // Date.parse also takes "1" or ISO strings: require the shape of the three HTTP-date forms
  // (IMF-fixdate, RFC 850, asctime), which all start with a day name.
  if (!/^[A-Za-z]{3,9},? \S/.test(value.trim())) return NaN;
  return Date.parse(value);
}

/** What the current representation offers for comparison. */
export interface Validators {
  /** The ETag being sent, if any. */
  etag?: string | undefined;
  /** Last modification in ms (whole seconds, as HTTP-dates carry), if Last-Modified is sent. */
  lastModified?: number | undefined;
}

export type PreconditionResult = 'proceed' | 'precondition-failed' | 'not-modified';

type Headers = Readonly<Record<string, string | readonly string[] | undefined>>;

function header(headers: Headers, name: string): string | undefined {
  const v = headers[name];
  return typeof v === 'string' || v === undefined ? v : v.join(', ');
}

/**
 * Evaluates the preconditions for a GET or HEAD of an existing representation (RFC 9110 13.2.2,
 * steps 1-4). If-Match uses the strong comparison, so a weak ETag never satisfies it (only `*`
 * does); If-None-Match the weak one. A date condition is only evaluated when a Last-Modified is
 * known, and an invalid date is ignored. Unlike fresh, `Cache-Control: no-cache` does not prevent a
 * 304: fetch() adds it to every request that carries its own If-None-Match.
 */
export function evaluatePreconditions(headers: Headers, v: Validators, method = 'GET'): PreconditionResult {
  const current = v.etag ? parseEntityTag(v.etag) : null;
  const ifMatch = header(headers, 'if-match');
  if (ifMatch !== undefined && ifMatch.trim() !== '') {
    const tags = parseEntityTags(ifMatch);
    // `*`: true when a current representation exists, which it does here.
    if (tags !== null && !(current && tags.some((t) => strongMatch(t, current)))) return 'precondition-failed';
  } else {
    const since = parseHttpDate(header(headers, 'if-unmodified-since'));
    if (!Number.isNaN(since) && v.lastModified !== undefined && v.lastModified > since) return 'precondition-failed';
  }
  const isGet = method === 'GET' || method === 'HEAD';
  const ifNoneMatch = header(headers, 'if-none-match');
  if (ifNoneMatch !== undefined && ifNoneMatch.trim() !== '') {
    const tags = parseEntityTags(ifNoneMatch);
    const matched = tags === null || Boolean(current && tags.some((t) => weakMatch(t, current)));
    if (matched) return isGet ? 'not-modified' : 'precondition-failed';
    return 'proceed';
  }
  if (isGet) {
    const since = parseHttpDate(header(headers, 'if-modified-since'));
    if (!Number.isNaN(since) && v.lastModified !== undefined && v.lastModified <= since) return 'not-modified';
  }
  return 'proceed';
}

/**
 * If-Range (13.1.5): true when the Range may be honoured. An entity-tag must match strongly (a
 * weak tag never does); a date must equal the Last-Modified exactly. Absent means true.
 */
export function ifRangeMatches(headers: Headers, v: Validators): boolean {
  const value = header(headers, 'if-range')?.trim();
  if (!value) return true;
  if (value.startsWith('"') || value.startsWith('W/')) {
    const tag = parseEntityTag(value);
    const current = v.etag ? parseEntityTag(v.etag) : null;
    return Boolean(tag && current && strongMatch(tag, current));
  }
  const date = parseHttpDate(value);
  return !Number.isNaN(date) && v.lastModified !== undefined && date === v.lastModified;
}
