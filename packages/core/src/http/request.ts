// The request a handler receives: the params as `environ`, HTTP views of them, and the body as a
// Readable stream (the request object itself, as with Node's http.IncomingMessage).
import { IncomingMessage } from 'node:http';
import { Readable, type ReadableOptions } from 'node:stream';
import { parse as parseQuery, type ParsedUrlQuery } from 'node:querystring';
import { ErrorCode, FcgiError } from '../errors.js';
import { parseContentLength } from '../semantics/content-length.js';
import { finishHeaders, headersFromEnviron, httpVersion, urlFromEnviron } from './environ.js';
import { RequestSocket, closeRequestSocket } from './request-socket.js';
import type { RequestSource } from './sink.js';

type ReadableRead = (this: Readable, size: number) => void;

/** Default limit of content(), text() and json(). */
export const DEFAULT_BODY_LIMIT = 1024 * 1024;

export interface BodyOptions {
  /** Most bytes buffered; more rejects with a 413 FcgiError. */
  limit?: number;
}

// Entry points for the transport that drives this request. They are static (not on the prototype)
// so they still work after a framework such as Express replaces the request's prototype.
let deliverAbort: (req: FcgiRequest, reason: Error) => void;
let deliverEnd: (req: FcgiRequest) => void;
export { deliverAbort as abortRequest, deliverEnd as endRequestBody };

/** FastCGI has no request trailers: every request shares this empty object, and this empty list. */
const NO_TRAILERS: Record<string, string> = Object.freeze(Object.create(null));
const NO_RAW_TRAILERS: string[] = Object.freeze([]) as unknown as string[];

declare const HEADERS_COUNT: unique symbol;
/**
 * node:http's count of `rawHeaders` entries, which IncomingMessage.prototype's headersDistinct
 * getter loops to: set, so that getter is right once Express swaps the request's prototype. Read
 * once from a fresh IncomingMessage (our own symbol if a Node version lacks it).
 */
const kHeadersCount = (Object.getOwnPropertySymbols(new IncomingMessage(null as never)).find(
  (s) => s.description === 'kHeadersCount',
) ?? Symbol('kHeadersCount')) as typeof HEADERS_COUNT;

export class FcgiRequest extends Readable {
  /** Every param the web server sent, as sent. */
  readonly environ: Record<string, string>;
  /** The FastCGI request id on its connection (1 outside FastCGI). */
  readonly requestId: number;
  method: string;
  /**
   * The request target below the app's base (see `baseUrl`), with its query: `/notes?page=2` for
   * `/~alice/sub/notes?page=2` when the app's base is `/~alice/sub`. The whole REQUEST_URI (or
   * SCRIPT_NAME + PATH_INFO + QUERY_STRING) when the app sits at the root.
   */
  url: string;
  /**
   * Where the app sits in the site: `/~alice/sub`, `/sub/app.fcgi`, or '' at the root (never a
   * trailing slash), read from what the web server sent (the `basePath` option). Links and
   * redirects the app makes to its own pages start with it.
   */
  baseUrl: string;
  /** The request target as the client sent it (REQUEST_URI): the base and `url` together. */
  originalUrl: string;
  /** Lower-case names, from the HTTP_* params, CONTENT_TYPE and CONTENT_LENGTH. */
  headers: Record<string, string>;
  httpVersion: string;
  httpVersionMajor: number;
  httpVersionMinor: number;
  /** True once the whole body arrived. */
  complete = false;
  /** True once the web server aborted the request or the connection was lost. */
  aborted = false;
  /** A stand-in for the client's connection (the web server holds the real one); also `res.socket`. */
  socket: RequestSocket;
  /** The same as `socket`, as in node:http. */
  connection: RequestSocket;
  /** Always empty: FastCGI passes no trailers. */
  trailers: Record<string, string>;
  /**
   * As node:http's, a plain property: names and values in turn, `[name, value, name, value...]`
   * (@hono/node-server and h3 build their Headers from it), built while the params are decoded.
   * Names are lower case: the web server passes them as HTTP_* params, so the client's spelling is
   * gone. An own property, so it stays when a framework (Express) swaps the request's prototype.
   */
  rawHeaders: string[];
  /** Always empty, as `trailers`: FastCGI passes no trailers. */
  rawTrailers: string[] = NO_RAW_TRAILERS;
  [kHeadersCount]: number;
  readonly #source: RequestSource;
  #controller: AbortController | null = null;
  #abortReason: Error | null = null;
  #query: ParsedUrlQuery | null = null;
  // What a framework assigned to path (absent in node:http, so assigning it must work): undefined until then.
  #path: string | undefined = undefined;

  static {
    deliverAbort = (req, reason) => req.#abort(reason);
    deliverEnd = (req) => {
      req.complete = true;
      req.push(null);
    };
  }

