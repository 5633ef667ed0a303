// One request on a connection: its params, its body coming in, its output going out.
import {
  HEADER_LEN, RecordType, Status, paddingFor, streamRecordViews, writeEndRequest, writeHeader,
  writeStreamRecords,
} from '../protocol/index.js';

/** What an exchange needs from its connection. */
export interface ExchangeHost {
  /**
   * Queues bytes for the socket; false when its buffer is full (wait for onDrain). `last`: this
   * buffer ends the exchange's output (no need to wait for more of it in this tick).
   */
  write(buf: Uint8Array, last?: boolean): boolean;
  /** The exchange sent END_REQUEST (or was aborted): forget it. */
  release(exchange: Exchange): void;
  /** The exchange's body consumer is full, or wants more again. */
  pauseBody(exchange: Exchange): void;
  resumeBody(exchange: Exchange): void;
}

/** Output below this size is copied into one buffer with its record headers; larger is written as views. */
const COPY_LIMIT = 16 * 1024;

const EMPTY_ENV: Record<string, string> = Object.freeze(Object.create(null));

/**
 * nginx before 1.23 (Debian 12 ships 1.22) sends a header that came on several lines as several
 * HTTP_* params of one name: join them as HTTP would (cookies with "; ", others with ", ")
 * instead of keeping only the last. Other repeated params: the last one wins.
 */
export function joinRepeatedParam(name: string, earlier: string, later: string): string {
  if (!name.startsWith('HTTP_')) return later;
  return earlier + (name === 'HTTP_COOKIE' ? '; ' : ', ') + later;
}

/**
 * The connection creates one per BEGIN_REQUEST; the layer above subclasses it and overrides the
 * `on*` hooks to feed its request and response objects.
 */
export class Exchange {
  readonly id: number;
  readonly role: number;
  readonly keepConn: boolean;
  /** The params, once the empty PARAMS record arrived. */
  environ: Record<string, string> = EMPTY_ENV;
  /** True once the handler may run: params complete. */
  dispatched = false;
  /** True once the empty STDIN record arrived. */
  stdinEnded = false;
  /** True once END_REQUEST was sent or the request was aborted; output is then dropped. */
  ended = false;
  /** ABORT_REQUEST received or connection lost before the end. */
  aborted = false;
  /** Body bytes received (after dispatch and before). */
  bodyBytes = 0;
  /** @internal PARAMS content so far, until the empty record. */
  paramChunks: Buffer[] | null = null;
  /** @internal */
  paramsLen = 0;
  /** @internal STDIN that came before the params were complete (legal), kept for dispatch. */
  early: Buffer[] | null = null;
  /** @internal */
  earlyLen = 0;
  readonly #host: ExchangeHost;
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

  // -- Hooks for the layer above. Defaults discard the body. --

  /** A piece of the body; return false to stop the flow until resumeBody(). */
  onBody(_chunk: Buffer): boolean {
    return true;
  }
  /** The body ended (empty STDIN record). */
  onBodyEnd(): void {}
  /** ABORT_REQUEST arrived or the connection was lost: stop work, output is dropped from now on. */
  onAbort(_reason: Error): void {}
  /** The socket drained after a write returned false. */
  onDrain(): void {}

  // -- Called by the connection. --

  /**
   * One param, as the params are decoded into `environ` (a fresh dictionary); `repeated`: the
   * name came before in this request. A subclass may also derive its own views of them here.
   */
  pair(name: string, value: string, repeated: boolean): void {
    this.environ[name] = repeated ? joinRepeatedParam(name, this.environ[name]!, value) : value;
  }

  /** @internal */
  deliverBody(chunk: Buffer): void {
    this.bodyBytes += chunk.length;
    if (!this.onBody(chunk) && !this.#bodyPaused && !this.ended) {
      this.#bodyPaused = true;
      this.#host.pauseBody(this);
    }
  }

  /** @internal */
  drained(): void {
    if (this.#needDrain) {
      this.#needDrain = false;
      this.onDrain();
    }
  }

