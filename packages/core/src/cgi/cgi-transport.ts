// The CGI transport: one request from the environment and stdin, its response straight to stdout
// (the CGI header block, then the body: no FastCGI records) and diagnostics to stderr.
import type { Readable, Writable } from 'node:stream';
import { ErrorCode, FcgiError } from '../errors.js';
import { Role } from '../protocol/index.js';
import { parseContentLength } from '../semantics/content-length.js';
import { abortRequest, endRequestBody, type FcgiRequest } from '../http/request.js';
import type { Carrier } from '../http/responder.js';
import { abortResponse, drainResponse, type FcgiResponse } from '../http/response.js';

type Chunk = Uint8Array | string;

/** Up to this size the header block and the body are copied into one buffer for one write. */
const JOIN_LIMIT = 16 * 1024;

/** The one request of a CGI process: serveCgi() makes it and gives it to the handler. */
export class CgiTransport implements Carrier {
  readonly id = 1;
  readonly role = Role.RESPONDER;
  readonly environ: Record<string, string>;
  readonly headers = null;
  readonly rawHeaders = null;
  req!: FcgiRequest;
  res!: FcgiResponse;
  readonly #stdin: Readable;
  readonly #stdout: Writable;
  readonly #stderr: Writable;
  /** Resolves once the response ended and stdout took all of it. */
  readonly done: Promise<void>;
  #resolve!: () => void;
  /** Body bytes still to read: CGI gives CONTENT_LENGTH bytes, and need not close stdin after them. */
  #left: number;
  #reading = false;
  #bodyEnded = false;
  #ended = false;
  #started = false;
  #needDrain = false;
  readonly #onData = (chunk: Buffer): void => this.#data(chunk);
  readonly #onInputEnd = (): void => this.#endBody();
  readonly #onDrain = (): void => {
    if (this.#needDrain) {
      this.#needDrain = false;
      drainResponse(this.res);
    }
  };
  readonly #onOutputError = (err: Error): void => this.#lost(err);

  constructor(environ: Record<string, string>, stdin: Readable, stdout: Writable, stderr: Writable) {
    this.environ = environ;
    this.#stdin = stdin;
    this.#stdout = stdout;
    this.#stderr = stderr;
    // Malformed (`1e3`, `abc`): nothing is read, and req.content() answers it with a 400.
    this.#left = parseContentLength(environ.CONTENT_LENGTH) ?? 0;
    this.done = new Promise((resolve) => (this.#resolve = resolve));
    stdout.on('drain', this.#onDrain);
    // The web server closed the pipe (the client went away): the request is aborted.
    stdout.on('error', this.#onOutputError);
  }

  /** True once a byte of the response went to stdout. */
  get outputStarted(): boolean {
    return this.#started;
  }

  /** Starts reading the body (after the handler was given the request). */
  readBody(): void {
    if (this.#left === 0) return this.#endBody();
    this.#reading = true;
    this.#stdin.on('data', this.#onData);
    this.#stdin.once('end', this.#onInputEnd);
    this.#stdin.once('error', this.#onInputEnd);
  }

  resumeBody(): void {
    if (this.#reading && !this.#bodyEnded) this.#stdin.resume();
  }

  write(head: string, body: Chunk | null): boolean {
    if (this.#ended) return true;
    const bodyLen = body === null ? 0 : typeof body === 'string' ? Buffer.byteLength(body) : body.length;
    if (head.length + bodyLen === 0) return true;
    this.#started = true;
    let ok: boolean;
    // A small response in one write (one read for the server); a large body is not copied.
    if (head.length && bodyLen && head.length + bodyLen <= JOIN_LIMIT)
      ok = this.#stdout.write(joined(head, body!, bodyLen));
    else {
      ok = true;
      if (head.length) ok = this.#stdout.write(head, 'latin1');
      if (bodyLen) ok = this.#stdout.write(body!);
    }
    if (!ok) this.#needDrain = true;
    return ok;
  }

  end(head: string, body: Chunk | null): void {
    if (this.#ended) return;
    this.write(head, body);
    this.#finish();
  }

  stderr(data: Chunk): boolean {
    if (this.#ended || data.length === 0) return true;
    return this.#stderr.write(data);
  }

  /** The response is cut: what went out stays, nothing more follows (CGI has no way to say more). */
  destroy(): void {
    if (!this.#ended) this.#finish();
  }

  #data(chunk: Buffer): void {
    if (this.#bodyEnded) return;
    const part = chunk.length > this.#left ? chunk.subarray(0, this.#left) : chunk;
    this.#left -= part.length;
    if (part.length && !this.req.push(part)) this.#stdin.pause();
    if (this.#left === 0) this.#endBody();
  }

  #endBody(): void {
    if (this.#bodyEnded) return;
    this.#bodyEnded = true;
    this.#stopReading();
    if (!this.#ended) endRequestBody(this.req);
  }

  #stopReading(): void {
    if (!this.#reading) return;
    this.#reading = false;
    this.#stdin.off('data', this.#onData);
    this.#stdin.off('end', this.#onInputEnd);
    this.#stdin.off('error', this.#onInputEnd);
    this.#stdin.pause();
  }

  #finish(): void {
    this.#ended = true;
    this.#stopReading();
    this.#stdout.off('drain', this.#onDrain);
    // Resolve once stdout handed everything on (or failed).
    this.#stdout.write('', () => this.#resolve());
  }

  #lost(err: Error): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#stopReading();
    const reason = new FcgiError(ErrorCode.CONNECTION_LOST, `stdout closed: ${err.message}`);
    abortRequest(this.req, reason);
    abortResponse(this.res, reason);
    this.#resolve();
  }
}

/** The header block and the first body bytes in one buffer. */
function joined(head: string, body: Chunk, bodyLen: number): Buffer {
  const out = Buffer.allocUnsafe(head.length + bodyLen);
  const at = out.write(head, 0, 'latin1');
  if (typeof body === 'string') out.write(body, at, 'utf8');
  else out.set(body, at);
  return out;
}
