// STDIN that comes before a request's PARAMS end (legal, but no web server sends it): what one
// connection holds, counted against its own bound and against the bound of its server.
import { ErrorCode } from '../errors.js';
import { protocolError } from '../protocol/index.js';

/**
 * Early STDIN held over all connections of a server, against its bound: one object shared by the
 * server's connections. Over `max`, the connection that pushed it over is closed.
 */
export interface EarlyStdinBudget {
  held: number;
  readonly max: number;
}

/** The early STDIN of one connection, all its requests together. */
export class EarlyStdin {
  #held = 0;
  readonly #max: number;
  readonly #budget: EarlyStdinBudget | undefined;

  constructor(max: number, budget: EarlyStdinBudget | undefined) {
    this.#max = max;
    this.#budget = budget;
  }

  /**
   * `n` more bytes are held. Throws a protocol error (ERR_FCGI_LIMIT) past the connection's bound
   * or the server's; the connection is closed then, which drops what its requests held.
   */
  add(n: number): void {
    this.#held += n;
    const budget = this.#budget;
    if (budget) budget.held += n;
    if (this.#held > this.#max) {
      throw protocolError(
        `more than ${this.#max} bytes of STDIN before PARAMS ended on one connection`,
        ErrorCode.LIMIT,
      );
    }
    if (budget && budget.held > budget.max) {
      throw protocolError(
        `more than ${budget.max} bytes of STDIN before PARAMS ended over all connections`,
        ErrorCode.LIMIT,
      );
    }
  }

  /** `n` bytes are no longer held (handed to the handler, or dropped with their request). */
  drop(n: number): void {
    this.#held -= n;
    if (this.#budget) this.#budget.held -= n;
  }
}
