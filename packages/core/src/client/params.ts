// PARAMS as records: whole name-value pairs per record wherever a pair fits, since PHP-FPM decodes
// each PARAMS record on its own and drops the connection on a pair that straddles two.
import { Readable } from 'node:stream';
import {
  HEADER_LEN,
  MAX_CONTENT_LEN,
  RecordType,
  encodeNameValues,
  encodeStream,
  writeHeader,
} from '../protocol/index.js';

export type RequestParams = Readonly<Record<string, string>> | readonly (readonly [string, string])[];
export type RequestBody = Uint8Array | string | Readable;

/** A request as bytes ready to send, checked before it waits for a connection. */
export interface PreparedRequest {
  /** The whole PARAMS stream. */
  params: Buffer;
  /** A body of known length (sent with the params in one write), or null. */
  data: Uint8Array | null;
  /** A body to stream, or null. */
  stream: Readable | null;
}

/** Encodes the params (adding CONTENT_LENGTH for a known-length body); throws TypeError on bad input. */
export function prepareRequest(
  requestId: number,
  params: RequestParams,
  body: RequestBody | undefined,
): PreparedRequest {
  let data: Uint8Array | null = null;
  let stream: Readable | null = null;
  if (body instanceof Readable) stream = body;
  else if (typeof body === 'string') data = Buffer.from(body, 'utf8');
  else if (body instanceof Uint8Array) data = body;
  else if (body !== undefined && body !== null)
    throw new TypeError('body must be a Buffer, a Uint8Array, a string or a Readable');
  for (const [name, value] of pairs(params)) {
    if (typeof name !== 'string' || typeof value !== 'string') {
      throw new TypeError(`param ${String(name)} must be a string, got ${typeof value}`);
    }
  }
  const withLength = data && data.length > 0 ? withContentLength(params, data.length) : params;
  return { params: encodeParams(requestId, withLength), data, stream };
}

function pairs(params: RequestParams): Iterable<readonly [string, string]> {
  return Array.isArray(params) ? (params as readonly (readonly [string, string])[]) : Object.entries(params);
}

/**
 * The PARAMS stream of `requestId`, ending with its empty record. Pairs are packed into records of
 * at most 65535 bytes without splitting; only a pair larger than that spans records.
 */
export function encodeParams(requestId: number, params: RequestParams): Buffer {
  const out: Buffer[] = [];
  let batch: Buffer[] = [];
  let batchLen = 0;
  const flush = () => {
    if (batchLen === 0) return;
    out.push(encodeStream(RecordType.PARAMS, requestId, Buffer.concat(batch, batchLen), false));
    batch = [];
    batchLen = 0;
  };
  for (const pair of pairs(params)) {
    const encoded = encodeNameValues([pair]);
    if (batchLen + encoded.length > MAX_CONTENT_LEN) flush();
    batch.push(encoded);
    batchLen += encoded.length;
  }
  flush();
  const end = Buffer.alloc(HEADER_LEN);
  writeHeader(end, 0, RecordType.PARAMS, requestId, 0, 0);
  out.push(end);
  return Buffer.concat(out);
}

/** Adds CONTENT_LENGTH for a body of known length, unless the caller set it. */
export function withContentLength(params: RequestParams, length: number): RequestParams {
  if (Array.isArray(params)) {
    const list = params as readonly (readonly [string, string])[];
    return list.some(([n]) => n === 'CONTENT_LENGTH') ? list : [...list, ['CONTENT_LENGTH', String(length)]];
  }
  const obj = params as Readonly<Record<string, string>>;
  return 'CONTENT_LENGTH' in obj ? obj : { ...obj, CONTENT_LENGTH: String(length) };
}
