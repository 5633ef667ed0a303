// One request on a connection: its params, its body coming in, its output going out as records.
import {
  HEADER_LEN,
  isProtocolError,
  RecordType,
  Status,
  decodeNameValuesTo,
  paddingFor,
  streamRecordViews,
  writeEndRequest,
  writeStreamRecords,
  Dictionary,
} from '../protocol/index.js';
import type { ParamStrings } from '../protocol/param-strings.js';
import { COPY_LIMIT, frameOutput } from './output-frames.js';

/** What an exchange needs from its connection. */
export interface ExchangeHost {
  /**
   * Queues bytes for the socket; false when its buffer is full (wait for onDrain). `last`: this
   * buffer ends the exchange's output (no need to wait for more of it in this tick). `continued`:
   * the buffer continues a piece of output already begun (the output queue bound is checked only
   * where a piece begins, so one large write is never cut in the middle).
   */
  write(buf: Uint8Array, last?: boolean, continued?: boolean): boolean;
  /** The exchange sent END_REQUEST (or was aborted): forget it. */
  release(exchange: Exchange): void;
  /** The exchange's body consumer is full, or wants more again. */
  pauseBody(exchange: Exchange): void;
  resumeBody(exchange: Exchange): void;
}

/**
 * Why the connection ends a request itself, without its handler or instead of it. The layer above
 * decides what the client reads then (answerFor()).
 */
export type Refusal = 'params-too-large' | 'overloaded' | 'request-timeout' | 'body-timeout' | 'params-timeout';

const EMPTY_ENV: Record<string, string> = Object.freeze(Object.create(null));

/**
 * The connection creates one per BEGIN_REQUEST; the layer above subclasses it and overrides the
 * hooks (pair, on*, answerFor) to feed its request and response objects. Output: write(), end(),
 * stderr() and destroy() frame STDOUT, STDERR and END_REQUEST records.
 */
export class Exchange {
  readonly id: number;
  readonly role: number;
  readonly keepConn: boolean;
  readonly #host: ExchangeHost;
  #environ: Record<string, string> = EMPTY_ENV;
  /** PARAMS content so far, until the empty record. */
  #paramChunks: Buffer[] | null = null;
  #paramsLen = 0;
  /** STDIN that came before the params were complete (legal), kept for dispatch. */
  #early: Buffer[] | null = null;
  #earlyLen = 0;
  /** @internal The connection's params-deadline round this request began in (connection/timeouts.ts). */
  paramsEpoch = 0;
  #dispatched = false;
  #inputEnded = false;
  #ended = false;
  #aborted = false;
  #bodyPaused = false;
  #stderrUsed = false;
  #needDrain = false;
  #stdoutStarted = false;

  constructor(host: ExchangeHost, id: number, role: number, keepConn: boolean) {
    this.#host = host;
    this.id = id;
    this.role = role;
    this.keepConn = keepConn;
  }

  /** The params, once the empty PARAMS record arrived (empty before). */
  get environ(): Record<string, string> {
    return this.#environ;
  }

  /** True once the params are complete and the request was handed to the layer above. */
  get dispatched(): boolean {
    return this.#dispatched;
  }

  /** True once the empty STDIN record arrived. */
  get inputEnded(): boolean {
    return this.#inputEnded;
  }

  /** True once END_REQUEST was sent or the request was aborted; output is then dropped. */
  get ended(): boolean {
    return this.#ended;
  }

  /** True once ABORT_REQUEST arrived, the connection was lost, or a timeout cut the request. */
  get aborted(): boolean {
    return this.#aborted;
  }

  /** True once a STDOUT byte went to the connection: an error answer can no longer replace it. */
  get outputStarted(): boolean {
    return this.#stdoutStarted;
  }

  /** True while the request waits for (more of) its PARAMS. */
  get awaitingParams(): boolean {
    return !this.#dispatched && !this.#ended;
  }

  /** True while the request's input (PARAMS, then STDIN up to its empty record) is incomplete. */
  get awaitingInput(): boolean {
    return !this.#inputEnded && !this.#ended;
  }

  // -- Hooks for the layer above. Defaults keep the last of repeated params and discard the body. --

