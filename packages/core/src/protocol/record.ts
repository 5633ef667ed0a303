// Record headers and whole records as bytes: the encoders every writer in this package uses.
import { protocolError } from './errors.js';
import {
  Flags,
  HEADER_LEN,
  MAX_CONTENT_LEN,
  NULL_REQUEST_ID,
  RecordType,
  VERSION_1,
  type ProtocolStatus,
  type RoleNumber,
} from './constants.js';

/** A decoded record header. */
export interface RecordHeader {
  version: number;
  type: number;
  requestId: number;
  contentLength: number;
  paddingLength: number;
}

/** Padding that brings `len` up to a multiple of 8, as the spec recommends for senders. */
export function paddingFor(len: number): number {
  return -len & 7;
}

/** Shared zero bytes for padding; never written to. */
const ZEROS = Buffer.alloc(8);

export function decodeHeader(buf: Uint8Array, offset = 0): RecordHeader {
  if (buf.length - offset < HEADER_LEN) throw new RangeError('a record header is 8 bytes');
  return {
    version: buf[offset]!,
    type: buf[offset + 1]!,
    requestId: (buf[offset + 2]! << 8) | buf[offset + 3]!,
    contentLength: (buf[offset + 4]! << 8) | buf[offset + 5]!,
    paddingLength: buf[offset + 6]!,
  };
}

/** Writes an 8-byte header at `offset`. */
export function writeHeader(
  buf: Uint8Array,
  offset: number,
  type: number,
  requestId: number,
  contentLength: number,
  paddingLength: number,
): void {
  buf[offset] = VERSION_1;
  buf[offset + 1] = type;
  buf[offset + 2] = requestId >>> 8;
  buf[offset + 3] = requestId & 0xff;
  buf[offset + 4] = contentLength >>> 8;
  buf[offset + 5] = contentLength & 0xff;
  buf[offset + 6] = paddingLength;
  buf[offset + 7] = 0;
}

/** Bytes needed to carry `len` bytes of a stream as records (without the empty end record). */
export function streamRecordsLength(len: number): number {
  let total = 0;
  while (len > 0) {
    const n = len > MAX_CONTENT_LEN ? MAX_CONTENT_LEN : len;
    total += HEADER_LEN + n + paddingFor(n);
    len -= n;
  }
  return total;
}

/**
 * Copies `content[start, end)` into `out` at `offset` as records of `type` (at most 65535 bytes of
 * content each, padded to 8). Returns the offset after the last record. Writes nothing for an empty
 * range: the empty record that ends a stream is written by the caller with writeHeader.
 */
export function writeStreamRecords(
  out: Buffer,
  offset: number,
  type: number,
  requestId: number,
  content: Uint8Array,
  start = 0,
  end = content.length,
): number {
  while (start < end) {
    const n = end - start > MAX_CONTENT_LEN ? MAX_CONTENT_LEN : end - start;
    const pad = paddingFor(n);
    writeHeader(out, offset, type, requestId, n, pad);
    offset += HEADER_LEN;
    out.set(content.subarray(start, start + n), offset);
    offset += n;
    out.fill(0, offset, offset + pad);
    offset += pad;
    start += n;
  }
  return offset;
}

/** One record, content copied, padded to 8. Content over 65535 bytes is a caller error. */
export function encodeRecord(type: number, requestId: number, content: Uint8Array = ZEROS.subarray(0, 0)): Buffer {
  if (content.length > MAX_CONTENT_LEN) throw new RangeError(`record content of ${content.length} bytes exceeds 65535`);
  const pad = paddingFor(content.length);
  const out = Buffer.allocUnsafe(HEADER_LEN + content.length + pad);
  writeHeader(out, 0, type, requestId, content.length, pad);
  out.set(content, HEADER_LEN);
  out.fill(0, HEADER_LEN + content.length);
  return out;
}

/**
 * A whole stream: `content` split into records of at most 65535 bytes, then the empty record that
 * ends the stream (omitted with `end: false`).
 */
