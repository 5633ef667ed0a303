// The CGI header block a response starts with: `Status:`, headers, an empty line.
import { STATUS_CODES } from 'node:http';
import type { HeaderEntry } from './out-headers.js';
import { ErrorCode, FcgiError } from '../errors.js';

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// A value may hold tabs, visible latin1 and spaces: no CR, LF, NUL or other controls, nothing
// above U+00FF (the block is sent as latin1, byte for character, as Node's http does).
const BAD_VALUE = /[^\t\x20-\x7e\x80-\xff]/;

// Names a response sets are the same few dozen each time: the checked, lower-cased form is kept
// (bounded), so setHeader() costs a lookup instead of a regex and a toLowerCase().
const headerKeys = new Map<string, string>();
const MAX_CACHED_KEYS = 256;

/** The lower-case key of a valid header name; throws on an invalid one. */
export function headerKey(name: string): string {
  let key = headerKeys.get(name);
  if (key === undefined) {
    checkHeaderName(name);
    key = name.toLowerCase();
    if (headerKeys.size < MAX_CACHED_KEYS) headerKeys.set(name, key);
  }
  return key;
}

export function checkHeaderName(name: string): void {
  if (typeof name !== 'string' || !TOKEN.test(name)) {
    throw new FcgiError(ErrorCode.INVALID_HEADER, `invalid header name ${JSON.stringify(name)}`);
  }
}

export function checkHeaderValue(name: string, value: string): void {
  // Short values (most) by a loop over their characters; long ones by the regex.
  if (value.length <= 64) {
    for (let i = 0; i < value.length; i++) {
      const c = value.charCodeAt(i);
      if (c < 0x20 ? c !== 9 : c === 0x7f || c > 0xff) throw badValue(name);
    }
  } else if (BAD_VALUE.test(value)) throw badValue(name);
}

function badValue(name: string): FcgiError {
  return new FcgiError(ErrorCode.INVALID_HEADER, `invalid character in the value of header ${JSON.stringify(name)}`);
}

/** Headers that describe one hop of HTTP; the web server owns them, so the block never carries them. */
export const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
]);

/**
 * A response's final status: an integer 200-999. A 1xx is refused: FastCGI carries one answer per
 * request, and a gateway (ours, like nginx) takes a 1xx there as a broken answer (502).
 */
export function checkStatus(code: number): void {
  if (!Number.isInteger(code) || code < 100 || code > 999) {
    throw new FcgiError(ErrorCode.INVALID_STATUS, `invalid status code ${code}`);
  }
  if (code === 101) {
    throw new FcgiError(
      ErrorCode.UNSUPPORTED,
      '101 Switching Protocols cannot pass FastCGI: the web server keeps the connection (no upgrades, no WebSocket)',
    );
  }
  if (code < 200) {
    throw new FcgiError(
      ErrorCode.INVALID_STATUS,
      `invalid status code ${code}: a 1xx is an interim response, not an answer (a final status is 200-999)`,
    );
  }
}

/**
 * The header block. `Status:` is left out for a plain 200 (the CGI default) unless a Location is
 * present, where a missing Status would ask Apache for an internal redirect.
 */
export function serializeHead(status: number, message: string, headers: Record<string, HeaderEntry>): string {
  let head = '';
  if (status !== 200 || message || 'location' in headers) {
    head = `Status: ${status} ${message || STATUS_CODES[status] || 'Unknown'}\r\n`;
  }
  for (const key in headers) {
    // The status line is ours; a `Status` header set by hand would make a second one.
    if (HOP_BY_HOP.has(key) || key === 'status') continue;
    const [name, value] = headers[key]!;
    if (typeof value === 'object') for (const v of value) head += `${name}: ${v}\r\n`;
    else head += `${name}: ${value}\r\n`;
  }
  // CGI wants at least one field: a bare 200 without headers still says its status.
  return (head || 'Status: 200 OK\r\n') + '\r\n';
}
