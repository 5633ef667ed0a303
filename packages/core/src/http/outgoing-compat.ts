// The parts of node:http's ServerResponse API that a FastCGI response has little to do for, kept
// apart from response.ts: FcgiResponse extends this. The web server speaks HTTP to the client, so
// interim responses (100, 102, 103), timeouts and corking are its business; these are accepted
// and do nothing, so code written for node:http runs unchanged. Trailers cannot pass FastCGI:
// addTrailers() drops them and says so once.
import { Stream } from 'node:stream';
import { ErrorCode, FcgiError } from '../errors.js';
import { checkHeaderName, checkHeaderValue } from './cgi-header.js';

export type HeaderValue = string | number | readonly string[];

/** The warning addTrailers() emits, once per process. */
export const TRAILERS_WARNING = 'FCGI_TRAILERS_DROPPED';
let trailersWarned = false;

/** What setHeaders() takes, as in node:http: a Headers or a Map. */
export interface HeaderMap {
  keys(): unknown;
  get(name: string): unknown;
  [Symbol.iterator](): Iterator<[string, HeaderValue]>;
}

export abstract class OutgoingCompat extends Stream {
  abstract headersSent: boolean;
  abstract setHeader(name: string, value: HeaderValue): this;

  /** Sets every header of a Headers or a Map, as node:http does (Set-Cookie values kept apart). */
  setHeaders(headers: HeaderMap): this {
    // setHeader() throws ERR_FCGI_HEADERS_SENT when the headers are final.
    const cookies: string[] = [];
    for (const [name, value] of headers) {
      if (name.toLowerCase() === 'set-cookie') cookies.push(...(typeof value === 'object' ? value : [String(value)]));
      else this.setHeader(name, value);
    }
    // A Headers joins Set-Cookie values with commas; getSetCookie() keeps them apart.
    const split = (headers as { getSetCookie?: () => string[] }).getSetCookie?.();
    if (split?.length) this.setHeader('Set-Cookie', split);
    else if (cookies.length) this.setHeader('Set-Cookie', cookies);
    return this;
  }

  /**
   * Checks the trailers as node:http does, then drops them: a FastCGI response has one header
   * block, and web servers send no trailers from it. node:http drops them too whenever the
   * response is not chunked (a Content-Length, an HTTP/1.0 client), so callers already treat
   * them as optional; the first call in a process emits a warning saying so.
   */
  addTrailers(headers: Record<string, HeaderValue> | readonly (readonly [string, HeaderValue])[]): void {
    const entries = Array.isArray(headers)
      ? (headers as readonly (readonly [string, HeaderValue])[])
      : Object.entries(headers as Record<string, HeaderValue>);
    for (const [name, value] of entries) {
      checkHeaderName(name);
      for (const v of typeof value === 'object' ? value : [value]) checkHeaderValue(name, String(v));
    }
    if (trailersWarned || entries.length === 0) return;
    trailersWarned = true;
    process.emitWarning(
      `res.addTrailers(): trailers dropped (${entries.map((e) => e[0]).join(', ')}): FastCGI carries one header block per response and no trailers`,
      { code: TRAILERS_WARNING },
    );
  }

  writeContinue(cb?: () => void): void {
    if (cb) process.nextTick(cb);
  }

  writeProcessing(cb?: () => void): void {
    if (cb) process.nextTick(cb);
  }

  writeEarlyHints(_hints: Record<string, HeaderValue>, cb?: () => void): void {
    if (cb) process.nextTick(cb);
  }

  setTimeout(_msecs: number, _callback?: () => void): this {
    return this;
  }

  /** A response is written, never read: piping from it throws, as node:http's does (ERR_STREAM_CANNOT_PIPE there). */
  override pipe(): never {
    throw new FcgiError(ErrorCode.UNSUPPORTED, 'cannot pipe from a response: it is written, not read');
  }

  cork(): void {}

  uncork(): void {}

  get writableObjectMode(): boolean {
    return false;
  }
}