  /**
   * One param, as the params are decoded into `environ` (a fresh dictionary); `repeated`: the
   * name came before in this request. A subclass may also derive its own views of them here.
   */
  pair(name: string, value: string, _repeated: boolean): void {
    this.#environ[name] = value;
  }
  /** A piece of the body; return false to stop the flow until resumeBody(). */
  onBody(_chunk: Buffer): boolean {
    return true;
  }
  /** The body ended (empty STDIN record). */
  onBodyEnd(): void {}
  /** ABORT_REQUEST arrived, the connection was lost or a timeout cut it: stop work, output is dropped from now on. */
  onAbort(_reason: Error): void {}
  /** The socket drained after a write returned false. */
  onDrain(): void {}
  /**
   * What the client gets when the connection ends this request itself (`why`): a CGI header block
   * and a short body, latin1. Default: nothing (an empty STDOUT stream).
   */
  answerFor(_why: Refusal): string {
    return '';
  }

  // -- Called by the connection, as the request's records arrive. --

  /** @internal Content of a PARAMS record; false once the params grew past `maxBytes`. */
  addParams(content: Buffer, maxBytes: number): boolean {
    this.#paramsLen += content.length;
    if (this.#paramsLen > maxBytes) return false;
    (this.#paramChunks ??= []).push(content);
    return true;
  }

  /**
   * @internal The empty PARAMS record: decodes the params (a pair may straddle records, so they
   * were kept whole until now) through pair(). False when there are more than `maxPairs`; throws
   * a protocol error when they are malformed. After true, the request is dispatched.
   */
  completeParams(maxPairs: number, strings?: ParamStrings): boolean {
    const chunks = this.#paramChunks;
    this.#paramChunks = null;
    this.#environ = new Dictionary();
    if (chunks !== null) {
      try {
        decodeNameValuesTo(
          chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, this.#paramsLen),
          this,
          maxPairs,
          strings,
        );
      } catch (err) {
        if (isProtocolError(err) && err.code === 'ERR_FCGI_LIMIT') return false;
        throw err;
      }
    }
    this.#dispatched = true;
    return true;
  }

  /**
   * @internal STDIN before the params are complete (legal): kept for the handler, and counted until
   * takeEarlyCount() for the connection's bounds.
   */
  holdEarlyBody(content: Buffer): void {
    this.#earlyLen += content.length;
    (this.#early ??= []).push(content);
  }

  /** @internal Early STDIN bytes not yet taken off the connection's bounds; 0 after the first call. */
  takeEarlyCount(): number {
    const n = this.#earlyLen;
    this.#earlyLen = 0;
    return n;
  }

  /** @internal Just dispatched: hands over the STDIN that came early, and its end if it came too. */
  releaseEarlyBody(): void {
    const early = this.#early;
    if (early !== null) {
      this.#early = null;
      for (const chunk of early) if (!this.#ended) this.deliverBody(chunk);
    }
    if (this.#inputEnded && !this.#ended) this.onBodyEnd();
  }

  /** @internal A piece of the body for the dispatched request. */
  deliverBody(chunk: Buffer): void {
    if (!this.onBody(chunk) && !this.#bodyPaused && !this.#ended) {
      this.#bodyPaused = true;
      this.#host.pauseBody(this);
    }
  }

  /** @internal The empty STDIN record. */
  endInput(): void {
    this.#inputEnded = true;
    if (this.#dispatched && !this.#ended) this.onBodyEnd();
  }

  /** @internal The socket drained. */
  drained(): void {
    if (this.#needDrain) {
      this.#needDrain = false;
      this.onDrain();
    }
  }

  /**
   * @internal The connection ends the request itself before its handler ran (params too large,
   * overloaded): answerFor(why) and END_REQUEST (OVERLOADED for an overload, as the spec asks).
   */
  refuse(why: Refusal): void {
    this.#output(
      this.answerFor(why),
      null,
      true,
      0,
      why === 'overloaded' ? Status.OVERLOADED : Status.REQUEST_COMPLETE,
    );
  }

  /**
   * @internal The request ran out of time (`why`): answerFor(why) if no output went out yet, else
   * the output is cut (END_REQUEST with appStatus 1); then the handler is told.
   */
  expire(reason: Error, why: Refusal): void {
    if (this.#ended) return;
    this.#aborted = true;
    if (this.#stdoutStarted) this.#output('', null, true, 1);
    else this.#output(this.answerFor(why), null, true, 0);
    if (this.#dispatched) this.onAbort(reason);
  }

  /**
   * @internal ABORT_REQUEST (`sendEnd`: END_REQUEST answers it) or connection loss; the handler is
   * told.
   */
  abort(reason: Error, sendEnd: boolean): void {
    if (this.#ended) return;
    this.#aborted = true;
    if (sendEnd) {
      const out = Buffer.allocUnsafe(16);
      writeEndRequest(out, 0, this.id, 0, Status.REQUEST_COMPLETE);
      this.#send(out, true);
    } else this.#finish();
    if (this.#dispatched) this.onAbort(reason);
  }

  // -- Called by the layer above. --

  /** The body consumer wants more after onBody returned false. */
  resumeBody(): void {
    if (this.#bodyPaused) {
      this.#bodyPaused = false;
      this.#host.resumeBody(this);
    }
  }

  /**
   * Sends STDOUT: `head` (latin1; the CGI header block, or '') then `body` (a string is UTF-8).
   * Returns false when the socket buffer is full: wait for onDrain.
   */
  write(head: string, body: Uint8Array | string | null): boolean {
    return this.#output(head, body, false, 0);
  }

  /**
   * Sends the last STDOUT (`head` then `body`, as write()), ends the output streams and sends
   * END_REQUEST (REQUEST_COMPLETE): all in one write when small.
   */
  end(head: string, body: Uint8Array | string | null): void {
    this.#output(head, body, true, 0);
  }

  /** Sends text or bytes on FCGI_STDERR, which the web server writes to its error log. */
  stderr(data: Uint8Array | string): boolean {
    if (this.#ended) return true;
    const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    if (buf.length === 0) return true;
    this.#stderrUsed = true;
    if (buf.length > COPY_LIMIT) return this.#writeViews(RecordType.STDERR, buf, false);
    const out = Buffer.allocUnsafe(HEADER_LEN + buf.length + paddingFor(buf.length));
    writeStreamRecords(out, 0, RecordType.STDERR, this.id, buf);
    return this.#send(out, false);
  }

  /** Ends the request cut off: the output streams end and END_REQUEST carries appStatus 1. */
  destroy(): void {
    this.#output('', null, true, 1);
  }

  #output(
    head: string,
    body: Uint8Array | string | null,
    end: boolean,
    appStatus: number,
    protocolStatus: number = Status.REQUEST_COMPLETE,
  ): boolean {
    if (this.#ended) return true;
    const bodyLen = body === null ? 0 : typeof body === 'string' ? Buffer.byteLength(body) : body.length;
    const len = head.length + bodyLen;
    if (len > 0) this.#stdoutStarted = true;
    if (len <= COPY_LIMIT) {
      if (len === 0 && !end) return true;
      return this.#send(frameOutput(this.id, head, body, len, end, this.#stderrUsed, appStatus, protocolStatus), end);
    }
    let ok = true;
    let continued = false;
    if (head.length) {
      ok = this.#writeViews(RecordType.STDOUT, Buffer.from(head, 'latin1'), false);
      continued = true;
    }
    if (body !== null) {
      const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
      ok = this.#writeViews(RecordType.STDOUT, bytes, continued);
    }
    if (end)
      ok = this.#send(frameOutput(this.id, '', null, 0, true, this.#stderrUsed, appStatus, protocolStatus), true, true);
    return ok;
  }

  #writeViews(type: number, chunk: Uint8Array, continued: boolean): boolean {
    const views: Uint8Array[] = [];
    streamRecordViews(type, this.id, chunk, views);
    let ok = true;
    for (let i = 0; i < views.length; i++) ok = this.#host.write(views[i]!, false, continued || i > 0);
    if (!ok) this.#needDrain = true;
    return ok;
  }

  #send(buf: Uint8Array, end: boolean, continued = false): boolean {
    const ok = this.#host.write(buf, end, continued);
    if (end) this.#finish();
    else if (!ok) this.#needDrain = true;
    return ok;
  }

  /** The request is over for the connection: its input is forgotten, the socket no longer held paused. */
  #finish(): void {
    this.#ended = true;
    this.#paramChunks = this.#early = null;
    if (this.#bodyPaused) {
      this.#bodyPaused = false;
      this.#host.resumeBody(this);
    }
    this.#host.release(this);
  }
}
