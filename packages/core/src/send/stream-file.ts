// Copies byte ranges of an open file into a response with backpressure: one read in flight, and
// no next read while res.write() says the connection is full (until 'drain'). Memory stays at a
// chunk or two whatever the file's size. The caller owns the descriptor; `done` is called exactly
// once, after the last read finished, so the descriptor can then be closed safely.
import { read } from 'node:fs';
import type { FcgiResponse } from '../http/index.js';
import { sendError } from './errors.js';
import type { Segment } from '../semantics/index.js';

/** Bytes per read: four FastCGI records' worth, few syscalls, small buffers. */
export const CHUNK_SIZE = 256 * 1024;

export type PumpResponse = Pick<FcgiResponse, 'write' | 'end' | 'destroy' | 'destroyed' | 'once' | 'off'>;

/**
 * Writes `segments` (literal buffers and file ranges) to `res`, then ends it. `done(err)`:
 * undefined when the response was ended; ECONNABORTED when the response closed first (client
 * gone, request aborted); a read error (the response is then destroyed, since its length was promised).
 */
export function pumpFile(
  fd: number,
  res: PumpResponse,
  segments: readonly Segment[],
  done: (err?: Error) => void,
): void {
  let index = 0;
  let pos = -1;
  let finished = false;
  let waitingDrain = false;

  const finish = (err?: Error): void => {
    if (finished) return;
    finished = true;
    res.off('close', onClose);
    res.off('drain', onDrain);
    done(err);
  };
  const aborted = (): Error => sendError(400, 'ECONNABORTED', { message: 'Request aborted' });
  // 'close' while a read is in flight is noticed when the read returns (the fd must stay open until then).
  const onClose = (): void => {
    if (waitingDrain) finish(aborted());
  };
  const onDrain = (): void => {
    waitingDrain = false;
    step();
  };
  res.once('close', onClose);

  const write = (chunk: Buffer): void => {
    // Each read is asynchronous, so going on at once starves no other request.
    if (res.write(chunk)) step();
    else {
      waitingDrain = true;
      res.once('drain', onDrain);
    }
  };

  function step(): void {
    if (finished) return;
    if (res.destroyed) return finish(aborted());
    const seg = segments[index];
    if (seg === undefined) {
      res.end();
      return finish();
    }
    if (Buffer.isBuffer(seg)) {
      index++;
      return write(seg);
    }
    if (pos < 0) pos = seg.start;
    const left = seg.end - pos + 1;
    if (left <= 0) {
      index++;
      pos = -1;
      return step();
    }
    const n = Math.min(CHUNK_SIZE, left);
    const buf = Buffer.allocUnsafe(n);
    read(fd, buf, 0, n, pos, (err, bytes) => {
      if (err) {
        res.destroy(err);
        return finish(err);
      }
      if (res.destroyed) return finish(aborted());
      if (bytes === 0) {
        // The file shrank under us: the promised Content-Length cannot be kept, so cut the response.
        const e = sendError(500, 'ETRUNCATED', { message: 'file shrank while it was being sent' });
        res.destroy(e);
        return finish(e);
      }
      pos += bytes;
      write(bytes === n ? buf : buf.subarray(0, bytes));
    });
  }

  step();
}
