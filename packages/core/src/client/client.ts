// The public FastCGI client: sends Responder requests to an application (PHP-FPM, Go, an
// @fcgi server ...) over a pool of connections, one request per connection at a time.
import { ClientExchange, type ExchangeOptions } from './exchange.js';
import { REQUEST_ID, resolveClientTarget, type ClientConnection, type ClientTarget } from './client-connection.js';
import { prepareRequest, type PreparedRequest, type RequestBody, type RequestParams } from './params.js';
import type { FcgiError } from '../errors.js';
import { ClientErrorCode, clientError } from './errors.js';
import { Pool, type PoolStats, type Waiter } from './pool.js';
import type { FcgiClientResponse } from './response.js';

export interface FcgiClientOptions {
  /** A unix socket path, "unix:/path", "host:port", { host, port } or { path }. */
  target: ClientTarget;
  /** Ask the application to keep connections open (FCGI_KEEP_CONN) and reuse them. Default true. */
  keepConn?: boolean;
  /** Connections open at once; further requests wait. Default 8. */
  maxConnections?: number;
  /** Idle connections kept for reuse. Default maxConnections. */
  maxIdle?: number;
  /** Milliseconds an idle connection is kept. Default 30000. */
  idleTimeout?: number;
  /** Requests that may wait for a connection; more are refused (QUEUE_FULL). Default 1000. */
  maxQueue?: number;
  /** Milliseconds to connect. Default 5000. */
  connectTimeout?: number;
  /** Default per-request time limit in ms, from request() to END_REQUEST. Default none. */
  timeout?: number;
  /** Milliseconds to wait for END_REQUEST after ABORT_REQUEST, else the connection is destroyed. Default 2000. */
  abortTimeout?: number;
  /** Milliseconds close() waits for busy connections before destroying them. Default 5000. */
  closeTimeout?: number;
  /** Largest CGI header block accepted. Default 64 KiB. */
  maxHeaderBytes?: number;
  /** Characters of STDERR kept in `response.stderr` (events carry all of it). Default 64 Ki. */
  maxStderrLength?: number;
  /** Bytes of response body buffered before the connection is paused. Default 64 KiB. */
  bodyHighWaterMark?: number;
}

export interface FcgiRequestOptions {
  /** The params (CGI variables). CONTENT_LENGTH is added for a Buffer or string body if missing. */
  params: RequestParams;
  /** Sent as STDIN; a Readable is streamed with backpressure (set CONTENT_LENGTH yourself). */
  body?: RequestBody;
  /** Aborts the request (ABORT_REQUEST); the promise or the body then fails with an AbortError. */
  signal?: AbortSignal;
  /** Time limit in ms from now to END_REQUEST; overrides the client's. 0 means none. */
  timeout?: number;
}

export class FcgiClient {
  readonly #pool: Pool;
  readonly #exchange: ExchangeOptions;
  readonly #timeout: number;
  readonly #closeTimeout: number;
  #closed = false;

