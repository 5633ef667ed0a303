// Conditional GET (RFC 9110 13.1.1, 13.1.3): is the client's cached copy still good?

/** Parses a list of entity tags (`"a", W/"b"`) into their opaque parts with any W/ kept. */
function parseTags(list: string): string[] {
  const tags: string[] = [];
  for (const raw of list.split(',')) {
    const t = raw.trim();
    if (t) tags.push(t);
  }
  return tags;
}

/** Weak comparison: W/"x" and "x" match. */
function weakEqual(a: string, b: string): boolean {
  return (a.startsWith('W/') ? a.slice(2) : a) === (b.startsWith('W/') ? b.slice(2) : b);
}

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
 * True when the request's validators match the response's: If-None-Match (weak comparison, `*`),
 * else If-Modified-Since against Last-Modified. `Cache-Control: no-cache` asks for a full answer.
 */
export function isFresh(req: FreshRequest, res: FreshResponse): boolean {
  const noneMatch = req['if-none-match'];
  const modifiedSince = req['if-modified-since'];
  if (!noneMatch && !modifiedSince) return false;
  if (req['cache-control'] && /(?:^|,)\s*no-cache\s*(?:,|$)/.test(req['cache-control'])) return false;
  if (noneMatch && noneMatch !== '*') {
    const etag = res.etag;
    if (!etag || !parseTags(noneMatch).some((t) => weakEqual(t, etag))) return false;
    return true; // If-None-Match wins over If-Modified-Since when both are present.
  }
  if (noneMatch === '*') return true;
  const lastModified = res['last-modified'];
  if (!lastModified) return false;
  const since = Date.parse(modifiedSince!);
  const modified = Date.parse(lastModified);
  return !Number.isNaN(since) && !Number.isNaN(modified) && modified <= since;
}
