// A push parser for multipart bodies (RFC 2046 section 5.1, as RFC 7578 uses it for forms). It
// keeps no more than one delimiter's worth of bytes between chunks while in part data, and one
// header block per part, so a body of any size streams through in constant memory. It throws a
// SyntaxError for a malformed body and a RangeError for a header block over its limit; the body
// reader turns them into 400 and 413.

/** What the parser reports, in order: per part begin, data..., end; then end once. */
export interface MultipartHandler {
  /** A part's header block, without the blank line that ends it (empty when it has none). */
  partBegin(headerBlock: Buffer): void;
  /** Bytes of the current part's body: views into the chunk given to write(). */
  partData(chunk: Buffer): void;
  partEnd(): void;
  /** The close delimiter was read; anything after it is epilogue and ignored. */
  end(): void;
}

const enum State {
  PREAMBLE,
  DATA,
  AFTER_DELIMITER,
  CLOSE_DASH,
  PADDING,
  PADDING_CR,
  HEADERS,
  EPILOGUE,
  FAILED,
}

const CR = 13;
const LF = 10;
const DASH = 45;
const CRLFCRLF = Buffer.from('\r\n\r\n');
const EMPTY = Buffer.alloc(0);

function malformed(message: string): SyntaxError {
  return new SyntaxError(`malformed multipart body: ${message}`);
}

export class MultipartParser {
  /** CRLF "--" boundary: what ends a part's data (and the preamble, which starts after a virtual CRLF). */
  readonly #delimiter: Buffer;
  readonly #handler: MultipartHandler;
  readonly #headerSize: number;
  #state = State.PREAMBLE;
  /** Bytes held back because they may start a delimiter (always fewer than its length). */
  #carry: Buffer = Buffer.from('\r\n');
  /** The header block so far, starting with the CRLF that ended the delimiter line. */
  #header: Buffer = EMPTY;
  #inPart = false;

  constructor(boundary: string, handler: MultipartHandler, options: { headerSize?: number } = {}) {
    if (!boundary || boundary.length > 70) throw malformed('the boundary must be 1 to 70 characters');
    this.#delimiter = Buffer.from(`\r\n--${boundary}`, 'latin1');
    this.#handler = handler;
    this.#headerSize = options.headerSize ?? 16 * 1024;
  }

  /** True once the close delimiter was read. */
  get done(): boolean {
    return this.#state === State.EPILOGUE;
  }

  /** Feeds bytes; throws a SyntaxError (malformed) or a RangeError (header block too large). */
  write(chunk: Buffer): void {
    try {
      let pos = 0;
      while (pos < chunk.length) pos = this.#step(chunk, pos);
    } catch (err) {
      this.#state = State.FAILED;
      throw err;
    }
  }

  /** The body ended; throws unless the close delimiter was read. */
  finish(): void {
    if (this.#state === State.EPILOGUE) return;
    if (this.#state === State.FAILED) return;
    const started = this.#inPart || this.#state !== State.PREAMBLE;
    this.#state = State.FAILED;
    throw malformed(started ? 'the body ended before the close delimiter' : 'no boundary delimiter found');
  }

  /** Handles bytes from `pos` in the current state; returns where the next step starts. */
  #step(chunk: Buffer, pos: number): number {
    switch (this.#state) {
      case State.PREAMBLE:
      case State.DATA:
        return this.#scan(chunk, pos);
      case State.AFTER_DELIMITER: {
        const c = chunk[pos]!;
        if (c === DASH) this.#state = State.CLOSE_DASH;
        else if (c === CR) this.#state = State.PADDING_CR;
        else if (c === 0x20 || c === 0x09) this.#state = State.PADDING;
        else throw malformed('boundary delimiter followed by unexpected bytes');
        return pos + 1;
      }
      case State.CLOSE_DASH:
        if (chunk[pos] !== DASH) throw malformed('boundary delimiter followed by unexpected bytes');
        this.#state = State.EPILOGUE;
        this.#handler.end();
        return pos + 1;
      case State.PADDING: {
        const c = chunk[pos]!;
        if (c === CR) this.#state = State.PADDING_CR;
        else if (c !== 0x20 && c !== 0x09) throw malformed('boundary delimiter followed by unexpected bytes');
        return pos + 1;
      }
      case State.PADDING_CR:
        if (chunk[pos] !== LF) throw malformed('boundary line not ended by CRLF');
        this.#state = State.HEADERS;
        this.#header = Buffer.from('\r\n');
        return pos + 1;
      case State.HEADERS:
        return this.#headers(chunk, pos);
      case State.EPILOGUE:
        return chunk.length;
      default:
        throw malformed('write after an error');
    }
  }

  /** Searches the delimiter; what comes before it is preamble (dropped) or part data. */
  #scan(chunk: Buffer, pos: number): number {
    // Bytes held back from the last chunk come first; `buf` always ends where `chunk` ends.
    let buf = chunk.subarray(pos);
    if (this.#carry.length) {
      buf = Buffer.concat([this.#carry, buf]);
      this.#carry = EMPTY;
    }
    const d = this.#delimiter;
    const at = buf.indexOf(d);
    if (at >= 0) {
      this.#emit(buf, 0, at);
      if (this.#state === State.DATA) {
        this.#inPart = false;
        this.#handler.partEnd();
      }
      this.#state = State.AFTER_DELIMITER;
      // Where the delimiter ends, as a position in `chunk`.
      return chunk.length - (buf.length - (at + d.length));
    }
    const keep = partialMatch(buf, d);
    this.#emit(buf, 0, buf.length - keep);
    if (keep) this.#carry = Buffer.from(buf.subarray(buf.length - keep));
    return chunk.length;
  }

  #emit(buf: Buffer, from: number, to: number): void {
    if (to > from && this.#state === State.DATA) this.#handler.partData(buf.subarray(from, to));
  }

  /** Collects a header block up to the blank line, within the size limit. */
  #headers(chunk: Buffer, pos: number): number {
    const have = this.#header.length;
    // Enough to see the end of a block of the largest allowed size: CRLF + block + CRLFCRLF.
    const room = 2 + this.#headerSize + 4 - have;
    const take = chunk.subarray(pos, pos + Math.min(chunk.length - pos, room));
    const combined = Buffer.concat([this.#header, take]);
    const at = combined.indexOf(CRLFCRLF, Math.max(0, have - 3));
    if (at < 0) {
      if (combined.length >= 2 + this.#headerSize + 4) throw headerTooLarge(this.#headerSize);
      this.#header = combined;
      return pos + take.length;
    }
    if (at - 2 > this.#headerSize) throw headerTooLarge(this.#headerSize);
    const block = at < 2 ? EMPTY : combined.subarray(2, at);
    this.#header = EMPTY;
    this.#state = State.DATA;
    this.#inPart = true;
    // The part's data starts right after the blank line; a delimiter may follow at once.
    this.#carry = EMPTY;
    this.#handler.partBegin(block);
    return pos + (at + 4 - have);
  }
}

function headerTooLarge(limit: number): RangeError {
  return new RangeError(`multipart part headers larger than ${limit} bytes`);
}

/** Length of the longest tail of `buf` that is a proper prefix of `d` (it may continue in the next chunk). */
export function partialMatch(buf: Buffer, d: Buffer): number {
  const max = Math.min(d.length - 1, buf.length);
  for (let k = max; k > 0; k--) {
    const start = buf.length - k;
    if (buf[start] === d[0] && buf.compare(d, 0, k, start) === 0) return k;
  }
  return 0;
}
