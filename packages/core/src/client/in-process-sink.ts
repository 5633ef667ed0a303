// The in-process transport: a request's body from a Web ReadableStream (or bytes), its response as
// a Web Response whose body streams with backpressure; no sockets, no FastCGI records.
import { ErrorCode, FcgiError } from '../errors.js';
import { abortRequest, endRequestBody, type FcgiRequest } from '../http/request.js';
import type { Carrier } from '../http/responder.js';
import { abortResponse, drainResponse, type FcgiResponse } from '../http/response.js';
import { NULL_BODY_STATUSES, WEB_BODY_HIGH_WATER_MARK, toBuffer, webHeaders } from '../http/web.js';
import { Role } from '../protocol/index.js';
import { HeadReader, type CgiHead } from './cgi-response.js';
import { ClientErrorCode, clientError } from './errors.js';

type Chunk = Uint8Array | string;

/** The largest CGI header block accepted. */
const MAX_HEAD_BYTES = 256 * 1024;

export interface InProcessRequest {
  method: string;
  /** The body: bytes read whole already, a stream to read as the handler wants it, or none. */
  body: Uint8Array | ReadableStream<Uint8Array> | null;
  signal: AbortSignal;
  /** Where stderr goes (res.err(), a handler's errors). */
  stderr: (text: string) => void;
}

/**
 * One request run in process: inject() makes it, gives it to the handler, and hands its response
 * promise to the caller.
 */
export class InProcessTransport implements Carrier {
  readonly id = 1;
  readonly role = Role.RESPONDER;
  readonly environ: Record<string, string>;
  readonly headers = null;
  readonly rawHeaders = null;
  req!: FcgiRequest;
  res!: FcgiResponse;
  /** Resolves once the CGI header block went out; rejects when the request fails before. */
  readonly response: Promise<Response>;
  readonly #request: InProcessRequest;
  #resolve!: (response: Response) => void;
  #reject!: (err: unknown) => void;
  #head: HeadReader | null = new HeadReader(MAX_HEAD_BYTES);
  /** The response body's controller once the head went out; null for a body-less response. */
  #body: ReadableStreamDefaultController<Uint8Array> | null = null;
  #reader: ReadableStreamDefaultReader<Uint8Array> | null = null;
  /** Called by resumeBody() when the request's reader paused the body. */
  #resume: (() => void) | null = null;
  #started = false;
  #ended = false;
  #needDrain = false;
  readonly #onAbort = (): void => this.#clientAborted();

