// What request() resolves to once the CGI header block arrived: status, headers, the rest of
// STDOUT as a stream, STDERR as text, and END_REQUEST as a promise.
import { EventEmitter } from 'node:events';
import type { Readable } from 'node:stream';
import type { EndRequestBody } from '../protocol/index.js';
import type { CgiHead } from './cgi-response.js';

/** END_REQUEST: the application's exit status and the protocol status (0 = REQUEST_COMPLETE). */
export type EndRequest = EndRequestBody;

export interface FcgiClientResponseEvents {
  /** A piece of FCGI_STDERR, decoded as UTF-8. */
  stderr: [text: string];
}

export class FcgiClientResponse extends EventEmitter<FcgiClientResponseEvents> {
  readonly status: number;
  readonly statusText: string;
  /** Lower-case names; repeated headers (Set-Cookie) as arrays. Status is not among them. */
  readonly headers: Record<string, string | string[]>;
  /** The header lines as sent, Status included. */
  readonly rawHeaders: [name: string, value: string][];
  /**
   * The rest of STDOUT. Reading it slowly pauses the connection. Destroying it before its end
   * aborts the request (ABORT_REQUEST).
   */
  readonly body: Readable;
  /**
   * Resolves with END_REQUEST once the response is complete; rejects when it fails or is
   * aborted (then the body errors too).
   */
  readonly done: Promise<EndRequest>;
  readonly #stderr: () => string;

  /** @internal Made by the client's exchange. */
  constructor(head: CgiHead, body: Readable, done: Promise<EndRequest>, stderr: () => string) {
    super();
    this.status = head.status;
    this.statusText = head.statusText;
    this.headers = head.headers;
    this.rawHeaders = head.rawHeaders;
    this.body = body;
    this.done = done;
    this.#stderr = stderr;
  }

  /** FCGI_STDERR received so far (bounded by the client's maxStderrBytes; the rest is dropped). */
  get stderr(): string {
    return this.#stderr();
  }

  /** The whole body as one Buffer (for small responses; stream `body` for large ones). */
  async buffer(): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const chunk of this.body as AsyncIterable<Buffer>) chunks.push(chunk);
    return Buffer.concat(chunks);
  }

  /** The whole body decoded as UTF-8. */
  async text(): Promise<string> {
    return (await this.buffer()).toString('utf8');
  }
}