  /** @internal The request is over for the connection: stop holding the socket paused. */
  detach(): void {
    if (this.#bodyPaused) {
      this.#bodyPaused = false;
      this.#host.resumeBody(this);
    }
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
   * With `end`, also closes the output streams and sends END_REQUEST with `appStatus` and
   * `protocolStatus`, all in one write when small. Returns false when the socket buffer is full: wait for onDrain.
   */
  stdout(
    head: string, body: Uint8Array | string | null, end: boolean, appStatus = 0,
    protocolStatus: number = Status.REQUEST_COMPLETE,
  ): boolean {
    if (this.ended) return true;
    const bodyLen = body === null ? 0 : typeof body === 'string' ? Buffer.byteLength(body) : body.length;
    const len = head.length + bodyLen;
    const tail = end ? this.#tailLength() : 0;
    if (len > 0) this.#stdoutStarted = true;
    if (len <= COPY_LIMIT) {
      if (len === 0 && !end) return true;
      const pad = paddingFor(len);
      const out = Buffer.allocUnsafe((len ? HEADER_LEN + len + pad : 0) + tail);
      let at = 0;
      if (len) {
        writeHeader(out, 0, RecordType.STDOUT, this.id, len, pad);
        at = HEADER_LEN;
        if (head.length) at += out.write(head, at, 'latin1');
        if (typeof body === 'string') at += out.write(body, at, 'utf8');
        else if (body !== null) {
          out.set(body, at);
          at += body.length;
        }
        out.fill(0, at, at + pad);
        at += pad;
      }
      if (end) this.#writeTail(out, at, appStatus, protocolStatus);
      return this.#send(out, end);
    }
    const parts: Uint8Array[] = [];
    if (head.length) parts.push(Buffer.from(head, 'latin1'));
    if (body !== null) parts.push(typeof body === 'string' ? Buffer.from(body, 'utf8') : body);
    let ok = true;
    for (const part of parts) ok = this.#writeViews(RecordType.STDOUT, part);
    if (end) {
      const out = Buffer.allocUnsafe(tail);
      this.#writeTail(out, 0, appStatus, protocolStatus);
      ok = this.#send(out, true);
    }
    return ok;
  }

  /** Sends text or bytes on FCGI_STDERR, which the web server writes to its error log. */
  stderr(data: Uint8Array | string): boolean {
    if (this.ended) return true;
    const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    if (buf.length === 0) return true;
    this.#stderrUsed = true;
    if (buf.length > COPY_LIMIT) return this.#writeViews(RecordType.STDERR, buf);
    const out = Buffer.allocUnsafe(HEADER_LEN + buf.length + paddingFor(buf.length));
    writeStreamRecords(out, 0, RecordType.STDERR, this.id, buf);
    return this.#send(out, false);
  }

  /** Ends STDOUT (and STDERR if used) and sends END_REQUEST. */
  end(appStatus = 0): void {
    this.stdout('', null, true, appStatus);
  }

  /**
   * Ends the request with END_REQUEST only, with a protocol status other than REQUEST_COMPLETE
   * (OVERLOADED, UNKNOWN_ROLE, CANT_MPX_CONN) or after an abort.
   */
  reject(protocolStatus: number, appStatus = 0): void {
    if (this.ended) return;
    const out = Buffer.allocUnsafe(16);
    writeEndRequest(out, 0, this.id, appStatus, protocolStatus);
    this.#send(out, true);
  }

  /** @internal ABORT_REQUEST or connection loss. */
  abort(reason: Error, sendEnd: boolean): void {
    if (this.ended) return;
    this.aborted = true;
    if (sendEnd) this.reject(Status.REQUEST_COMPLETE);
    else this.#finish();
    if (this.dispatched) this.onAbort(reason);
  }

  /** True once a STDOUT byte went to the connection: an error answer can no longer replace it. */
  get outputStarted(): boolean {
    return this.#stdoutStarted;
  }

  /**
   * @internal The request ran out of time: `response` (a CGI header block and body) if no output
   * went out yet, else the output is cut (END_REQUEST with appStatus 1); then the handler is told.
   */
  expire(reason: Error, response: string): void {
    if (this.ended) return;
    this.aborted = true;
    if (this.#stdoutStarted) this.stdout('', null, true, 1);
    else this.stdout(response, null, true, 0);
    if (this.dispatched) this.onAbort(reason);
  }

  #tailLength(): number {
    return HEADER_LEN + (this.#stderrUsed ? HEADER_LEN : 0) + 16;
  }

  #writeTail(out: Buffer, at: number, appStatus: number, protocolStatus: number): void {
    writeHeader(out, at, RecordType.STDOUT, this.id, 0, 0);
    at += HEADER_LEN;
    if (this.#stderrUsed) {
      writeHeader(out, at, RecordType.STDERR, this.id, 0, 0);
      at += HEADER_LEN;
    }
    writeEndRequest(out, at, this.id, appStatus, protocolStatus);
  }

  #writeViews(type: number, chunk: Uint8Array): boolean {
    const views: Uint8Array[] = [];
    streamRecordViews(type, this.id, chunk, views);
    let ok = true;
    for (const v of views) ok = this.#host.write(v);
    if (!ok) this.#needDrain = true;
    return ok;
  }

  #send(buf: Uint8Array, end: boolean): boolean {
    const ok = this.#host.write(buf, end);
    if (end) this.#finish();
    else if (!ok) this.#needDrain = true;
    return ok;
  }

  #finish(): void {
    this.ended = true;
    this.detach();
    this.#host.release(this);
  }
}

