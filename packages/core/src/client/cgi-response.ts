// The CGI header block at the start of a Responder's STDOUT: found incrementally, then parsed into
// an HTTP status and headers the way nginx reads it (Status: line; Location without it means 302).
import { STATUS_CODES } from 'node:http';
import type { FcgiError } from '../errors.js';
import { ClientErrorCode, clientError } from './errors.js';

export interface CgiHead {
  status: number;
  statusText: string;
  /** Lower-case names; a name sent more than once gives an array (Set-Cookie). No `status`. */
  headers: Record<string, string | string[]>;
  /** Every header line as sent, Status included, in order. */
  rawHeaders: [name: string, value: string][];
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * Collects STDOUT until the empty line that ends the header block (CRLF or bare LF line ends, as
 * CGI scripts send both), within `maxBytes`.
 */
export class HeadReader {
  readonly #maxBytes: number;
  #buf: Buffer = Buffer.alloc(0);
  /** Where the line being scanned starts: bytes before it hold complete, non-empty lines. */
  #lineStart = 0;

  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  /** Bytes held so far. */
  get length(): number {
    return this.#buf.length;
  }

  /**
   * Adds a piece of STDOUT. Returns null while the block is incomplete, else the parsed head and
   * the body bytes that followed it in the piece. Throws an FcgiError (BAD_RESPONSE).
   */
  push(chunk: Buffer): { head: CgiHead; rest: Buffer } | null {
    const buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
    let start = this.#lineStart;
    for (;;) {
      const nl = buf.indexOf(10, start);
      if (nl < 0) break;
      const end = nl > start && buf[nl - 1] === 13 ? nl - 1 : nl;
      if (end === start) {
        if (start > this.#maxBytes) break;
        return { head: parseCgiHead(buf.toString('latin1', 0, start)), rest: buf.subarray(nl + 1) };
      }
      start = nl + 1;
    }
    if (buf.length > this.#maxBytes) {
      throw clientError(ClientErrorCode.BAD_RESPONSE, `CGI header block larger than ${this.#maxBytes} bytes`);
    }
    // Keep a copy: the chunk may be a view of a socket read the caller does not own past the call.
    this.#buf = buf === chunk ? Buffer.from(chunk) : buf;
    this.#lineStart = start;
    return null;
  }
}

/** Parses a header block (lines without the final empty one). Throws an FcgiError (BAD_RESPONSE). */
export function parseCgiHead(text: string): CgiHead {
  const headers: Record<string, string | string[]> = Object.create(null);
  const rawHeaders: [string, string][] = [];
  let statusLine: string | undefined;
  for (const line of text.split('\n')) {
    const l = line.endsWith('\r') ? line.slice(0, -1) : line;
    if (l === '') continue;
    const colon = l.indexOf(':');
    const name = colon > 0 ? l.slice(0, colon) : '';
    if (!TOKEN.test(name)) throw bad(`invalid CGI header line ${JSON.stringify(l.slice(0, 100))}`);
    const value = l.slice(colon + 1).trim();
    rawHeaders.push([name, value]);
    const key = name.toLowerCase();
    if (key === 'status') {
      statusLine = value;
      continue;
    }
    const prev = headers[key];
    headers[key] = prev === undefined ? value : typeof prev === 'string' ? [prev, value] : [...prev, value];
  }
  let status = 200;
  let statusText = '';
  if (statusLine !== undefined) {
    const m = /^(\d{3})(?:[ \t]+(.*))?$/.exec(statusLine);
    if (!m || Number(m[1]) < 100) throw bad(`invalid CGI Status ${JSON.stringify(statusLine.slice(0, 100))}`);
    status = Number(m[1]);
    statusText = m[2]?.trim() ?? '';
  } else if (headers.location !== undefined) {
    status = 302;
  }
  return { status, statusText: statusText || STATUS_CODES[status] || '', headers, rawHeaders };
}

function bad(message: string): FcgiError {
  return clientError(ClientErrorCode.BAD_RESPONSE, message);
}
