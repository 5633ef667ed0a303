// A chunked request body (no Content-Length) written to a temp file first, as nginx buffers it:
// the app then gets CONTENT_LENGTH, which PHP and most CGI code need to read a body at all.
import { mkdtemp, open, rm, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { ErrorCode, FcgiError } from '../errors.js';

export interface Spooled {
  length: number;
  /** The body, read from the (already unlinked) file; closes the file at its end or destroy. */
  stream: Readable;
}

/**
 * Copies `body` to an unlinked temp file, pausing it while a write is pending (bounded memory).
 * Past `limit` bytes rejects with a 413 FcgiError (BODY_TOO_LARGE) and leaves `body` paused, not destroyed: the
 * HTTP connection must live on to carry the 413.
 */
export async function spoolBody(body: Readable, limit: number): Promise<Spooled> {
  const dir = await mkdtemp(join(tmpdir(), 'fcgi-gateway-body-'));
  let file: FileHandle | undefined;
  try {
    file = await open(join(dir, 'body'), 'w+');
    // The name is not needed once open: nothing is left behind whatever happens next.
    await rm(dir, { recursive: true, force: true });
    const fh = file;
    const length = await new Promise<number>((resolve, reject) => {
      let length = 0;
      let writing = Promise.resolve();
      const stop = (err: Error) => {
        body.off('data', onData).off('end', onEnd).off('error', stop).off('close', onClose);
        body.pause();
        reject(err);
      };
      const onData = (chunk: Buffer) => {
        length += chunk.length;
        if (length > limit)
          return stop(new FcgiError(ErrorCode.BODY_TOO_LARGE, `request body larger than ${limit} bytes`, 413));
        body.pause();
        writing = writing.then(() => fh.write(chunk)).then(() => void body.resume(), stop) as Promise<void>;
      };
      const onEnd = () => void writing.then(() => resolve(length));
      const onClose = () => {
        if (!body.readableEnded) stop(new Error('the request body was cut short'));
      };
      body.on('data', onData).once('end', onEnd).once('error', stop).once('close', onClose);
    });
    const stream = file.createReadStream({ start: 0, autoClose: true });
    file = undefined;
    return { length, stream };
  } finally {
    await file?.close();
    await rm(dir, { recursive: true, force: true });
  }
}
