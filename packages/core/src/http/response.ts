// The response a handler writes: status and headers become the CGI header block, sent with the
// first body bytes through the request's ResponseSink (FCGI_STDOUT over FastCGI, stdout in CGI
// mode, a Web Response in process); `err()` goes to its stderr (FCGI_STDERR over FastCGI).
import { Writable } from 'node:stream';
import { format } from 'node:util';
import { Dictionary } from '../protocol/index.js';
import { ErrorCode, FcgiError } from '../errors.js';
import { checkHeaderValue, checkStatus, headerKey, serializeHead } from './cgi-header.js';
import { kOutHeaders, type HeaderEntry } from './out-headers.js';
import { abortRequest, type FcgiRequest } from './request.js';
import { closeRequestSocket, type RequestSocket } from './request-socket.js';
import { requestLine } from './log-line.js';
import { OutgoingCompat, type HeaderValue } from './outgoing-compat.js';
import type { ResponseSink } from './sink.js';

export type { HeaderValue };

type Chunk = string | Uint8Array;
/** Headers as writeHead() takes them, as node:http does: an object, a flat list, or pairs. */
export type HeaderList = readonly string[] | readonly (readonly [string, HeaderValue])[];
export type OutgoingHeaders = Record<string, HeaderValue> | HeaderList;
type Callback = (err?: Error | null) => void;

// Entry points for the transport; static so they survive a prototype swap (see request.ts).
let deliverAbort: (res: FcgiResponse, reason: Error) => void;
let deliverDrain: (res: FcgiResponse) => void;
let reopenHead: (res: FcgiResponse) => boolean;
export { deliverAbort as abortResponse, deliverDrain as drainResponse };
/**
 * For error handling: if no byte of the response went out yet, forgets status and headers (even
 * after writeHead) so an error response can replace it, and returns true.
 */
export { reopenHead as resetUnsentResponse };

function noBodyStatus(code: number): boolean {
  return code === 204 || code === 304 || (code >= 100 && code < 200);
}

export class FcgiResponse extends OutgoingCompat {
  readonly req: FcgiRequest;
  statusCode = 200;
  /** Reason phrase; empty means the standard one. */
  statusMessage = '';
  /** True once status and headers are final: writeHead(), the first output, or raw output. */
  headersSent = false;
  /** True once end() was called. */
  writableEnded = false;
  finished = false;
  /** True once the response was handed to the sink whole. */
  writableFinished = false;
  /** True after an abort, a lost connection or destroy(). */
  destroyed = false;
  writableNeedDrain = false;
  /** False once ended or destroyed. */
  writable = true;
  /** True once 'close' was emitted. */
  closed = false;
  errored: Error | null = null;
  /** As node:http: truthy once status and headers are final; the CGI header block once built. */
  _header: string | true | null = null;
  // Nothing is buffered here: output goes straight to the sink, which does flow control.
  writableLength = 0;
  writableHighWaterMark = 16 * 1024;
  writableCorked = 0;
  /**
   * As node:http's: when true, a body longer than the Content-Length set, or an end() short of
   * it, throws ERR_FCGI_CONTENT_LENGTH_MISMATCH instead of going out.
   */
  strictContentLength = false;
  /** The request's stand-in for the client connection (see RequestSocket). */
  socket: RequestSocket;
  connection: RequestSocket;
  readonly #sink: ResponseSink;
  readonly #request: FcgiRequest;
  /**
   * The headers, in node:http's own table (see out-headers.ts), so its prototype methods called
   * with this response as `this` see and change them.
   */
  [kOutHeaders]: Record<string, HeaderEntry> = new Dictionary<HeaderEntry>();
  #stdout: Writable | null = null;
  #stderr: Writable | null = null;
  #hasBody = true;
  /** The header block was handed to the sink (headersSent may be true before, after writeHead). */
  #headOut = false;
  /** Body bytes written, counted only under strictContentLength. */
  #sent = 0;

