// Reading a whole request body with the semantics of raw-body and body-parser: a byte limit
// (checked against Content-Length up front and while reading, on the inflated size), gzip /
// deflate / br Content-Encoding, and a body whose length must match Content-Length. Held to
// raw-body by read-body-vs-raw-body.test.ts.
import { AsyncResource } from 'node:async_hooks';
import type { Readable, Transform } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { bodyError, withStatus } from './http-error.js';
import { declaredLength, header, type HeaderBag } from './media-type.js';

/** The request as the parsers see it; an FcgiRequest, an AppRequest or Node's IncomingMessage. */
export interface BodyRequest extends Readable, HeaderBag {
  body?: any;
  /** Set once a parser took the body (body-parser's flag, honoured by Express 4 middleware). */
  _body?: boolean;
}

export interface ReadBodyOptions {
  /** Most bytes of (inflated) body. */
  limit: number;
  /** Decompress gzip, deflate and br bodies; false answers them with 415. */
  inflate: boolean;
}

/** The decompressor for a Content-Encoding, null for identity; throws a 415 for others. */
function inflaterFor(req: HeaderBag, inflate: boolean): Transform | null {
  const encoding = (header(req, 'content-encoding') ?? 'identity').trim().toLowerCase() || 'identity';
  if (encoding === 'identity') return null;
  if (!inflate) throw bodyError(415, 'content encoding unsupported', 'encoding.unsupported', { encoding });
  switch (encoding) {
    case 'gzip':
    case 'x-gzip':
      return createGunzip();
    case 'deflate':
      return createInflate();
    case 'br':
      return createBrotliDecompress();
    default:
      throw bodyError(415, `unsupported content encoding "${encoding}"`, 'encoding.unsupported', { encoding });
  }
}

function tooLarge(limit: number, length: number | undefined) {
  return bodyError(413, `request entity too large (limit ${limit} bytes)`, 'entity.too.large', {
    expected: length,
    length,
    limit,
  });
}

/**
 * Reads the whole body into one Buffer. On failure the request is left paused and not drained:
 * the caller drains it (see drain()) before it answers. Errors carry status and type.
 */
export function readBody(req: BodyRequest, options: ReadBodyOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const { limit } = options;
    const declared = declaredLength(req);
    let inflater: Transform | null;
    try {
      inflater = inflaterFor(req, options.inflate);
    } catch (err) {
      reject(err);
      return;
    }
    // The limit is on the decoded size; Content-Length says it up front only for identity.
    if (!inflater && declared !== undefined && declared > limit) {
      reject(tooLarge(limit, declared));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let received = 0;
    let done = false;

    const cleanup = (): void => {
      done = true;
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
      req.off('aborted', onAborted);
      if (inflater) {
        req.unpipe(inflater);
        inflater.off('data', collect);
        inflater.off('end', finish);
        inflater.off('error', onInflateError);
        // A late zlib error after destroy() must not become an uncaught 'error'.
        inflater.on('error', () => {});
        inflater.destroy();
      }
    };
    const fail = (err: Error): void => {
      if (done) return;
      cleanup();
      req.pause();
      reject(err);
    };
    const finish = (): void => {
      if (done) return;
      cleanup();
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    };
    function collect(chunk: Buffer): void {
      size += chunk.length;
      if (size > limit) return fail(tooLarge(limit, declared));
      chunks.push(chunk);
    }
    function onData(chunk: Buffer): void {
      received += chunk.length;
      if (declared !== undefined && received > declared) return fail(sizeMismatch(declared, received));
      if (!inflater) collect(chunk);
    }
    function onEnd(): void {
      if (declared !== undefined && received !== declared) return fail(sizeMismatch(declared, received));
      if (!inflater) finish();
      // else: the pipe ends the inflater, whose 'end' finishes.
    }
    function onAborted(): void {
      fail(
        bodyError(400, 'request aborted', 'request.aborted', { code: 'ECONNABORTED', expected: declared, received }),
      );
    }
    function onError(err: Error): void {
      if ((req as { aborted?: boolean }).aborted) return onAborted();
      fail(withStatus(err, 400, 'request.error'));
    }
    function onClose(): void {
      if (!req.readableEnded) onAborted();
    }
    function onInflateError(err: Error): void {
      fail(
        bodyError(400, `invalid ${header(req, 'content-encoding')} body: ${err.message}`, 'entity.parse.failed', {
          code: (err as { code?: string }).code,
        }),
      );
    }

    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
    req.on('aborted', onAborted);
    if (inflater) {
      inflater.on('data', collect);
      inflater.on('end', finish);
      inflater.on('error', onInflateError);
      req.pipe(inflater);
    }
    if (req.isPaused()) req.resume();
  });
}

function sizeMismatch(expected: number, received: number) {
  return bodyError(400, 'request size did not match content length', 'request.size.invalid', {
    expected,
    received,
    length: expected,
  });
}

/**
 * Reads off (and drops) the rest of the body, then calls `cb`, as body-parser does before an
 * error. `cb` runs in the caller's async context (AsyncLocalStorage), not in that of the stream
 * event that ends the body, as on-finished binds body-parser's callback.
 */
export function drain(req: Readable, cb: () => void): void {
  if (req.readableEnded || req.destroyed) {
    cb();
    return;
  }
  const bound = AsyncResource.bind(cb);
  const finish = (): void => {
    req.off('end', finish);
    req.off('close', finish);
    req.off('error', finish);
    bound();
  };
  req.on('end', finish);
  req.on('close', finish);
  req.on('error', finish);
  req.resume();
}
