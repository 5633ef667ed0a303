// One transport connection from a web server: parses records, runs the request state machines,
// answers management records, and writes responses without interleaving records.
import type { Duplex } from 'node:stream';
import {
  RecordType,
  RecordParser,
  Role,
  Status,
  encodeNameValues,
  encodeRecord,
  encodeUnknownType,
  decodeBeginRequest,
  decodeNameValues,
  encodeEndRequest,
  MAX_TYPE,
  NULL_REQUEST_ID,
  protocolError,
  type RecordSink,
} from '../protocol/index.js';
import type { ParamStrings } from '../protocol/param-strings.js';
import { ErrorCode, FcgiError } from '../errors.js';
import { Exchange, type ExchangeHost } from './exchange.js';
import { EarlyStdin, type EarlyStdinBudget } from './early-stdin.js';
import { defaultConnectionLimits, type ConnectionLimits } from './limits.js';
import { ConnectionTimers, type TimerHost } from './timeouts.js';

/** Requests in flight across all connections of a server, against its limit. */
export interface RequestLoad {
  readonly active: number;
  readonly max: number;
  /** A request began (counted in `active`). */
  started(): void;
  /** A request ended. */
  finished(): void;
}

export interface ConnectionOptions {
  /** Runs when a request's params are complete: start the handler here. */
  dispatch(exchange: Exchange): void;
  /** Makes the exchange for a new request; the layer above passes its subclass. */
  createExchange?(host: ExchangeHost, id: number, role: number, keepConn: boolean): Exchange;
  /** Roles served; BEGIN_REQUEST with another role gets UNKNOWN_ROLE. Default: Responder. */
  roles?: readonly number[];
  limits?: Partial<ConnectionLimits>;
  /** Answers to GET_VALUES, by name; names not here are omitted from the reply. */
  values?: Readonly<Record<string, string>>;
  /** Shared count of requests in flight; over `max`, new requests get OVERLOADED (and a 503). */
  load?: RequestLoad;
  /** The server's bound on STDIN held before PARAMS end, over all its connections. */
  earlyStdin?: EarlyStdinBudget;
  /** The server's PARAMS string cache (protocol/param-strings.ts); without it every string is decoded afresh. */
  paramStrings?: ParamStrings;
  /** Protocol and transport errors of this connection, for logging. The connection is closed already. */
  onError?(err: Error): void;
}

const RESPONDER_ONLY: readonly number[] = [Role.RESPONDER];

/**
 * How long a connection that has carried no request yet may wait, once closing, for its first
 * request to begin. A web server writes it right after connecting; this only bounds a peer that
 * connected and said nothing.
 */
export const FIRST_REQUEST_GRACE_MS = 1000;

// A server passes the same options to each of its connections: merge its limits once.
const mergedLimits = new WeakMap<ConnectionOptions, ConnectionLimits>();
function limitsOf(options: ConnectionOptions): ConnectionLimits {
  let limits = mergedLimits.get(options);
  if (!limits) mergedLimits.set(options, (limits = { ...defaultConnectionLimits, ...options.limits }));
  return limits;
}

function uncork(conn: Connection): void {
  conn.uncorkNow();
}

export class Connection implements RecordSink, ExchangeHost, TimerHost {
  readonly stream: Duplex;
  readonly #options: ConnectionOptions;
  readonly #limits: ConnectionLimits;
  readonly #roles: readonly number[];
  readonly #parser: RecordParser;
  readonly #exchanges = new Map<number, Exchange>();
  #pausedBy = 0;
  /** Reading stopped because the socket's write buffer is full (the web server is not reading). */
  #outputBlocked = false;
  /**
   * The output queue passed maxOutputQueueBytes (0: it did not since the last drain; 1: in this
   * turn of the event loop; 2: in an earlier one, the web server had its chance to read).
   */
  #overQueue = 0;
  #corked = false;
  /** Early STDIN held by this connection's requests, against maxEarlyStdinBytes and the server's bound. */
  readonly #early: EarlyStdin;
  /** Requests waiting for their PARAMS to end. */
  #awaitingParams = 0;
  /** Requests dispatched to the handler and not yet over. */
  #working = 0;
  /**
   * Date.now() since when no handler runs here (from the opening, or from the first quietFor()
   * after the last running request ended: -1 until then, so ending a request reads no clock).
   */
  #quietSince = Date.now();
  /** No new requests: end the connection once the ones in flight are done. */
  #closing = false;
  /** We ended our side; reading only to drain. */
  #ending = false;
  #closed = false;
  /** A request began on this connection (until then a close waits for the first one). */
  #begun = false;
  /** close() on a connection that has carried no request yet: how long its first one may take to begin. */
  #firstWait: NodeJS.Timeout | null = null;
  #linger: NodeJS.Timeout | null = null;
  readonly #timers: ConnectionTimers;

