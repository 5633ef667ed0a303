// multipart/byteranges (RFC 9110 14.6): one part per range, each with its Content-Type and
// Content-Range, laid out as RFC 2046 says (the CRLF before a delimiter belongs to it). Planned
// in advance so the response has an exact Content-Length and the data is streamed from the file.
import { randomBytes } from 'node:crypto';
import { contentRange, type ByteRange } from './range.js';

/** What to write, in order: literal bytes, or a range of the file. */
export type Segment = Buffer | ByteRange;

export interface MultipartPlan {
  /** The response's Content-Type: `multipart/byteranges; boundary=...`. */
  contentType: string;
  segments: Segment[];
  /** Total body length. */
  length: number;
}

/** A boundary of 24 random hex digits: with 96 random bits it will not occur in the data. */
export function makeBoundary(): string {
  return randomBytes(12).toString('hex');
}

/** The body of a 206 for several ranges of a `size`-byte file of type `type`. */
export function planMultipart(
  ranges: readonly ByteRange[],
  size: number,
  type: string | undefined,
  boundary = makeBoundary(),
): MultipartPlan {
  const segments: Segment[] = [];
  let length = 0;
  ranges.forEach((r, i) => {
    const head = Buffer.from(
      `${i === 0 ? '' : '\r\n'}--${boundary}\r\n` +
        (type ? `Content-Type: ${type}\r\n` : '') +
        `Content-Range: ${contentRange(size, r)}\r\n\r\n`,
      'latin1',
    );
    segments.push(head, { start: r.start, end: r.end });
    length += head.length + (r.end - r.start + 1);
  });
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`, 'latin1');
  segments.push(tail);
  length += tail.length;
  return { contentType: `multipart/byteranges; boundary=${boundary}`, segments, length };
}
