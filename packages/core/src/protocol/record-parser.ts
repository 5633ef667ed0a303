// Incremental record parser: bytes in (split at any boundary), records out. No sockets, no timers.
import { HEADER_LEN, VERSION_1, isStreamType } from './constants.js';
import type { FcgiError } from '../errors.js';
import { protocolError } from './errors.js';

/** Receives what the parser finds. */
export interface RecordSink {
  /**
   * One record's content. Non-stream records (BEGIN_REQUEST, GET_VALUES, unknown types ...) arrive
   * whole, in one call. Stream records (PARAMS, STDIN, STDOUT, STDERR, DATA) may arrive as several
   * non-empty fragments, since record boundaries mean nothing inside a stream; the empty record
   * that ends a stream arrives as one call with an empty `content`.
   * `content` may be a view of the pushed chunk: copy it to keep it past the call unless the chunk
   * is yours to keep.
   */
  record(type: number, requestId: number, content: Buffer): void;
}

const EMPTY = Buffer.alloc(0);

const enum State {
  Header,
  Content,
  Padding,
}

export class RecordParser {
  readonly #sink: RecordSink;
  #state = State.Header;
  readonly #header = Buffer.allocUnsafe(HEADER_LEN);
  #headerFill = 0;
  #type = 0;
  #requestId = 0;
  #stream = false;
  /** Content bytes of the current record still to come. */
  #remaining = 0;
  #padding = 0;
  /** Holds a non-stream record's content while it straddles chunks. */
  #body: Buffer | null = null;
  #bodyFill = 0;
  #failed: FcgiError | null = null;
  #stopped = false;
  /** Records whose header was complete so far: a stall shows as this not moving while not idle. */
  #started = 0;

  constructor(sink: RecordSink) {
    this.#sink = sink;
  }

  /** True between records: no partial header, content or padding is pending. */
  get idle(): boolean {
    return this.#state === State.Header && this.#headerFill === 0;
  }

  /** Records begun so far (header read); with `idle`, tells a stalled record from a moving stream. */
  get recordsStarted(): number {
    return this.#started;
  }

  /**
   * The type of the record being read when its header is complete and its content or padding is
   * not; 0 while a header is incomplete or between records.
   */
  get currentType(): number {
    return this.#state === State.Header ? 0 : this.#type;
  }

  /** Stops delivering records, also for the rest of a chunk being pushed. */
  stop(): void {
    this.#stopped = true;
  }

  /**
   * Parses `chunk`. Throws a protocol error (FcgiError, code ERR_FCGI_MALFORMED) on bytes that break the protocol; the parser is then
   * unusable, as the stream can no longer be framed.
   */
  push(chunk: Buffer): void {
    if (this.#failed) throw this.#failed;
    const len = chunk.length;
    let at = 0;
    while (at < len && !this.#stopped) {
      switch (this.#state) {
        case State.Header: {
          let h: Buffer;
          let o: number;
          if (this.#headerFill === 0 && len - at >= HEADER_LEN) {
            h = chunk;
            o = at;
            at += HEADER_LEN;
          } else {
            const n = Math.min(HEADER_LEN - this.#headerFill, len - at);
            chunk.copy(this.#header, this.#headerFill, at, at + n);
            this.#headerFill += n;
            at += n;
            if (this.#headerFill < HEADER_LEN) return;
            this.#headerFill = 0;
            h = this.#header;
            o = 0;
          }
          if (h[o] !== VERSION_1) {
            this.#failed = protocolError(`unsupported FastCGI version ${h[o]} (expected 1)`);
            throw this.#failed;
          }
          this.#type = h[o + 1]!;
          this.#started++;
          this.#requestId = (h[o + 2]! << 8) | h[o + 3]!;
          this.#remaining = (h[o + 4]! << 8) | h[o + 5]!;
          this.#padding = h[o + 6]!;
          this.#stream = isStreamType(this.#type);
          if (this.#remaining === 0) {
            this.#state = this.#padding ? State.Padding : State.Header;
            this.#sink.record(this.#type, this.#requestId, EMPTY);
          } else {
            this.#state = State.Content;
          }
          break;
        }
        case State.Content: {
          const avail = len - at;
          if (this.#stream) {
            // Hand stream content on as it comes: no copy, no waiting for the whole record.
            const n = avail < this.#remaining ? avail : this.#remaining;
            this.#remaining -= n;
            if (this.#remaining === 0) this.#state = this.#padding ? State.Padding : State.Header;
            this.#sink.record(this.#type, this.#requestId, chunk.subarray(at, at + n));
            at += n;
          } else if (this.#body === null && avail >= this.#remaining) {
            const end = at + this.#remaining;
            this.#remaining = 0;
            this.#state = this.#padding ? State.Padding : State.Header;
            this.#sink.record(this.#type, this.#requestId, chunk.subarray(at, end));
            at = end;
          } else {
            this.#body ??= Buffer.allocUnsafe(this.#remaining);
            const n = avail < this.#remaining ? avail : this.#remaining;
            chunk.copy(this.#body, this.#bodyFill, at, at + n);
            this.#bodyFill += n;
            this.#remaining -= n;
            at += n;
            if (this.#remaining === 0) {
              const body = this.#body;
              this.#body = null;
              this.#bodyFill = 0;
              this.#state = this.#padding ? State.Padding : State.Header;
              this.#sink.record(this.#type, this.#requestId, body);
            }
          }
          break;
        }
        case State.Padding: {
          const n = Math.min(this.#padding, len - at);
          this.#padding -= n;
          at += n;
          if (this.#padding === 0) this.#state = State.Header;
          break;
        }
      }
    }
  }
}
