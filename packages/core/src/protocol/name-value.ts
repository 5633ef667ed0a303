// Name-value pairs (PARAMS, GET_VALUES, GET_VALUES_RESULT): lengths of 1 byte (< 128) or 4 bytes
// with the top bit set (31 bits).
import { ErrorCode } from '../errors.js';
import { protocolError } from './errors.js';
import { Dictionary } from './dictionary.js';
import type { ParamStrings } from './param-strings.js';

/** Largest length the 4-byte form can carry. */
export const MAX_NV_LENGTH = 0x7fffffff;

/** Writes a length at `offset`; returns the offset after it. */
export function writeLength(buf: Uint8Array, offset: number, len: number): number {
  if (len < 128) {
    buf[offset] = len;
    return offset + 1;
  }
  if (len > MAX_NV_LENGTH) throw new RangeError(`name-value length ${len} exceeds 2^31-1`);
  buf[offset] = (len >>> 24) | 0x80;
  buf[offset + 1] = (len >>> 16) & 0xff;
  buf[offset + 2] = (len >>> 8) & 0xff;
  buf[offset + 3] = len & 0xff;
  return offset + 4;
}

export type NameValues = Iterable<readonly [string, string]> | Readonly<Record<string, string>>;

function entries(pairs: NameValues): Iterable<readonly [string, string]> {
  return Symbol.iterator in pairs ? (pairs as Iterable<readonly [string, string]>) : Object.entries(pairs);
}

/** Encodes pairs as one byte string (split it into records with encodeStream). */
export function encodeNameValues(pairs: NameValues): Buffer {
  const parts: Buffer[] = [];
  let total = 0;
  for (const [name, value] of entries(pairs)) {
    const n = Buffer.from(name, 'utf8');
    const v = Buffer.from(value, 'utf8');
    const head = Buffer.allocUnsafe(8);
    const end = writeLength(head, writeLength(head, 0, n.length), v.length);
    parts.push(head.subarray(0, end), n, v);
    total += end + n.length + v.length;
  }
  return Buffer.concat(parts, total);
}

/** Limits applied while decoding; a pair past them is a ProtocolError. */
export interface NameValueLimits {
  /** Most pairs accepted. */
  maxPairs?: number;
  /** The value kept when a name repeats; default: the later value replaces the earlier. */
  merge?(name: string, earlier: string, later: string): string;
}

/** Receives the pairs of a name-value byte string in order. */
export interface NameValueSink {
  /** `repeated`: the name came earlier in the same byte string. */
  pair(name: string, value: string, repeated: boolean): void;
}

/**
 * Decodes a complete name-value byte string, handing each pair to `sink`; returns the number of
 * pairs. Names and values are read as UTF-8, through a server's string cache when one is given.
 * Throws a protocol error (FcgiError, code ERR_FCGI_MALFORMED) on a truncated pair, and with code ERR_FCGI_LIMIT past `maxPairs`.
 */
export function decodeNameValuesTo(
  buf: Uint8Array,
  sink: NameValueSink,
  maxPairs = Infinity,
  strings?: ParamStrings,
): number {
  const b = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.length);
  const size = b.length;
  const stamp = strings ? strings.begin() : 0;
  // Names not cached (no cache, too long for it, or past a full one) are tracked here.
  let uncached: Set<string> | null = null;
  let at = 0;
  let count = 0;
  while (at < size) {
    let nameLen = b[at++]!;
    if (nameLen > 127) {
      if (at + 3 > size) throw protocolError('truncated name length in name-value pair');
      nameLen = ((nameLen & 0x7f) << 24) | (b[at]! << 16) | (b[at + 1]! << 8) | b[at + 2]!;
      at += 3;
    }
    if (at >= size) throw protocolError('truncated value length in name-value pair');
    let valueLen = b[at++]!;
    if (valueLen > 127) {
      if (at + 3 > size) throw protocolError('truncated value length in name-value pair');
      valueLen = ((valueLen & 0x7f) << 24) | (b[at]! << 16) | (b[at + 1]! << 8) | b[at + 2]!;
      at += 3;
    }
    const valueStart = at + nameLen;
    const end = valueStart + valueLen;
    if (end > size) throw protocolError(`name-value pair of ${nameLen}+${valueLen} bytes overruns its ${size - at}`);
    if (++count > maxPairs) throw protocolError(`more than ${maxPairs} name-value pairs`, ErrorCode.LIMIT);
    const slot = strings?.slot(b, at, nameLen);
    if (slot !== undefined) {
      const repeated = slot.stamp === stamp;
      slot.stamp = stamp;
      sink.pair(slot.name, strings!.value(slot, b, valueStart, valueLen), repeated);
    } else {
      const name = b.toString('utf8', at, valueStart);
      const repeated = uncached?.has(name) === true;
      (uncached ??= new Set()).add(name);
      sink.pair(name, b.toString('utf8', valueStart, end), repeated);
    }
    at = end;
  }
  return count;
}

/** Collects pairs into a dictionary (see decodeNameValues). */
class DictionarySink implements NameValueSink {
  readonly out: Record<string, string> = new Dictionary();
  readonly #merge: NameValueLimits['merge'];
  constructor(merge: NameValueLimits['merge']) {
    this.#merge = merge;
  }
  pair(name: string, value: string, repeated: boolean): void {
    this.out[name] = repeated && this.#merge ? this.#merge(name, this.out[name]!, value) : value;
  }
}

/**
 * Decodes a complete name-value byte string into an object that inherits no property (a pair
 * named `__proto__` or `toString` stays a pair; see Dictionary). A later duplicate name replaces an earlier one, unless `merge` is
 * given. Names and values are read as UTF-8. Throws a protocol error (FcgiError, code ERR_FCGI_MALFORMED) on a truncated pair.
 */
export function decodeNameValues(buf: Uint8Array, limits: NameValueLimits = {}): Record<string, string> {
  const sink = new DictionarySink(limits.merge);
  decodeNameValuesTo(buf, sink, limits.maxPairs);
  return sink.out;
}