  constructor(stream: Duplex, options: ConnectionOptions) {
    this.stream = stream;
    this.#options = options;
    this.#limits = limitsOf(options);
    this.#roles = options.roles ?? RESPONDER_ONLY;
    this.#parser = new RecordParser(this);
    this.#timers = new ConnectionTimers(this.#limits, this);
    this.#early = new EarlyStdin(this.#limits.maxEarlyStdinBytes, options.earlyStdin);
    stream.on('data', (chunk: Buffer) => this.#onData(chunk));
    stream.on('end', () => this.#onEnd());
    stream.on('drain', () => this.#onDrain());
    stream.on('error', (err: Error) => this.#report(err));
    stream.on('close', () => this.#onClose());
  }

  /** Requests in flight on this connection. */
  get activeRequests(): number {
    return this.#exchanges.size;
  }

  /**
   * Milliseconds this connection has gone without a running handler (it has none now: requests
   * waiting for their params at most), counted from its opening or from the first call after its
   * last request ended; -1 while one runs or once it is closing. The server closes the quietest
   * connection to make room at maxConnections.
   */
  quietFor(now: number): number {
    if (this.#working > 0 || this.#closed || this.stream.destroyed) return -1;
    if (this.#quietSince < 0) this.#quietSince = now;
    return now - this.#quietSince;
  }

  /** True once the stream closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Stop taking requests; close as soon as those in flight are done (at once when idle). A
   * connection that has carried no request yet was opened for one (mod_fcgid connects, then
   * writes it): it gets up to FIRST_REQUEST_GRACE_MS for that request to begin, which is then
   * served; closing it unread would fail the request ("FastCGI server closed connection").
   */
  close(): void {
    this.#closing = true;
    if (!this.#begun && !this.#closed && !this.#firstWait) {
      this.#firstWait = setTimeout(() => {
        this.#firstWait = null;
        this.#maybeEnd();
      }, FIRST_REQUEST_GRACE_MS);
      this.#firstWait.unref();
      return;
    }
    this.#maybeEnd();
  }

  /** Closes at once, aborting requests in flight. */
  destroy(err?: Error): void {
    this.#parser.stop();
    this.stream.destroy(err);
  }

  // -- TimerHost --

  /** @internal */
  paused(): boolean {
    return this.#pausedBy > 0;
  }

  /** @internal */
  waiting(): Exchange[] {
    return [...this.#exchanges.values()].filter((ex) => ex.awaitingInput);
  }

  /** @internal */
  inputPending(): boolean {
    return this.#awaitingParams > 0 || this.partialRecord() >= 0;
  }

  /** @internal */
  partialRecord(): number {
    const p = this.#parser;
    return p.idle || p.currentType === RecordType.STDIN ? -1 : p.recordsStarted;
  }

  /** @internal */
  recordStalled(err: Error): void {
    this.#report(err);
    this.destroy();
  }

  // -- RecordSink --

  record(type: number, id: number, content: Buffer): void {
    switch (type) {
      case RecordType.BEGIN_REQUEST:
        return this.#begin(id, content);
      case RecordType.PARAMS:
        return this.#params(id, content);
      case RecordType.STDIN:
        return this.#stdin(id, content);
      case RecordType.ABORT_REQUEST: {
        const ex = this.#exchanges.get(id);
        if (ex) ex.abort(new FcgiError(ErrorCode.ABORTED, 'the web server aborted the request'), true);
        return;
      }
      case RecordType.GET_VALUES:
        if (id === NULL_REQUEST_ID) this.#getValues(content);
        return;
      case RecordType.DATA: // Accepted and discarded: only the Filter role reads it.
      case RecordType.END_REQUEST: // The types below flow from application to web server:
      case RecordType.STDOUT: // an application ignores them.
      case RecordType.STDERR:
      case RecordType.GET_VALUES_RESULT:
      case RecordType.UNKNOWN_TYPE:
        return;
      default:
        // A management type this implementation does not know; unknown types on a request are ignored.
        if (id === NULL_REQUEST_ID && (type > MAX_TYPE || type === 0)) this.write(encodeUnknownType(type));
    }
  }

  #begin(id: number, content: Buffer): void {
    if (id === NULL_REQUEST_ID) throw protocolError('BEGIN_REQUEST with request id 0');
    if (this.#exchanges.has(id)) throw protocolError(`BEGIN_REQUEST for request ${id}, which is active`);
    if (this.#ending) return;
    const { role, keepConn } = decodeBeginRequest(content);
    if (!keepConn) this.#closing = true;
    if (!this.#begun) {
      this.#begun = true;
      if (this.#firstWait) {
        clearTimeout(this.#firstWait);
        this.#firstWait = null;
      }
    }
    if (!this.#roles.includes(role)) {
      this.write(encodeEndRequest(id, 0, Status.UNKNOWN_ROLE));
      this.#maybeEnd();
      return;
    }
    const ex = this.#options.createExchange?.(this, id, role, keepConn) ?? new Exchange(this, id, role, keepConn);
    const load = this.#options.load;
    this.#exchanges.set(id, ex);
    this.#awaitingParams++;
    if (load) load.started();
    if (this.#exchanges.size > this.#limits.maxRequestsPerConnection || (load && load.active > load.max)) {
      ex.refuse('overloaded');
      return;
    }
    this.#timers.begin(ex);
  }

  #params(id: number, content: Buffer): void {
    const ex = this.#exchanges.get(id);
    // None, or past its params: the request was answered (431, 503) or its params ended.
    if (!ex || !ex.awaitingParams) return;
    if (content.length > 0) {
      if (!ex.addParams(content, this.#limits.maxParamsBytes)) ex.refuse('params-too-large');
      return;
    }
    if (!ex.completeParams(this.#limits.maxParams, this.#options.paramStrings)) return ex.refuse('params-too-large');
    this.#awaitingParams--;
    this.#working++;
    this.#options.dispatch(ex);
    ex.releaseEarlyBody();
    this.#dropEarly(ex);
  }

  /** The early STDIN `ex` held no longer counts against the bounds (handed to the handler, or dropped). */
  #dropEarly(ex: Exchange): void {
    const n = ex.takeEarlyCount();
    if (n !== 0) this.#early.drop(n);
  }

  #stdin(id: number, content: Buffer): void {
    const ex = this.#exchanges.get(id);
    if (!ex || ex.inputEnded) return;
    if (content.length === 0) return ex.endInput();
    if (ex.dispatched) return ex.deliverBody(content);
    // STDIN before the params are complete is legal, but no web server sends it: keep it, within
    // a bound per connection and one per server (so many requests cannot add up).
    ex.holdEarlyBody(content);
    this.#early.add(content.length);
  }

  #getValues(content: Buffer): void {
    const asked = decodeNameValues(content, { maxPairs: 64 });
    const values = this.#options.values ?? {};
    const known: [string, string][] = [];
    for (const name of Object.keys(asked)) {
      // Own string values only: a query for "__proto__" or "toString" must not reach the prototype.
      const v = Object.hasOwn(values, name) ? values[name] : undefined;
      if (typeof v === 'string') known.push([name, v]);
    }
    // Exactly one record, even with no known name (then empty): GET_VALUES_RESULT is not a stream.
    this.write(encodeRecord(RecordType.GET_VALUES_RESULT, NULL_REQUEST_ID, encodeNameValues(known)));
  }

  // -- ExchangeHost --

  write(buf: Uint8Array, last = false, continued = false): boolean {
    const s = this.stream;
    if (this.#closed || !s.writable) return true;
    // A handler that goes on writing while the web server does not read: bounded here. Output
    // written in one turn of the event loop (a large res.end(), a loop of writes) goes out whole:
    // the socket cannot drain during it. Past the bound in a later turn without a drain: closed.
    if (!continued && s.writableLength > this.#limits.maxOutputQueueBytes && this.#queueOver()) {
      this.#report(
        new FcgiError(
          ErrorCode.LIMIT,
          `the web server is not reading: more than maxOutputQueueBytes (${this.#limits.maxOutputQueueBytes}) queued`,
        ),
      );
      this.destroy();
      return true;
    }
    // A whole response in one buffer with nothing queued before it goes out at once; otherwise
    // everything written in one tick leaves in one vectored write.
    if (!last || this.#corked) {
      if (!this.#corked) {
        this.#corked = true;
        s.cork();
        process.nextTick(uncork, this);
      }
    }
    const ok = s.write(buf);
    // The socket's buffer is full: read no more (no new requests, no more answers of ours) until
    // it drains. What this chunk still holds is parsed; that bounds what can pile up.
    if (!ok && !this.#outputBlocked) {
      this.#outputBlocked = true;
      if (!this.#ending) s.pause();
    }
    return ok;
  }

  /** The queue is over its bound: true when it already was in an earlier turn, with no drain since. */
  #queueOver(): boolean {
    if (this.#overQueue === 2) return true;
    if (this.#overQueue === 0) {
      this.#overQueue = 1;
      setImmediate(() => {
        if (this.#overQueue === 1) this.#overQueue = 2;
      });
    }
    return false;
  }

  /** @internal */
  uncorkNow(): void {
    if (this.#corked) {
      this.#corked = false;
      this.stream.uncork();
    }
  }

  release(ex: Exchange): void {
    if (this.#exchanges.get(ex.id) !== ex) return;
    this.#exchanges.delete(ex.id);
    this.#timers.end(ex);
    if (ex.dispatched) {
      if (--this.#working === 0) this.#quietSince = -1;
    } else this.#awaitingParams--;
    this.#dropEarly(ex);
    const load = this.#options.load;
    if (load) load.finished();
    this.#maybeEnd();
  }

  pauseBody(_ex: Exchange): void {
    if (this.#pausedBy++ === 0 && !this.#ending) this.stream.pause();
  }

  resumeBody(_ex: Exchange): void {
    if (--this.#pausedBy === 0 && !this.#outputBlocked) this.stream.resume();
  }

  // -- Stream events --

  #onData(chunk: Buffer): void {
    this.#timers.input();
    try {
      this.#parser.push(chunk);
      this.#timers.parsed();
    } catch (err) {
      this.#report(err instanceof Error ? err : new Error(String(err)));
      this.destroy();
    }
  }

  #onEnd(): void {
    // FastCGI has no half-close: a web server aborts a connection's requests by closing it (spec
    // 5.4), and a FIN looks the same whether it then reads or not. So requests still in flight are
    // aborted (as Node's http server does on a client's FIN), then our side closes.
    this.#closing = true;
    if (this.#exchanges.size > 0) {
      const err = new FcgiError(ErrorCode.CONNECTION_LOST, 'the web server closed the connection');
      for (const ex of [...this.#exchanges.values()]) ex.abort(err, false);
    }
    this.#maybeEnd();
  }

  #onDrain(): void {
    this.#overQueue = 0;
    if (this.#outputBlocked) {
      this.#outputBlocked = false;
      if (this.#pausedBy === 0 && !this.#ending) this.stream.resume();
    }
    for (const ex of this.#exchanges.values()) ex.drained();
  }

  #onClose(): void {
    this.#closed = true;
    if (this.#linger) clearTimeout(this.#linger);
    if (this.#firstWait) clearTimeout(this.#firstWait);
    this.#timers.close();
    if (this.#exchanges.size === 0) return;
    const err = new FcgiError(ErrorCode.CONNECTION_LOST, 'the connection to the web server closed');
    for (const ex of [...this.#exchanges.values()]) ex.abort(err, false);
  }

  #report(err: Error): void {
    this.#options.onError?.(err);
  }

  #maybeEnd(): void {
    if (!this.#closing || this.#ending || this.#exchanges.size > 0 || this.#closed) return;
    this.#ending = true;
    this.uncorkNow();
    // Half-close, then read (and discard) until the web server closes too: closing with unread
    // input would make the kernel send a reset that can destroy the response in flight.
    this.stream.end();
    if (this.stream.readableEnded) return;
    if (this.stream.isPaused()) this.stream.resume();
    this.#linger = setTimeout(() => this.stream.destroy(), this.#limits.lingerTimeout);
    this.#linger.unref();
  }
}