  constructor(source: RequestSource, highWaterMark: number) {
    super(FcgiRequest.#options(highWaterMark));
    this.#source = source;
    const environ = source.environ;
    this.environ = environ;
    this.requestId = source.id;
    this.method = environ.REQUEST_METHOD || 'GET';
    this.url = this.originalUrl = urlFromEnviron(environ);
    this.baseUrl = '';
    const built = source.headers;
    const raw = (built && source.rawHeaders) || [];
    this.headers = built ? finishHeaders(built, raw, environ) : headersFromEnviron(environ, raw);
    this.rawHeaders = raw;
    this[kHeadersCount] = raw.length;
    const protocol = environ.SERVER_PROTOCOL;
    if (protocol === 'HTTP/1.1') {
      this.httpVersionMajor = this.httpVersionMinor = 1;
      this.httpVersion = '1.1';
    } else {
      const [major, minor] = httpVersion(protocol);
      this.httpVersionMajor = major;
      this.httpVersionMinor = minor;
      this.httpVersion = `${major}.${minor}`;
    }
    this.socket = this.connection = new RequestSocket(environ);
    this.trailers = NO_TRAILERS;
    // Own properties, so http.IncomingMessage.prototype's versions (which need a real socket)
    // cannot shadow ours once a framework swaps the prototype; shared functions, no closures.
    this.setTimeout = this.setTimeout;
  }

  // Passed to Readable as options so they are own properties, kept across prototype swaps.
  static #read = function read(this: FcgiRequest): void {
    this.#source.resumeBody();
  };
  // One options object per high-water mark (a server uses one), not one per request.
  static #lastOptions: ReadableOptions | null = null;
  static #options(highWaterMark: number): ReadableOptions {
    const last = FcgiRequest.#lastOptions;
    if (last?.highWaterMark === highWaterMark) return last;
    return (FcgiRequest.#lastOptions = {
      highWaterMark,
      read: FcgiRequest.#read as unknown as ReadableRead,
      destroy: destroyRequest,
    });
  }

  /** Accepted for node:http compatibility; the web server enforces its own timeouts. */
  setTimeout(_msecs: number, _callback?: () => void): this {
    return this;
  }

  /** The body stream: the request itself. */
  get stdin(): this {
    return this;
  }

  /**
   * `url` without its query string (still percent-encoded): the path below the app's base.
   * Assignable, as a plain property is (Polka sets its own).
   */
  get path(): string {
    if (this.#path !== undefined) return this.#path;
    const q = this.url.indexOf('?');
    return q < 0 ? this.url : this.url.slice(0, q);
  }
  set path(value: string) {
    this.#path = value;
  }

  /** The query string parsed with node:querystring (repeated names give arrays); assignable (tinyhttp, Polka set their own). */
  get query(): ParsedUrlQuery {
    return (this.#query ??= parseQuery(this.environ.QUERY_STRING ?? queryOf(this.url)));
  }
  set query(value: ParsedUrlQuery) {
    this.#query = value;
  }

  /**
   * As node:http's: every header's values as an array, from `rawHeaders` (a header the web server
   * sent as repeated params keeps its values apart; one it joined is one value).
   */
  get headersDistinct(): Record<string, string[]> {
    const out: Record<string, string[]> = Object.create(null);
    const raw = this.rawHeaders;
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const name = raw[i]!.toLowerCase();
      const values = out[name];
      if (values) values.push(raw[i + 1]!);
      else out[name] = [raw[i + 1]!];
    }
    return out;
  }

  /** Always empty: FastCGI passes no trailers. */
  get trailersDistinct(): Record<string, string[]> {
    return Object.create(null);
  }

  /** Aborted when the web server aborts the request or the connection is lost. */
  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.#abortReason) this.#controller.abort(this.#abortReason);
    }
    return this.#controller.signal;
  }

  /**
   * The whole body as one Buffer, up to `limit` bytes (default 1 MiB); over it, a 413 error. A
   * malformed CONTENT_LENGTH (`1e3`, `abc`) is a 400 error, before the body is read.
   */
  async content(options: BodyOptions = {}): Promise<Buffer> {
    const limit = options.limit ?? DEFAULT_BODY_LIMIT;
    const declared = parseContentLength(this.headers['content-length']);
    if (declared === null) {
      const value = JSON.stringify(this.headers['content-length']!.slice(0, 40));
      throw new FcgiError(ErrorCode.BODY_INVALID, `malformed Content-Length ${value}: digits only`, 400);
    }
    if (declared !== undefined && declared > limit) throw tooLarge(limit);
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of this as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > limit) {
        this.destroy();
        throw tooLarge(limit);
      }
      chunks.push(chunk);
    }
    return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
  }

  /** The body decoded as UTF-8. */
  async text(options?: BodyOptions): Promise<string> {
    return (await this.content(options)).toString('utf8');
  }

  /** The body parsed as JSON; malformed JSON is a 400 error. */
  async json<T = unknown>(options?: BodyOptions): Promise<T> {
    const text = await this.text(options);
    try {
      return JSON.parse(text) as T;
    } catch (err) {
      throw new FcgiError(ErrorCode.BODY_INVALID, `malformed JSON body: ${(err as Error).message}`, 400);
    }
  }

  #abort(reason: Error): void {
    if (this.aborted) return;
    this.aborted = true;
    this.#abortReason = reason;
    this.#controller?.abort(reason);
    // As in node:http, where the connection closing is what aborts the request.
    closeRequestSocket(this.socket);
    this.emit('aborted');
    this.destroy(this.complete ? undefined : reason);
  }
}

function destroyRequest(this: Readable, err: Error | null, cb: (err?: Error | null) => void): void {
  // Like IncomingMessage: an abort is not an 'error' nobody listens to (that would crash).
  cb(err && this.listenerCount('error') > 0 ? err : null);
}

function queryOf(url: string): string {
  const q = url.indexOf('?');
  return q < 0 ? '' : url.slice(q + 1);
}

function tooLarge(limit: number): FcgiError {
  return new FcgiError(ErrorCode.BODY_TOO_LARGE, `request body larger than ${limit} bytes`, 413);
}
