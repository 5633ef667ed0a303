// One server's cache of PARAMS strings, so that a web server's names and its unchanging values are
// not decoded again on every request. A web server sends the same names each time, and the same
// values for many of them (SERVER_*, DOCUMENT_ROOT, Host, User-Agent...); decoding ~20-50 strings
// per request was a tenth to a fifth of a hello's CPU time (docs/benchmarks.md). Names are interned
// in a table keyed by their bytes; a name on the allow-list below also remembers its last value,
// reused while the bytes are the same. Strings are immutable, so handing out the same string is
// indistinguishable from a fresh one.
// What keeps one request's values from telling anything about another's: a server owns its cache
// (created by the server, handed to its connections; nothing process-wide); only values of the
// standard CGI variables and of common request headers that carry no credentials are ever kept
// (an allow-list: a header not on it, HTTP_X_API_CREDENTIAL say, is decoded afresh every time); and
// kept values are compared in time that depends only on their length (no early exit at the first
// differing byte).

/** Names longer than this are decoded every time. */
const MAX_NAME = 64;
/** Values longer than this are decoded every time. */
const MAX_VALUE = 1024;
const TABLE_SIZE = 512;
/** Past this many names the table is cleared (at the start of a decode, never during one). */
const MAX_NAMES = TABLE_SIZE * 0.75;

/**
 * The names whose values may be kept: CGI/1.1 variables (RFC 3875) and those web servers add that
 * describe the server or the script, plus request headers that identify no one and prove nothing.
 * Never here: anything with the request's path or query (REQUEST_URI, QUERY_STRING, PATH_INFO...),
 * the client's address, cookies, authorization, referer, or any header not listed.
 */
export const CACHED_VALUE_NAMES: ReadonlySet<string> = new Set([
  'GATEWAY_INTERFACE',
  'SERVER_SOFTWARE',
  'SERVER_NAME',
  'SERVER_PORT',
  'SERVER_ADDR',
  'SERVER_PROTOCOL',
  'SERVER_ADMIN',
  'SERVER_SIGNATURE',
  'REQUEST_METHOD',
  'REQUEST_SCHEME',
  'HTTPS',
  'REDIRECT_STATUS',
  'DOCUMENT_ROOT',
  'CONTEXT_DOCUMENT_ROOT',
  'CONTEXT_PREFIX',
  'SCRIPT_FILENAME',
  'SCRIPT_NAME',
  'CONTENT_TYPE',
  'CONTENT_LENGTH',
  'FCGI_ROLE',
  'PATH',
  'HTTP_HOST',
  'HTTP_ACCEPT',
  'HTTP_ACCEPT_ENCODING',
  'HTTP_ACCEPT_LANGUAGE',
  'HTTP_USER_AGENT',
  'HTTP_CONNECTION',
  'HTTP_CACHE_CONTROL',
  'HTTP_PRAGMA',
  'HTTP_UPGRADE_INSECURE_REQUESTS',
  'HTTP_DNT',
  'HTTP_SEC_FETCH_DEST',
  'HTTP_SEC_FETCH_MODE',
  'HTTP_SEC_FETCH_SITE',
  'HTTP_SEC_FETCH_USER',
  'HTTP_SEC_CH_UA',
  'HTTP_SEC_CH_UA_MOBILE',
  'HTTP_SEC_CH_UA_PLATFORM',
  'HTTP_TE',
]);

class NameSlot {
  readonly bytes: Uint8Array;
  readonly name: string;
  /** The decode that last saw this name: a second sighting in the same decode is a repeat. */
  stamp = 0;
  value = '';
  valueBytes: Uint8Array | null = null;
  valueLen = -1;
  /** Hits raise it, misses lower it more: a value that changes every time stops being compared. */
  score = 0;
  /** The name is on the allow-list: its last value is kept. */
  readonly keepsValue: boolean;

  constructor(bytes: Uint8Array, name: string) {
    this.bytes = bytes;
    this.name = name;
    this.keepsValue = CACHED_VALUE_NAMES.has(name);
  }
}

function sameBytes(a: Uint8Array, b: Buffer, start: number, len: number): boolean {
  for (let i = 0; i < len; i++) if (a[i] !== b[start + i]) return false;
  return true;
}

/** sameBytes in time that depends on `len` only (see the top of the file). */
function sameBytesConstant(a: Uint8Array, b: Buffer, start: number, len: number): boolean {
  let diff = 0;
  for (let i = 0; i < len; i++) diff |= a[i]! ^ b[start + i]!;
  return diff === 0;
}

/** A server's cache; its connections pass it to decodeNameValuesTo. */
export class ParamStrings {
  #slots: (NameSlot | undefined)[] = new Array(TABLE_SIZE);
  #used = 0;
  #stamp = 0;

  /** Starts a decode; returns its stamp. */
  begin(): number {
    if (this.#used >= MAX_NAMES) {
      this.#slots = new Array(TABLE_SIZE);
      this.#used = 0;
    }
    this.#stamp = (this.#stamp + 1) | 0 || 1;
    return this.#stamp;
  }

  /**
   * The slot for the name in `b[start, start + len)`, made if new; undefined when the name is not
   * cached (too long, or the table is full for this decode).
   */
  slot(b: Buffer, start: number, len: number): NameSlot | undefined {
    if (len > MAX_NAME) return undefined;
    // A few bytes and the length pick the slot (the names that matter differ in them); the full
    // comparison below decides.
    const last = start + len - 1;
    let h =
      len === 0 ? 0 : Math.imul(len ^ (b[start]! << 8) ^ (b[last]! << 16) ^ (b[start + (len >> 1)]! << 24), 0x9e3779b1);
    if (len > 6) h = Math.imul(h ^ b[start + 5]! ^ (b[last - 1]! << 8), 0x85ebca6b);
    const slots = this.#slots;
    for (let i = (h ^ (h >>> 16)) & (TABLE_SIZE - 1); ; i = (i + 1) & (TABLE_SIZE - 1)) {
      const slot = slots[i];
      if (slot === undefined) {
        if (this.#used >= MAX_NAMES) return undefined;
        this.#used++;
        const bytes = new Uint8Array(len);
        b.copy(bytes, 0, start, start + len);
        return (slots[i] = new NameSlot(bytes, b.toString('utf8', start, start + len)));
      }
      if (slot.bytes.length === len && sameBytes(slot.bytes, b, start, len)) return slot;
    }
  }

  /** The value in `b[start, start + len)` as a string: the slot's last one when the bytes match. */
  value(slot: NameSlot, b: Buffer, start: number, len: number): string {
    if (len === 0) return '';
    if (!slot.keepsValue || len > MAX_VALUE) return b.toString('utf8', start, start + len);
    if (slot.score < 0) {
      // A value that keeps changing: decode without comparing for a few requests, then try again.
      slot.score++;
      return b.toString('utf8', start, start + len);
    }
    const cached = slot.valueBytes;
    if (slot.valueLen === len && cached !== null && sameBytesConstant(cached, b, start, len)) {
      if (slot.score < 8) slot.score++;
      return slot.value;
    }
    slot.score -= 2;
    const value = b.toString('utf8', start, start + len);
    const store = cached !== null && cached.length >= len ? cached : new Uint8Array(Math.max(len, 32));
    b.copy(store, 0, start, start + len);
    slot.valueBytes = store;
    slot.valueLen = len;
    slot.value = value;
    return value;
  }

  /** For tests: the value kept for `name`, if any. */
  kept(name: string): string | undefined {
    for (const slot of this.#slots) if (slot?.name === name && slot.valueBytes !== null) return slot.value;
    return undefined;
  }
}

export type { NameSlot };
