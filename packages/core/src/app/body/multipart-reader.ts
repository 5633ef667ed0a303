// parseMultipart(): a request's multipart/form-data parts as an async iterator, each with its
// bytes as a Readable. The request is read only as fast as the parts are consumed: one part's
// stream buffer plus one socket chunk is all that is held, whatever the body's size. Held to
// busboy by multipart-vs-busboy.test.ts.
import { Readable } from 'node:stream';
import { MultipartParser } from '../../semantics/index.js';
import { bodyError, isBodyError, type BodyError } from './http-error.js';
import { declaredLength, header, parseMediaType } from './media-type.js';
import { parseDisposition, parsePartHeaders } from './part-headers.js';

export interface MultipartLimits {
  /** Most bytes in one file part (default Infinity). */
  fileSize?: number;
  /** Most file parts (default Infinity). */
  files?: number;
  /** Most non-file parts (default Infinity). */
  fields?: number;
  /** Most bytes in one non-file part (default 1 MiB). */
  fieldSize?: number;
  /** Most parts of any kind (default Infinity). */
  parts?: number;
  /** Most bytes in one part's header block (default 16 KiB). */
  headerSize?: number;
}

export interface MultipartPart {
  /** The form field name. */
  name: string;
  /** The file name the client gave (directory parts removed); undefined for a plain field. */
  filename: string | undefined;
  /** The part's media type with parameters; text/plain for fields, application/octet-stream for files by default. */
  contentType: string;
  /** The part's headers, lower-case names. */
  headers: Record<string, string>;
  /** The part's bytes. Read it (or leave it: the next iteration discards what is unread). */
  stream: Readable;
}

/** The boundary parameter of a multipart/form-data request; throws 415 / 400 otherwise. */
export function boundaryOf(req: { headers: Record<string, string | string[] | undefined> }): string {
  const mt = parseMediaType(header(req, 'content-type'));
  if (!mt || mt.type !== 'multipart/form-data') {
    throw bodyError(415, 'expected a multipart/form-data body', 'unsupported.media.type');
  }
  const b = mt.params.boundary;
  if (!b) throw malformed('no boundary in the Content-Type');
  return b;
}

function malformed(message: string): BodyError {
  return bodyError(400, `malformed multipart body: ${message}`, 'entity.parse.failed');
}

/** The parser's SyntaxError (malformed body) and RangeError (header block too large) as HTTP errors. */
function asBodyError(err: unknown, headerSize: number): unknown {
  if (isBodyError(err)) return err;
  if (err instanceof SyntaxError) return bodyError(400, err.message, 'entity.parse.failed');
  if (err instanceof RangeError) return limitError('LIMIT_HEADER_SIZE', err.message, { limit: headerSize });
  return err;
}

function limitError(code: string, message: string, props: Record<string, unknown> = {}): BodyError {
  return bodyError(413, message, 'entity.too.large', { code, ...props });
}

/** What parseMultipart reads from: an FcgiRequest, an AppRequest or Node's IncomingMessage. */
export type MultipartSource = Readable & { headers: Record<string, string | string[] | undefined> };

interface Current {
  part: MultipartPart;
  size: number;
  max: number;
  isFile: boolean;
  /** push() said the stream's buffer is full, and the stream has not asked for more since. */
  full: boolean;
}

/** Drives the parser from the request's 'data' events, pausing it while the consumer lags. */
class MultipartReader {
  readonly #req: MultipartSource;
  readonly #parser: MultipartParser;
  readonly #limits: Required<MultipartLimits>;
  /** Parts parsed but not yet handed out. */
  readonly #queue: MultipartPart[] = [];
  #current: Current | null = null;
  #handed: MultipartPart | null = null;
  #error: Error | null = null;
  #wake: (() => void) | null = null;
  #counts = { parts: 0, files: 0, fields: 0 };
  #received = 0;
  readonly #declared: number | undefined;
  #attached = true;