  static {
    deliverAbort = (res, reason) => {
      if (res.destroyed) return;
      res.destroyed = true;
      res.writable = false;
      // The reason as an 'error' only for a listener: unheard, it would crash the process.
      const raw = res.#stdout;
      raw?.destroy(raw.listenerCount('error') > 0 ? reason : undefined);
      res.#stderr?.destroy();
      res.closed = true;
      res.emit('close');
      closeRequestSocket(res.socket);
    };
    reopenHead = (res) => {
      if (res.#headOut || res.writableEnded || res.destroyed) return false;
      res[kOutHeaders] = new Dictionary<HeaderEntry>();
      res.headersSent = false;
      res._header = null;
      res.statusCode = 200;
      res.statusMessage = '';
      res.#hasBody = res.req.method !== 'HEAD';
      return true;
    };
    deliverDrain = (res) => {
      res.writableNeedDrain = false;
      res.emit('drain');
    };
  }

  constructor(sink: ResponseSink, req: FcgiRequest) {
    super();
    this.#sink = sink;
    this.req = this.#request = req;
    if (req.method === 'HEAD') this.#hasBody = false;
    this.socket = this.connection = req.socket;
    req.socket.response = this;
    // Express replaces this object's prototype with one built on http.ServerResponse.prototype,
    // whose methods need Node's internals. Own properties keep ours (or a subclass's) in front:
    // references to the shared prototype functions, no per-request closures.
    this.setHeader = this.setHeader;
    this.appendHeader = this.appendHeader;
    this.getHeader = this.getHeader;
    this.getHeaders = this.getHeaders;
    this.getHeaderNames = this.getHeaderNames;
    this.getRawHeaderNames = this.getRawHeaderNames;
    this.hasHeader = this.hasHeader;
    this.removeHeader = this.removeHeader;
    this.writeHead = this.writeHead;
    this.writeHeader = this.writeHeader;
    this._implicitHeader = this._implicitHeader;
    this.flushHeaders = this.flushHeaders;
    this.write = this.write;
    this.end = this.end;
    this.destroy = this.destroy;
    this.cork = this.cork;
    this.uncork = this.uncork;
    this.setTimeout = this.setTimeout;
    this.writeContinue = this.writeContinue;
    this.writeProcessing = this.writeProcessing;
    this.writeEarlyHints = this.writeEarlyHints;
    this.addTrailers = this.addTrailers;
    this.err = this.err;
  }

  // -- Status and headers --

  /** Sets the status code; chainable. */
  status(code: number): this {
    checkStatus(code);
    this.statusCode = code;
    return this;
  }

  setHeader(name: string, value: HeaderValue): this {
    if (this.headersSent) this.#assertHeadersOpen(name);
    const key = headerKey(name);
    let stored: string | string[];
    if (typeof value === 'string') {
      stored = value;
      checkHeaderValue(name, stored);
    } else if (typeof value === 'object') {
      stored = value.map(String);
      for (const v of stored) checkHeaderValue(name, v);
    } else {
      stored = String(value);
      checkHeaderValue(name, stored);
    }
    this[kOutHeaders][key] = [name, stored];
    return this;
  }

  /** Adds a value, keeping earlier ones (as repeated header lines, e.g. several Set-Cookie). */
  appendHeader(name: string, value: HeaderValue): this {
    const prev = this[kOutHeaders][name.toLowerCase()];
    if (!prev) return this.setHeader(name, value);
    const add = typeof value === 'object' ? value.map(String) : [String(value)];
    const had = prev[1];
    return this.setHeader(prev[0], [...(typeof had === 'object' ? had.map(String) : [String(had)]), ...add]);
  }

  getHeader(name: string): string | string[] | undefined {
    return this[kOutHeaders][name.toLowerCase()]?.[1] as string | string[] | undefined;
  }

  hasHeader(name: string): boolean {
    return name.toLowerCase() in this[kOutHeaders];
  }

  removeHeader(name: string): void {
    this.#assertHeadersOpen(name);
    delete this[kOutHeaders][name.toLowerCase()];
  }

  /** Lower-case names to values. */
  getHeaders(): Record<string, string | string[]> {
    const out: Record<string, string | string[]> = Object.create(null);
    const headers = this[kOutHeaders];
    for (const key in headers) out[key] = headers[key]![1] as string | string[];
    return out;
  }

  getHeaderNames(): string[] {
    return Object.keys(this[kOutHeaders]);
  }

  /** The names as first set (not lower-cased). */
  getRawHeaderNames(): string[] {
    const names: string[] = [];
    const headers = this[kOutHeaders];
    for (const key in headers) names.push(headers[key]![0]);
    return names;
  }

  /**
   * Sets status (and reason, and headers) and makes them final, as node:http does: headersSent is
   * true and later header changes throw. The block itself goes out with the first output, so
   * end(body) can still give it a Content-Length.
   */
  writeHead(code: number, message?: string | OutgoingHeaders, headers?: OutgoingHeaders): this {
    if (this.headersSent) throw new FcgiError(ErrorCode.HEADERS_SENT, 'writeHead() after the headers were sent');
    const status = code | 0; // as node:http, which also takes '404'
    checkStatus(status);
    if (typeof message === 'object') headers = message;
    else if (typeof message === 'string') checkHeaderValue('status message', message);
    if (Array.isArray(headers)) this.#setHeaderList(headers as HeaderList);
    else if (headers) {
      const record = headers as Record<string, HeaderValue>;
      for (const name of Object.keys(record)) this.setHeader(name, record[name]!);
    }
    if (typeof message === 'string') this.statusMessage = message;
    this.statusCode = status;
    this.#commit();
    return this;
  }

  /** The old name of writeHead(). */
  writeHeader(code: number, message?: string | OutgoingHeaders, headers?: OutgoingHeaders): this {
    return this.writeHead(code, message, headers);
  }

  /**
   * What write() and end() do first when the headers are not final, as in node:http: through
   * the instance, so middleware that wraps res.writeHead (on-headers) sees the headers going out.
   */
  _implicitHeader(): void {
    this.writeHead(this.statusCode);
  }

  /** Sends the header block without body bytes. */
  flushHeaders(): void {
    if (this.#headOut || this.destroyed || this.writableEnded) return;
    if (!this.headersSent) this.writeHead(this.statusCode);
    this.#sink.write(this.#head(), null);
  }

  // -- Body --

  write(chunk: Chunk, encoding?: BufferEncoding | Callback, cb?: Callback): boolean {
    if (typeof encoding === 'function') {
      cb = encoding;
      encoding = undefined;
    }
    if (this.writableEnded) {
      this.#afterEnd(cb);
      return false;
    }
    if (this.destroyed) {
      if (cb) process.nextTick(cb, new Error('write after the response was destroyed'));
      return true;
    }
    if (!this.headersSent) this.writeHead(this.statusCode);
    const data = this.#hasBody ? toData(chunk, encoding) : null;
    if (this.strictContentLength && data !== null) this.#countStrict(data, false);
    const head = this.#headOut ? '' : this.#head();
    const ok = this.#sink.write(head, data);
    if (!ok) this.writableNeedDrain = true;
    if (cb) process.nextTick(cb);
    return ok;
  }

  end(chunk?: Chunk | Callback, encoding?: BufferEncoding | Callback, cb?: Callback): this {
    if (typeof chunk === 'function') {
      cb = chunk;
      chunk = undefined;
    } else if (typeof encoding === 'function') {
      cb = encoding;
      encoding = undefined;
    }
    if (this.writableEnded) {
      if (cb) process.nextTick(cb);
      return this;
    }
    if (this.destroyed) {
      this.writableEnded = this.finished = true;
      this.writable = false;
      if (cb) process.nextTick(cb);
      return this;
    }
    let data = chunk === undefined ? null : toData(chunk, encoding as BufferEncoding | undefined);
    let head = '';
    if (!this.#headOut) {
      // Checks status and reason first: if they are bad this throws with the response still open,
      // so the handler's error can still be answered.
      if (!this.headersSent) this.writeHead(this.statusCode);
      this.#commit();
      // Like Node: a body given whole to end() gets its Content-Length.
      if (!noBodyStatus(this.statusCode) && !('content-length' in this[kOutHeaders])) {
        const len = data === null ? 0 : typeof data === 'string' ? Buffer.byteLength(data) : data.length;
        if (data !== null || this.#hasBody) this[kOutHeaders]['content-length'] = ['Content-Length', String(len)];
      }
    }
    if (!this.#hasBody) data = null;
    if (this.strictContentLength) this.#countStrict(data ?? '', true);
    if (!this.#headOut) head = this.#head();
    this.writableEnded = this.finished = true;
    this.writable = false;
    this.#sink.end(head, data);
    process.nextTick(finish, this, cb);
    return this;
  }

  /** Writes the values (formatted like console.log) and a newline. */
  print(...values: unknown[]): boolean {
    return this.write(
      values.length === 1 && typeof values[0] === 'string' ? values[0] + '\n' : format(...values) + '\n',
    );
  }

  /**
   * Writes one line to FCGI_STDERR (the web server's error log; stderr in CGI mode): the values
   * formatted like console.log, after the time and the request (see http/log-line.ts). `stderr`
   * is the raw stream.
   */
  err(...values: unknown[]): boolean {
    return this.#sink.stderr(`${requestLine(this.req, format(...values))}\n`);
  }

  /** Raw FCGI_STDOUT (stdout in CGI mode): for handlers that write their own CGI header block. */
  get stdout(): Writable {
    return (this.#stdout ??= new Writable({
      write: (chunk: Buffer, _enc, cb) => {
        this.headersSent = this.#headOut = true;
        this._header ??= true;
        if (this.#sink.write('', chunk)) cb();
        else this.once('drain', () => cb());
      },
      final: (cb) => {
        this.headersSent = this.#headOut = true;
        this.end();
        cb();
      },
    }));
  }

  /** Raw FCGI_STDERR as a stream. */
  get stderr(): Writable {
    return (this.#stderr ??= new Writable({
      write: (chunk: Buffer, _enc, cb) => {
        this.#sink.stderr(chunk);
        cb();
      },
    }));
  }

  /**
   * Ends the request at once, as destroying the connection does in node:http: the response
   * truncated (FastCGI: END_REQUEST with appStatus 1), the request aborted (its body will not arrive).
   */
  destroy(err?: Error): this {
    if (this.destroyed) return this;
    if (err) {
      this.errored = err;
      this.#sink.stderr(`${err.stack ?? err.message}\n`);
    }
    this.writableEnded = this.finished = true;
    this.#sink.destroy(err);
    const reason = err ?? new Error('response destroyed');
    abortRequest(this.#request, reason);
    deliverAbort(this, reason);
    return this;
  }

  /**
   * Makes status and headers final. The status and reason are checked here too, since they may
   * have been assigned directly (a CR or LF in the reason would forge header lines). A status
   * without a body (204, 304, 1xx) drops body bytes from then on, as node:http does.
   */
  #commit(): void {
    const code = this.statusCode | 0; // as node:http, which also takes '404'
    checkStatus(code);
    if (this.statusMessage) checkHeaderValue('status message', String(this.statusMessage));
    this.statusCode = code;
    if (noBodyStatus(code)) this.#hasBody = false;
    this.headersSent = true;
    this._header ??= true;
  }

  /** The header block, now final and handed out. */
  #head(): string {
    this.#commit();
    this.#headOut = true;
    return (this._header = serializeHead(this.statusCode, this.statusMessage, this[kOutHeaders]));
  }

  /**
   * writeHead()'s headers as a list, as node:http takes them: flat (`[name, value, name, value]`,
   * what h3 and srvx pass) or pairs. A name given replaces what was set before; a name repeated
   * in the list keeps every value (several Set-Cookie).
   */
  #setHeaderList(list: HeaderList): void {
    const pairs = list.length > 0 && Array.isArray(list[0]);
    if (!pairs && list.length % 2 !== 0)
      throw new FcgiError(ErrorCode.INVALID_HEADER, 'writeHead(): a flat header list needs a value after every name');
    const count = pairs ? list.length : list.length / 2;
    const nameAt = (i: number) => String(pairs ? (list[i] as readonly unknown[])[0] : list[2 * i]);
    const valueAt = (i: number) => (pairs ? (list[i] as readonly unknown[])[1] : list[2 * i + 1]) as HeaderValue;
    for (let i = 0; i < count; i++) delete this[kOutHeaders][headerKey(nameAt(i))];
    for (let i = 0; i < count; i++) this.appendHeader(nameAt(i), valueAt(i));
  }

