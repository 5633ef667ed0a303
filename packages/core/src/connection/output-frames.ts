// An exchange's output as bytes: STDOUT content with its record header and padding, and the tail
// that ends a request (empty STDOUT, empty STDERR if it was used, END_REQUEST), in one buffer.
import { HEADER_LEN, RecordType, paddingFor, writeEndRequest, writeHeader } from '../protocol/index.js';

/** Output up to this size is copied into one buffer with its record headers; larger is written as views. */
export const COPY_LIMIT = 16 * 1024;

/**
 * One buffer: a STDOUT record of `head` (latin1) and `body` (a string is UTF-8; `len` bytes in all,
 * at most COPY_LIMIT; none when 0), then with `end` the tail: the empty STDOUT record, the empty
 * STDERR record if `stderrUsed`, END_REQUEST with `appStatus` and `protocolStatus`.
 */
export function frameOutput(
  id: number,
  head: string,
  body: Uint8Array | string | null,
  len: number,
  end: boolean,
  stderrUsed: boolean,
  appStatus: number,
  protocolStatus: number,
): Buffer {
  const pad = paddingFor(len);
  const tailLen = end ? HEADER_LEN + (stderrUsed ? HEADER_LEN : 0) + 16 : 0;
  const out = Buffer.allocUnsafe((len ? HEADER_LEN + len + pad : 0) + tailLen);
  let at = 0;
  if (len) {
    writeHeader(out, 0, RecordType.STDOUT, id, len, pad);
    at = HEADER_LEN;
    if (head.length) at += out.write(head, at, 'latin1');
    if (typeof body === 'string') at += out.write(body, at, 'utf8');
    else if (body !== null) {
      out.set(body, at);
      at += body.length;
    }
    out.fill(0, at, at + pad);
    at += pad;
  }
  if (end) {
    writeHeader(out, at, RecordType.STDOUT, id, 0, 0);
    at += HEADER_LEN;
    if (stderrUsed) {
      writeHeader(out, at, RecordType.STDERR, id, 0, 0);
      at += HEADER_LEN;
    }
    writeEndRequest(out, at, id, appStatus, protocolStatus);
  }
  return out;
}
