// One request on a client connection: sends BEGIN_REQUEST, PARAMS and STDIN (streamed with
// backpressure), reads STDOUT into a response with backpressure, and handles abort.
import { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import {
  RecordType,
  Role,
  Status,
  encodeAbortRequest,
  encodeBeginRequest,
  encodeRecord,
  streamRecordViews,
} from '../protocol/index.js';
import { HeadReader } from './cgi-response.js';
import type { PreparedRequest } from './params.js';
import { REQUEST_ID, type ClientConnection, type ConnectionUser } from './client-connection.js';
import { ClientErrorCode, clientError } from './errors.js';
import { FcgiClientResponse, type EndRequest } from './response.js';

export interface ExchangeOptions {
  keepConn: boolean;
  maxHeaderBytes: number;
  maxStderrLength: number;
  bodyHighWaterMark: number;
  /** Milliseconds to wait for END_REQUEST after ABORT_REQUEST before the connection is destroyed. */
  abortTimeout: number;
}

export interface ExchangeCallbacks {
  /** The header block arrived. */
  resolve(res: FcgiClientResponse): void;
  /** Failed before the header block. `retryable`: nothing was received and the body can be sent again. */
  reject(err: Error, retryable: boolean): void;
  /** The connection is free again (called once, last). Not reusable: destroy it. */
  release(reusable: boolean): void;
}

const STDIN_END = encodeRecord(RecordType.STDIN, REQUEST_ID);
const noop = (): void => {};

const enum State {
  Running,
  Aborting,
  Done,
}

export class ClientExchange implements ConnectionUser {
  readonly #conn: ClientConnection;
  readonly #opts: ExchangeOptions;
  readonly #cb: ExchangeCallbacks;
  readonly #req: PreparedRequest;
  #state = State.Running;
  #source: Readable | null = null;
  #stdinDone = false;
  #waitingDrain = false;
  #received = false;
  readonly #head: HeadReader;
  #res: FcgiClientResponse | null = null;
  #body: Readable | null = null;
  #paused = false;
  #settle: { resolve(v: EndRequest): void; reject(e: Error): void } | null = null;
  #stderr = '';
  readonly #decoder = new StringDecoder('utf8');
  #abortTimer: NodeJS.Timeout | null = null;

  constructor(conn: ClientConnection, req: PreparedRequest, opts: ExchangeOptions, cb: ExchangeCallbacks) {
    this.#conn = conn;
    this.#req = req;
    this.#opts = opts;
    this.#cb = cb;
    this.#head = new HeadReader(opts.maxHeaderBytes);
  }

  /** Writes BEGIN_REQUEST, PARAMS and (for a Buffer or string body) all of STDIN in one write. */
  start(): void {
    const { params, data, stream } = this.#req;
    this.#conn.attach(this);
    const parts: Uint8Array[] = [encodeBeginRequest(REQUEST_ID, Role.RESPONDER, this.#opts.keepConn), params];
    if (!stream) {
      if (data) streamRecordViews(RecordType.STDIN, REQUEST_ID, data, parts);
      parts.push(STDIN_END);
      this.#stdinDone = true;
    }
    this.#conn.write(parts);
    if (stream) this.#pump(stream);
  }

  /** Stops the request: the caller sees `err`; ABORT_REQUEST goes out and END_REQUEST is awaited (bounded). */
  abort(err: Error): void {
    if (this.#state !== State.Running) return;
    this.#state = State.Aborting;
    this.#stopSource();
    this.#deliverError(err, false);
    this.#resume();
    this.#conn.write([encodeAbortRequest(REQUEST_ID)]);
    this.#abortTimer = setTimeout(() => {
      if (this.#state !== State.Aborting) return;
      this.#state = State.Done;
      this.#release(false);
    }, this.#opts.abortTimeout);
  }

  // -- ConnectionUser --

  onStdout(content: Buffer): void {
    if (this.#state !== State.Running) return;
    this.#received = true;
    if (this.#res) return this.#push(content);
    let found: ReturnType<HeadReader['push']>;
    try {
      found = this.#head.push(content);
    } catch (err) {
      return this.#fail(err as Error, false);
    }
    if (!found) return;
    const body = (this.#body = new Readable({
      highWaterMark: this.#opts.bodyHighWaterMark,
      read: () => this.#resume(),
      destroy: (err, cb) => {
        if (this.#state === State.Running) {
          this.abort(
            clientError(ClientErrorCode.ABORTED, 'the response body was destroyed before its end', {
              cause: err ?? undefined,
            }),
          );
        }
        // Like http.IncomingMessage: no 'error' event that nobody listens to (it would crash).
        cb(err && body.listenerCount('error') > 0 ? err : null);
      },
    }));
    const done = new Promise<EndRequest>((resolve, reject) => (this.#settle = { resolve, reject }));
    done.catch(noop);
    this.#res = new FcgiClientResponse(found.head, body, done, () => this.#stderr);
    this.#cb.resolve(this.#res);
    if (found.rest.length > 0) this.#push(found.rest);
  }

  onStderr(content: Buffer): void {
    if (this.#state !== State.Running) return;
    this.#received = true;
    const text = this.#decoder.write(content);
    if (!text) return;
    const room = this.#opts.maxStderrLength - this.#stderr.length;
    if (room > 0) this.#stderr += text.length > room ? text.slice(0, room) : text;
    this.#res?.emit('stderr', text);
  }

  onEndRequest(appStatus: number, protocolStatus: number): void {
    if (this.#state === State.Done) return;
    const aborted = this.#state === State.Aborting;
    this.#state = State.Done;
    // Reusable only if the application saw our whole request and keeps the connection. Never after
    // an abort: PHP-FPM then reads the ABORT_REQUEST as the start of the next request and closes,
    // and Go's net/http/fcgi sends a second END_REQUEST when the handler returns.
    const reusable = !aborted && this.#stdinDone && this.#opts.keepConn && this.#conn.open;
    this.#stopSource();
    if (!aborted) {
      if (this.#res) {
        this.#body!.push(null);
        this.#settle!.resolve({ appStatus, protocolStatus });
      } else if (protocolStatus !== Status.REQUEST_COMPLETE && this.#head.length === 0) {
        const why = ['', 'CANT_MPX_CONN', 'OVERLOADED', 'UNKNOWN_ROLE'][protocolStatus] ?? `status ${protocolStatus}`;
        this.#cb.reject(
          clientError(ClientErrorCode.REJECTED, `the FastCGI application refused the request: ${why}`),
          false,
        );
      } else {
        this.#cb.reject(
          clientError(ClientErrorCode.BAD_RESPONSE, 'END_REQUEST before the end of the CGI header block'),
          false,
        );
      }
    }
    this.#release(reusable);
  }

  onProtocolError(err: Error): void {
    this.#lost(err);
  }

  onConnectionLost(err: Error): void {
    this.#lost(err);
  }

  onDrain(): void {
    if (this.#waitingDrain) {
      this.#waitingDrain = false;
      this.#source?.resume();
    }
  }

  // -- Internals --

  #lost(err: Error): void {
    if (this.#state === State.Done) return;
    if (this.#state === State.Aborting) {
      this.#state = State.Done;
      this.#release(false);
      return;
    }
    // A reused connection that died before answering anything: the caller may send again.
    const retryable = !this.#received && this.#conn.requests > 1 && this.#req.stream === null;
    this.#fail(err, retryable);
  }

  #fail(err: Error, retryable: boolean): void {
    this.#state = State.Done;
    this.#stopSource();
    this.#deliverError(err, retryable);
    this.#release(false);
  }

  #deliverError(err: Error, retryable: boolean): void {
    if (!this.#res) return this.#cb.reject(err, retryable);
    this.#body!.destroy(err);
    this.#settle!.reject(err);
  }

  #release(reusable: boolean): void {
    if (this.#abortTimer) clearTimeout(this.#abortTimer);
    this.#conn.attach(null);
    this.#resume();
    this.#cb.release(reusable);
  }

  #push(chunk: Buffer): void {
    const body = this.#body!;
    if (body.destroyed) return;
    if (!body.push(chunk) && !this.#paused) {
      // The consumer is slow: stop reading the socket until it asks for more.
      this.#paused = true;
      this.#conn.pause();
    }
  }

  #resume(): void {
    if (this.#paused) {
      this.#paused = false;
      this.#conn.resume();
    }
  }

  #pump(src: Readable): void {
    this.#source = src;
    src.on('data', this.#onSourceData);
    src.on('end', this.#onSourceEnd);
    src.on('error', this.#onSourceError);
    if (src.readableEnded) this.#onSourceEnd();
  }

  #onSourceData = (chunk: Buffer | string): void => {
    if (this.#state !== State.Running) return;
    const buf = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    if (!(buf instanceof Uint8Array))
      return this.#onSourceError(new TypeError('a request body stream must yield bytes or strings'));
    if (buf.length === 0) return;
    const parts: Uint8Array[] = [];
    streamRecordViews(RecordType.STDIN, REQUEST_ID, buf, parts);
    if (!this.#conn.write(parts)) {
      this.#waitingDrain = true;
      this.#source?.pause();
    }
  };

  #onSourceEnd = (): void => {
    if (!this.#source) return;
    this.#detachSource();
    this.#conn.write([STDIN_END]);
    this.#stdinDone = true;
  };

  #onSourceError = (err: Error): void => {
    this.#detachSource();
    this.abort(err);
  };

  #detachSource(): Readable | null {
    const src = this.#source;
    if (!src) return null;
    this.#source = null;
    src.off('data', this.#onSourceData);
    src.off('end', this.#onSourceEnd);
    src.off('error', this.#onSourceError);
    src.on('error', noop);
    return src;
  }

  /** The request ended before its body was sent: the rest of the source is not wanted. */
  #stopSource(): void {
    this.#detachSource()?.destroy();
  }
}