  /** strictContentLength: counts `data`, throwing (before it goes out) past or, at the end, short of Content-Length. */
  #countStrict(data: Uint8Array | string, ending: boolean): void {
    const declared = this[kOutHeaders]['content-length'];
    if (!declared || !this.#hasBody) return;
    const expected = Number(declared[1]);
    const sent = this.#sent + (typeof data === 'string' ? Buffer.byteLength(data) : data.length);
    if (sent > expected || (ending && sent !== expected))
      throw new FcgiError(
        ErrorCode.CONTENT_LENGTH_MISMATCH,
        `response body of ${sent} bytes does not match Content-Length ${expected}`,
      );
    this.#sent = sent;
  }

  #assertHeadersOpen(name: string): void {
    if (this.headersSent)
      throw new FcgiError(ErrorCode.HEADERS_SENT, `cannot set header ${name}: the headers were sent`);
  }

  #afterEnd(cb: Callback | undefined): void {
    const err = new FcgiError(ErrorCode.WRITE_AFTER_END, 'write after end');
    process.nextTick(() => {
      cb?.(err);
      if (this.listenerCount('error') > 0) this.emit('error', err);
    });
  }
}

function toData(chunk: Chunk, encoding: BufferEncoding | undefined): Uint8Array | string {
  if (typeof chunk === 'string')
    return encoding && encoding !== 'utf8' && encoding !== 'utf-8' ? Buffer.from(chunk, encoding) : chunk;
  return chunk;
}

function finish(res: FcgiResponse, cb: Callback | undefined): void {
  // node:http's order: end()'s callback is a 'finish' listener added by end().
  res.emit('prefinish');
  res.writableFinished = true;
  res.emit('finish');
  cb?.();
  if (!res.destroyed) {
    res.destroyed = res.closed = true;
    res.emit('close');
  }
  closeRequestSocket(res.socket);
}