  constructor(options: FcgiClientOptions) {
    const maxConnections = options.maxConnections ?? 8;
    if (!Number.isInteger(maxConnections) || maxConnections < 1)
      throw new RangeError('maxConnections must be a positive integer');
    this.#pool = new Pool({
      target: resolveClientTarget(options.target),
      maxConnections,
      maxIdle: options.maxIdle ?? maxConnections,
      idleTimeout: options.idleTimeout ?? 30_000,
      maxQueue: options.maxQueue ?? 1000,
      connectTimeout: options.connectTimeout ?? 5000,
    });
    this.#exchange = {
      keepConn: options.keepConn ?? true,
      maxHeaderBytes: options.maxHeaderBytes ?? 64 * 1024,
      maxStderrLength: options.maxStderrLength ?? 64 * 1024,
      bodyHighWaterMark: options.bodyHighWaterMark ?? 64 * 1024,
      abortTimeout: options.abortTimeout ?? 2000,
    };
    this.#timeout = options.timeout ?? 0;
    this.#closeTimeout = options.closeTimeout ?? 5000;
  }

  /** Connections idle, busy and being opened, and requests waiting. */
  get stats(): PoolStats {
    return this.#pool.stats;
  }

  /** Sends a request; resolves once the CGI header block arrived. */
  request(options: FcgiRequestOptions): Promise<FcgiClientResponse> {
    return new Promise((resolve, reject) => {
      if (this.#closed) return reject(clientError(ClientErrorCode.CLOSED, 'the FastCGI client is closed'));
      const prepared = prepareRequest(REQUEST_ID, options.params, options.body);
      new Job(this.#pool, this.#exchange, options, prepared, options.timeout ?? this.#timeout, resolve, reject).start();
    });
  }

  /** Refuses new requests, closes idle connections and waits (bounded) for busy ones. */
  close(): Promise<void> {
    this.#closed = true;
    return this.#pool.close(this.#closeTimeout);
  }
}

/** One request from request() to the release of its connection. */
class Job implements Waiter {
  readonly #pool: Pool;
  readonly #opts: ExchangeOptions;
  readonly #req: FcgiRequestOptions;
  readonly #prepared: PreparedRequest;
  readonly #timeoutMs: number;
  readonly #resolve: (res: FcgiClientResponse) => void;
  readonly #reject: (err: Error) => void;
  #exchange: ClientExchange | null = null;
  /** Over for the caller: the request promise or the body has failed, or END_REQUEST came. */
  #over = false;
  #retried = false;
  #retry = false;
  #timer: NodeJS.Timeout | null = null;

  constructor(
    pool: Pool,
    opts: ExchangeOptions,
    req: FcgiRequestOptions,
    prepared: PreparedRequest,
    timeoutMs: number,
    resolve: (res: FcgiClientResponse) => void,
    reject: (err: Error) => void,
  ) {
    this.#pool = pool;
    this.#opts = opts;
    this.#req = req;
    this.#prepared = prepared;
    this.#timeoutMs = timeoutMs;
    this.#resolve = resolve;
    this.#reject = reject;
  }

  start(): void {
    const signal = this.#req.signal;
    if (signal?.aborted) return this.#reject(abortError(signal));
    signal?.addEventListener('abort', this.#onAbort, { once: true });
    if (this.#timeoutMs > 0) {
      this.#timer = setTimeout(
        () =>
          this.#stop(clientError(ClientErrorCode.TIMEOUT, `no complete FastCGI response within ${this.#timeoutMs} ms`)),
        this.#timeoutMs,
      );
    }
    this.#pool.acquire(this);
  }

  grant(conn: ClientConnection): void {
    if (this.#over) return this.#pool.release(conn, true);
    const ex = new ClientExchange(conn, this.#prepared, this.#opts, {
      resolve: (res) => this.#resolve(res),
      reject: (err, retryable) => {
        if (retryable && !this.#retried && !this.#over) {
          this.#retried = this.#retry = true;
          return;
        }
        this.#finish();
        this.#reject(err);
      },
      release: (reusable) => {
        this.#exchange = null;
        this.#pool.release(conn, reusable);
        if (this.#retry) {
          // The connection was stale; so may the other idle ones be: start afresh.
          this.#retry = false;
          this.#pool.dropIdle();
          this.#pool.acquire(this);
        } else {
          this.#finish();
        }
      },
    });
    this.#exchange = ex;
    ex.start();
  }

  fail(err: Error): void {
    if (this.#over) return;
    this.#finish();
    this.#reject(err);
  }

  #onAbort = (): void => {
    this.#stop(abortError(this.#req.signal!));
  };

  #stop(err: Error): void {
    if (this.#exchange) return this.#exchange.abort(err);
    if (this.#over) return;
    // Waiting in the queue, or connecting (grant() then hands the connection back).
    this.#pool.cancel(this);
    this.fail(err);
  }

  #finish(): void {
    this.#over = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#req.signal?.removeEventListener('abort', this.#onAbort);
  }
}

function abortError(signal: AbortSignal): FcgiError {
  return clientError(ClientErrorCode.ABORTED, 'the FastCGI request was aborted', { cause: signal.reason });
}