  constructor(req: MultipartSource, boundary: string, limits: MultipartLimits) {
    this.#req = req;
    this.#limits = {
      fileSize: limits.fileSize ?? Infinity,
      files: limits.files ?? Infinity,
      fields: limits.fields ?? Infinity,
      fieldSize: limits.fieldSize ?? 1024 * 1024,
      parts: limits.parts ?? Infinity,
      headerSize: limits.headerSize ?? 16 * 1024,
    };
    this.#declared = declaredLength(req);
    try {
      this.#parser = new MultipartParser(
        boundary,
        {
          partBegin: (block) => this.#partBegin(block),
          partData: (chunk) => this.#partData(chunk),
          partEnd: () => this.#partEnd(),
          end: () => this.#notify(),
        },
        { headerSize: this.#limits.headerSize },
      );
    } catch (err) {
      throw asBodyError(err, this.#limits.headerSize);
    }
    req.on('data', this.#onData);
    req.on('end', this.#onEnd);
    req.on('error', this.#onError);
    req.on('close', this.#onClose);
    if (req.isPaused()) req.resume();
  }

  #onData = (chunk: Buffer): void => {
    if (this.#error) return;
    this.#received += chunk.length;
    if (this.#declared !== undefined && this.#received > this.#declared) {
      return this.#fail(bodyError(400, 'request size did not match content length', 'request.size.invalid'));
    }
    try {
      this.#parser.write(chunk);
    } catch (err) {
      return this.#fail(asBodyError(err, this.#limits.headerSize) as Error);
    }
    this.#update();
  };

  #onEnd = (): void => {
    if (this.#declared !== undefined && this.#received !== this.#declared) {
      return this.#fail(bodyError(400, 'request size did not match content length', 'request.size.invalid'));
    }
    try {
      this.#parser.finish();
    } catch (err) {
      this.#fail(asBodyError(err, this.#limits.headerSize) as Error);
    }
    this.#notify();
  };

  #onError = (): void => {
    this.#fail(bodyError(400, 'request aborted', 'request.aborted', { code: 'ECONNABORTED' }));
  };

  #onClose = (): void => {
    if (!this.#req.readableEnded) this.#onError();
  };

  #partBegin(block: Buffer): void {
    if (++this.#counts.parts > this.#limits.parts)
      throw limitError('LIMIT_PART_COUNT', `more than ${this.#limits.parts} parts`);
    const headers = parsePartHeaders(block);
    const disp = parseDisposition(headers['content-disposition']);
    // RFC 7578: every part is form-data with a name; others carry nothing for a form: skipped.
    if (!disp || disp.type !== 'form-data' || disp.name === undefined) {
      this.#current = null;
      return;
    }
    const isFile = disp.filename !== undefined;
    const cur = {
      size: 0,
      max: isFile ? this.#limits.fileSize : this.#limits.fieldSize,
      isFile,
      full: false,
    } as Current;
    if (isFile && ++this.#counts.files > this.#limits.files)
      throw limitError('LIMIT_FILE_COUNT', `more than ${this.#limits.files} files`, { field: disp.name });
    if (!isFile && ++this.#counts.fields > this.#limits.fields)
      throw limitError('LIMIT_FIELD_COUNT', `more than ${this.#limits.fields} fields`, { field: disp.name });
    const stream = new Readable({
      // Readable calls this once it wants more; it will not call again before the next push.
      read: () => {
        cur.full = false;
        this.#update();
      },
      // Like a request: an error nobody listens to is not thrown (the iterator reports it too).
      destroy: (err, cb) => cb(err && stream.listenerCount('error') > 0 ? err : null),
    });
    const part: MultipartPart = {
      name: disp.name,
      filename: disp.filename,
      contentType: headers['content-type'] || (isFile ? 'application/octet-stream' : 'text/plain'),
      headers,
      stream,
    };
    cur.part = part;
    this.#current = cur;
    this.#queue.push(part);
    this.#notify();
  }

  #partData(chunk: Buffer): void {
    const cur = this.#current;
    if (!cur) return;
    cur.size += chunk.length;
    if (cur.size > cur.max) {
      const what = cur.isFile ? `file "${cur.part.filename}" in field "${cur.part.name}"` : `field "${cur.part.name}"`;
      throw limitError(
        cur.isFile ? 'LIMIT_FILE_SIZE' : 'LIMIT_FIELD_VALUE',
        `${what} is larger than ${cur.max} bytes`,
        { field: cur.part.name, limit: cur.max },
      );
    }
    if (!cur.part.stream.push(chunk)) cur.full = true;
  }

  #partEnd(): void {
    this.#current?.part.stream.push(null);
    this.#current = null;
  }

  /** Reads on only while nothing waits for the consumer: no queued part, no full part buffer. */
  #update(): void {
    if (!this.#attached || this.#error) return;
    const cur = this.#current;
    const blocked = this.#queue.length > 0 || (cur !== null && cur.full && !cur.part.stream.destroyed);
    if (blocked) this.#req.pause();
    else if (this.#req.isPaused()) this.#req.resume();
  }

  #notify(): void {
    const w = this.#wake;
    this.#wake = null;
    w?.();
  }

  #fail(err: Error): void {
    if (this.#error) return;
    this.#error = err;
    // The part being received (maybe the one the consumer reads) and those not handed out yet.
    for (const p of [this.#current?.part, ...this.#queue]) p?.stream.destroy(err);
    this.#current = null;
    this.#queue.length = 0;
    this.#detach();
    this.#notify();
  }

  /** The next part, or null after the last; rejects with the body's error. */
  async next(): Promise<MultipartPart | null> {
    // A part the consumer left unread is discarded, so parsing can go on.
    const prev = this.#handed;
    if (
      prev &&
      !prev.stream.readableEnded &&
      prev.stream.listenerCount('data') === 0 &&
      prev.stream.listenerCount('readable') === 0
    ) {
      prev.stream.resume();
    }
    this.#handed = null;
    for (;;) {
      if (this.#error) throw this.#error;
      const part = this.#queue.shift();
      if (part) {
        this.#handed = part;
        this.#update();
        return part;
      }
      if (this.#parser.done) return null;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        this.#update();
      });
    }
  }

  /** Stops reading; the rest of the body is dropped. */
  close(): void {
    if (!this.#error) {
      for (const p of [this.#current?.part, ...this.#queue]) p?.stream.destroy();
      this.#current = null;
      this.#queue.length = 0;
    }
    this.#detach();
  }

  #detach(): void {
    if (!this.#attached) return;
    this.#attached = false;
    const req = this.#req;
    req.off('data', this.#onData);
    req.off('end', this.#onEnd);
    req.off('error', this.#onError);
    req.off('close', this.#onClose);
    // Nothing listens for data now: resuming drops the rest instead of stalling the connection.
    if (!req.readableEnded && !req.destroyed) req.resume();
  }
}

/**
 * The parts of a multipart/form-data request, in order. Each part's `stream` must be consumed
 * (or skipped) before the next part arrives; the request is read as fast as that happens. Over a
 * limit: a 413 body error with a `code` as multer names them (LIMIT_FILE_SIZE...); malformed: 400.
 */
export async function* parseMultipart(
  req: MultipartSource,
  limits: MultipartLimits = {},
): AsyncGenerator<MultipartPart, void, undefined> {
  const reader = new MultipartReader(req, boundaryOf(req), limits);
  try {
    for (let part = await reader.next(); part; part = await reader.next()) yield part;
  } finally {
    reader.close();
  }
}
