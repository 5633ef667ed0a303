// Strings of PARAMS without decoding them again on every request. A web server sends the same
// names (and mostly the same values: SERVER_*, DOCUMENT_ROOT, Host, User-Agent...) each time, and
// making ~50 strings per request was a fifth of a hello's CPU time. Names are interned in a table
// keyed by their bytes; each name remembers its last value, reused while the bytes are the same.
// Strings are immutable, so handing out the same string is indistinguishable from a fresh one.
// The cache is shared by every connection, so two rules keep one request's values from telling
// anything about another's: values are compared in time that depends only on their length (no
// early exit at the first differing byte), and values of names that carry credentials are never
// kept at all.

/** Names longer than this are decoded every time. */
const MAX_NAME = 64;
/** Values longer than this are decoded every time. */
const MAX_VALUE = 1024;
const TABLE_SIZE = 512;
/** Past this many names the table is cleared (at the start of a decode, never during one). */
const MAX_NAMES = TABLE_SIZE * 0.75;
/** Names whose values are never kept: cookies, credentials, tokens, keys. */
const SECRET_NAME = /COOKIE|AUTH|TOKEN|SECRET|PASSW|KEY|SESSION|SIGNATURE|CSRF|XSRF/i;

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
  /** The name carries credentials: its values are decoded every time and never kept. */
  readonly secret: boolean;

  constructor(bytes: Uint8Array, name: string) {
    this.bytes = bytes;
    this.name = name;
    this.secret = SECRET_NAME.test(name);
  }
}

let slots: (NameSlot | undefined)[] = new Array(TABLE_SIZE);
let used = 0;
let decodeStamp = 0;

/** Starts a decode; returns its stamp. */
export function beginDecode(): number {
  if (used >= MAX_NAMES) {
    slots = new Array(TABLE_SIZE);
    used = 0;
  }
  decodeStamp = (decodeStamp + 1) | 0 || 1;
  return decodeStamp;
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

/**
 * The slot for the name in `b[start, start + len)`, made if new; undefined when the name is not
 * cached (too long, or the table is full for this decode).
 */
export function nameSlot(b: Buffer, start: number, len: number): NameSlot | undefined {
  if (len > MAX_NAME) return undefined;
  // A few bytes and the length pick the slot (the names that matter differ in them); the full
  // comparison below decides.
  const last = start + len - 1;
  let h = len === 0 ? 0 : Math.imul(len ^ (b[start]! << 8) ^ (b[last]! << 16) ^ (b[start + (len >> 1)]! << 24), 0x9e3779b1);
  if (len > 6) h = Math.imul(h ^ b[start + 5]! ^ (b[last - 1]! << 8), 0x85ebca6b);
  for (let i = (h ^ (h >>> 16)) & (TABLE_SIZE - 1); ; i = (i + 1) & (TABLE_SIZE - 1)) {
    const slot = slots[i];
    if (slot === undefined) {
      if (used >= MAX_NAMES) return undefined;
      used++;
      const bytes = new Uint8Array(len);
      b.copy(bytes, 0, start, start + len);
      return (slots[i] = new NameSlot(bytes, b.toString('utf8', start, start + len)));
    }
    if (slot.bytes.length === len && sameBytes(slot.bytes, b, start, len)) return slot;
  }
}

/** The value in `b[start, start + len)` as a string, the slot's last one when the bytes match. */
export function slotValue(slot: NameSlot, b: Buffer, start: number, len: number): string {
  if (len === 0) return '';
  if (len > MAX_VALUE || slot.secret) return b.toString('utf8', start, start + len);
  if (slot.score < 0) {
    // A value that keeps changing: decode without comparing for a few requests, then try again.
    slot.score++;
    return b.toString('utf8', start, start + len);
  }
  const cached = slot.valueBytes;
  if (slot.valueLen === len && cached !== null &&
      sameBytesConstant(cached, b, start, len)) {
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

/** @internal For tests: the value kept for `name`, if any. */
export function keptValue(name: string): string | undefined {
  for (const slot of slots) if (slot?.name === name && slot.valueBytes !== null) return slot.value;
  return undefined;
}

export type { NameSlot };
