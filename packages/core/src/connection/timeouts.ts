// requestTimeout, bodyTimeout and paramsTimeout: the timers of a connection, and the reason a handler sees on
// expiry (req.signal.reason, the request's 'error'); the layer above words the client's answer.
import { ErrorCode, FcgiError } from '../errors.js';
import type { Exchange } from './exchange.js';
import type { ConnectionLimits } from './limits.js';

export type TimeoutCode = typeof ErrorCode.REQUEST_TIMEOUT | typeof ErrorCode.BODY_TIMEOUT;

/**
 * The reason a handler sees when a timer expires: FcgiError with the timeout's code and the status
 * answered when no output had gone out yet (503 for requestTimeout, 408 for bodyTimeout).
 */
export function timeoutError(code: TimeoutCode, ms: number): FcgiError {
  return code === ErrorCode.REQUEST_TIMEOUT
    ? new FcgiError(code, `the request did not end within requestTimeout (${ms} ms)`, 503)
    : new FcgiError(code, `the request's input stalled for bodyTimeout (${ms} ms)`, 408);
}

/** What the timers need from their connection. */
export interface TimerHost {
  /** True while the socket is paused because a handler is not reading: that stall is ours. */
  paused(): boolean;
  /** Requests whose input (PARAMS, STDIN) is still incomplete. */
  waiting(): Iterable<Exchange>;
  /** True while a request waits for its PARAMS or a record other than STDIN is half read. */
  inputPending(): boolean;
  /** The parser's count of records begun, when a record other than STDIN is half read; else -1. */
  partialRecord(): number;
  /** A record stayed incomplete for paramsTimeout: close the connection. */
  recordStalled(err: Error): void;
}

/**
 * The timeouts of one connection: a requestTimeout timer per request (only when the limit is on),
 * and one input idle timer (bodyTimeout) refreshed by every chunk read, armed while a request
 * began. One idle timer per connection keeps the cost per chunk to a refresh().
 */
export class ConnectionTimers {
  readonly #requestTimeout: number;
  readonly #bodyTimeout: number;
  readonly #host: TimerHost;
  readonly #paramsTimeout: number;
  readonly #deadlines: Map<Exchange, NodeJS.Timeout> | null;
  #idle: NodeJS.Timeout | null = null;
  /**
   * The params deadline: armed when input is left pending after a chunk; on expiry, what was
   * pending when it was armed and still is has had at least paramsTimeout.
   */
  #paramsTimer: NodeJS.Timeout | null = null;
  /** Requests that begin get this round; those of an earlier round than the armed timer's are old. */
  #epoch = 0;
  #armedEpoch = 0;
  #armedRecord = -1;
  #closed = false;

  constructor(limits: Pick<ConnectionLimits, 'requestTimeout' | 'bodyTimeout' | 'paramsTimeout'>, host: TimerHost) {
    this.#requestTimeout = limits.requestTimeout;
    this.#bodyTimeout = limits.bodyTimeout;
    this.#paramsTimeout = limits.paramsTimeout;
    this.#host = host;
    this.#deadlines = this.#requestTimeout > 0 ? new Map() : null;
  }

  /** A request began. */
  begin(ex: Exchange): void {
    ex.paramsEpoch = this.#epoch;
    if (this.#deadlines) {
      const ms = this.#requestTimeout;
      const t = setTimeout(() => ex.expire(timeoutError(ErrorCode.REQUEST_TIMEOUT, ms), 'request-timeout'), ms);
      this.#deadlines.set(ex, t.unref());
    }
    // Armed once; input() refreshes it for every chunk read (this one included).
    if (this.#bodyTimeout > 0 && !this.#idle) this.#idle = setTimeout(() => this.#onIdle(), this.#bodyTimeout).unref();
  }

  /** Bytes arrived. */
  input(): void {
    this.#idle?.refresh();
  }

  /** A chunk was parsed: arms the params deadline if it left a request's params or a record pending. */
  parsed(): void {
    if (this.#paramsTimer !== null || this.#paramsTimeout === 0 || this.#closed) return;
    if (!this.#host.inputPending()) return;
    this.#armedEpoch = ++this.#epoch;
    this.#armedRecord = this.#host.partialRecord();
    this.#paramsTimer = setTimeout(() => this.#onParamsDeadline(), this.#paramsTimeout).unref();
  }

  /** A request is over. */
  end(ex: Exchange): void {
    const t = this.#deadlines?.get(ex);
    if (t) {
      clearTimeout(t);
      this.#deadlines!.delete(ex);
    }
  }

  /** The connection closed: its requests are aborted, which ends their timers. */
  close(): void {
    this.#closed = true;
    if (this.#idle) clearTimeout(this.#idle);
    if (this.#paramsTimer) clearTimeout(this.#paramsTimer);
    this.#idle = this.#paramsTimer = null;
  }

  /**
   * paramsTimeout after arming: a record half read since then closes the connection; requests of
   * an earlier round still without their params get a 408. Time the socket was paused by a handler
   * not reading its body does not count: the check is put off.
   */
  #onParamsDeadline(): void {
    this.#paramsTimer = null;
    if (this.#closed) return;
    if (!this.#host.paused()) {
      const ms = this.#paramsTimeout;
      if (this.#armedRecord >= 0 && this.#host.partialRecord() === this.#armedRecord) {
        this.#host.recordStalled(
          new FcgiError(ErrorCode.PARAMS_TIMEOUT, `a record stayed incomplete for paramsTimeout (${ms} ms)`),
        );
        return;
      }
      const reason = new FcgiError(
        ErrorCode.PARAMS_TIMEOUT,
        `the request's params did not complete within paramsTimeout (${ms} ms)`,
        408,
      );
      for (const ex of [...this.#host.waiting()])
        if (ex.awaitingParams && ex.paramsEpoch < this.#armedEpoch) ex.expire(reason, 'params-timeout');
    }
    this.parsed();
  }

  /** No input for bodyTimeout: requests still waiting for theirs are answered (or cut). */
  #onIdle(): void {
    if (this.#closed) return;
    if (this.#host.paused()) {
      this.#idle!.refresh();
      return;
    }
    this.#idle = null;
    const reason = timeoutError(ErrorCode.BODY_TIMEOUT, this.#bodyTimeout);
    for (const ex of [...this.#host.waiting()]) ex.expire(reason, 'body-timeout');
  }
}