  constructor(environ: Record<string, string>, request: InProcessRequest) {
    this.environ = environ;
    this.#request = request;
    this.response = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    request.signal.addEventListener('abort', this.#onAbort, { once: true });
  }

  get outputStarted(): boolean {
    return this.#started;
  }

  /** Starts feeding the body to the request (after the handler was given it). */
  readBody(): void {
    const body = this.#request.body;
    if (body === null) return endRequestBody(this.req);
    if (body instanceof Uint8Array) {
      if (body.length) this.req.push(toBuffer(body));
      return endRequestBody(this.req);
    }
    this.#reader = body.getReader();
    this.#pump().catch((err: unknown) => this.#bodyFailed(err));
  }

  resumeBody(): void {
    const resume = this.#resume;
    this.#resume = null;
    resume?.();
  }

  write(head: string, body: Chunk | null): boolean {
    if (this.#ended) return true;
    let data = body === null ? null : typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    if (head.length || (data !== null && data.length)) this.#started = true;
    if (this.#head !== null) {
      // FcgiResponse hands the block whole in `head`; a handler writing its own (res.stdout) may
      // spread it over its body writes.
      let found: { head: CgiHead; rest: Buffer } | null = null;
      try {
        if (head.length) found = this.#head.push(Buffer.from(head, 'latin1'));
        if (found === null) {
          if (data === null || data.length === 0) return true;
          found = this.#head.push(toBuffer(data));
          data = null;
        }
      } catch (err) {
        // A malformed block from a handler writing its own: the client is gone for it.
        this.#abortHandler(new FcgiError(ErrorCode.CONNECTION_LOST, "the response's CGI header block was malformed"));
        this.#fail(err);
        return true;
      }
      if (found === null) return true;
      this.#head = null;
      if (!this.#respond(found.head)) return true;
      if (found.rest.length) this.#body?.enqueue(found.rest);
    }
    const out = this.#body;
    if (out === null) return true;
    if (data !== null && data.length) out.enqueue(data);
    if ((out.desiredSize ?? 0) > 0) return true;
    this.#needDrain = true;
    return false;
  }

  end(head: string, body: Chunk | null): void {
    if (this.#ended) return;
    this.write(head, body);
    if (this.#ended) return;
    if (this.#head !== null) {
      this.#fail(clientError(ClientErrorCode.BAD_RESPONSE, 'the response ended inside its CGI header block'));
      return;
    }
    this.#finish();
    this.#body?.close();
  }

  stderr(data: Chunk): boolean {
    if (data.length) this.#request.stderr(typeof data === 'string' ? data : toBuffer(data).toString('utf8'));
    return true;
  }

  /** The response is cut: its body errors (or the Response promise rejects, before the head). */
  destroy(reason?: Error): void {
    if (this.#ended) return;
    this.#fail(reason ?? new Error('the response was cut off: the handler destroyed it before its end'));
  }

  /** Makes the Response for the head; false (and the promise rejected) when it cannot be one. */
  #respond(head: CgiHead): boolean {
    const nullBody = this.#request.method === 'HEAD' || NULL_BODY_STATUSES.has(head.status);
    if (head.status < 200 || head.status > 599) {
      this.#fail(new RangeError(`status ${head.status} cannot be a Web Response (200-599)`));
      return false;
    }
    let stream: ReadableStream<Uint8Array> | null = null;
    if (!nullBody) {
      stream = new ReadableStream<Uint8Array>(
        {
          start: (controller) => {
            this.#body = controller;
          },
          pull: () => {
            if (!this.#needDrain) return;
            this.#needDrain = false;
            drainResponse(this.res);
          },
          cancel: () => {
            if (!this.#ended)
              this.#abortHandler(new FcgiError(ErrorCode.CONNECTION_LOST, 'the client stopped reading the response'));
          },
        },
        { highWaterMark: WEB_BODY_HIGH_WATER_MARK, size: (chunk) => chunk.byteLength },
      );
    }
    try {
      const headers = webHeaders(head.rawHeaders, 'status');
      this.#resolve(new Response(stream, { status: head.status, statusText: head.statusText, headers }));
    } catch (err) {
      this.#body = null;
      this.#fail(err);
      return false;
    }
    return true;
  }

  async #pump(): Promise<void> {
    const reader = this.#reader!;
    for (;;) {
      const { done, value } = await reader.read();
      if (this.#ended) return;
      if (done) return endRequestBody(this.req);
      if (value.length === 0 || this.req.push(toBuffer(value))) continue;
      await new Promise<void>((resolve) => (this.#resume = resolve));
      if (this.#ended) return;
    }
  }

  /** Reading the request's body failed: the handler is aborted and the caller gets the error. */
  #bodyFailed(err: unknown): void {
    if (this.#ended) return;
    const reason = new FcgiError(
      ErrorCode.CONNECTION_LOST,
      `the request body failed: ${err instanceof Error ? err.message : String(err)}`,
    );
    this.#abortHandler(reason);
    this.#fail(err, false);
  }

  #clientAborted(): void {
    if (this.#ended) return;
    this.#abortHandler(new FcgiError(ErrorCode.ABORTED, 'the client aborted the request'));
    this.#fail(this.#request.signal.reason);
  }

  /** The handler is told its client is gone: req 'aborted', res 'close'. */
  #abortHandler(reason: Error): void {
    this.#finish();
    abortRequest(this.req, reason);
    abortResponse(this.res, reason);
  }

  /** Ends the exchange in error: the Response promise rejects, or its body errors. */
  #fail(err: unknown, finish = true): void {
    if (finish) this.#finish();
    this.#reject(err);
    this.#body?.error(err);
    this.#body = null;
  }

  #finish(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#request.signal.removeEventListener('abort', this.#onAbort);
    this.resumeBody();
    const reader = this.#reader;
    this.#reader = null;
    reader?.cancel().catch(() => {});
  }
}