export function encodeStream(type: number, requestId: number, content: Uint8Array, end = true): Buffer {
  const len = streamRecordsLength(content.length) + (end ? HEADER_LEN : 0);
  const out = Buffer.allocUnsafe(len);
  const at = writeStreamRecords(out, 0, type, requestId, content);
  if (end) writeHeader(out, at, type, requestId, 0, 0);
  return out;
}

/**
 * The records for `chunk` as a list of buffers for a vectored write, without copying the content:
 * header, content slice and padding for each record.
 */
export function streamRecordViews(type: number, requestId: number, chunk: Uint8Array, into: Uint8Array[]): void {
  for (let start = 0; start < chunk.length; start += MAX_CONTENT_LEN) {
    const n = Math.min(MAX_CONTENT_LEN, chunk.length - start);
    const pad = paddingFor(n);
    const header = Buffer.allocUnsafe(HEADER_LEN);
    writeHeader(header, 0, type, requestId, n, pad);
    into.push(header, chunk.subarray(start, start + n));
    if (pad) into.push(ZEROS.subarray(0, pad));
  }
}

export function encodeBeginRequest(requestId: number, role: RoleNumber | number, keepConn: boolean): Buffer {
  const out = Buffer.alloc(HEADER_LEN * 2);
  writeHeader(out, 0, RecordType.BEGIN_REQUEST, requestId, 8, 0);
  out[8] = role >>> 8;
  out[9] = role & 0xff;
  out[10] = keepConn ? Flags.KEEP_CONN : 0;
  return out;
}

/** END_REQUEST written into `out` at `offset` (16 bytes). */
export function writeEndRequest(
  out: Uint8Array,
  offset: number,
  requestId: number,
  appStatus: number,
  protocolStatus: ProtocolStatus | number,
): number {
  writeHeader(out, offset, RecordType.END_REQUEST, requestId, 8, 0);
  const b = offset + HEADER_LEN;
  out[b] = appStatus >>> 24;
  out[b + 1] = (appStatus >>> 16) & 0xff;
  out[b + 2] = (appStatus >>> 8) & 0xff;
  out[b + 3] = appStatus & 0xff;
  out[b + 4] = protocolStatus;
  out[b + 5] = 0;
  out[b + 6] = 0;
  out[b + 7] = 0;
  return offset + 16;
}

export function encodeEndRequest(
  requestId: number,
  appStatus: number,
  protocolStatus: ProtocolStatus | number,
): Buffer {
  const out = Buffer.allocUnsafe(16);
  writeEndRequest(out, 0, requestId, appStatus, protocolStatus);
  return out;
}

export function encodeAbortRequest(requestId: number): Buffer {
  return encodeRecord(RecordType.ABORT_REQUEST, requestId);
}

export function encodeUnknownType(type: number): Buffer {
  const out = Buffer.alloc(HEADER_LEN * 2);
  writeHeader(out, 0, RecordType.UNKNOWN_TYPE, NULL_REQUEST_ID, 8, 0);
  out[8] = type;
  return out;
}

// The body decoders read bytes from the peer: a short body breaks the spec (ProtocolError), not the caller.

/** BEGIN_REQUEST body. */
export interface BeginRequestBody {
  role: number;
  keepConn: boolean;
}

export function decodeBeginRequest(body: Uint8Array): BeginRequestBody {
  if (body.length < 8) throw protocolError(`BEGIN_REQUEST body of ${body.length} bytes, expected 8`);
  return { role: (body[0]! << 8) | body[1]!, keepConn: (body[2]! & Flags.KEEP_CONN) !== 0 };
}

/** END_REQUEST body. */
export interface EndRequestBody {
  appStatus: number;
  protocolStatus: number;
}

export function decodeEndRequest(body: Uint8Array): EndRequestBody {
  if (body.length < 8) throw protocolError(`END_REQUEST body of ${body.length} bytes, expected 8`);
  const appStatus = ((body[0]! << 24) | (body[1]! << 16) | (body[2]! << 8) | body[3]!) >>> 0;
  return { appStatus, protocolStatus: body[4]! };
}
