// Connections to one application: at most maxConnections open, idle keep-conn ones kept (bounded)
// for reuse, and a bounded queue of requests waiting for a free one.
import { openConnection, type ClientConnection, type ResolvedClientTarget } from './client-connection.js';
import type { FcgiError } from '../errors.js';
import { ClientErrorCode, clientError } from './errors.js';

export interface PoolOptions {
  target: ResolvedClientTarget;
  maxConnections: number;
  /** Idle connections kept; more are closed. */
  maxIdle: number;
  /** Milliseconds an idle connection is kept. */
  idleTimeout: number;
  /** Requests that may wait for a connection; one more is refused with QUEUE_FULL. */
  maxQueue: number;
  connectTimeout: number;
}

/** A request waiting for a connection. */
export interface Waiter {
  /** The connection is the waiter's until it calls release(). */
  grant(conn: ClientConnection): void;
  fail(err: Error): void;
}

export interface PoolStats {
  idle: number;
  busy: number;
  connecting: number;
  queued: number;
}

export class Pool {
  readonly #opts: PoolOptions;
  /** Most recently used last. */
  #idle: ClientConnection[] = [];
  readonly #idleTimers = new Map<ClientConnection, NodeJS.Timeout>();
  readonly #busy = new Set<ClientConnection>();
  #connecting = 0;
  readonly #queue: Waiter[] = [];
  #closing = false;
  #onEmpty: (() => void) | null = null;

  constructor(opts: PoolOptions) {
    this.#opts = opts;
  }

  get stats(): PoolStats {
    return { idle: this.#idle.length, busy: this.#busy.size, connecting: this.#connecting, queued: this.#queue.length };
  }

  get #size(): number {
    return this.#idle.length + this.#busy.size + this.#connecting;
  }

  acquire(w: Waiter): void {
    if (this.#closing) return w.fail(closed());
    let conn: ClientConnection | undefined;
    while ((conn = this.#idle.pop())) {
      this.#unidle(conn);
      if (conn.open) return this.#grant(conn, w);
      conn.destroy();
    }
    if (this.#size < this.#opts.maxConnections) return this.#connect(w);
    if (this.#queue.length >= this.#opts.maxQueue) {
      return w.fail(
        clientError(
          ClientErrorCode.QUEUE_FULL,
          `all ${this.#opts.maxConnections} connections are busy and ${this.#queue.length} requests wait already`,
        ),
      );
    }
    this.#queue.push(w);
  }

  /** Takes a waiter out of the queue; false if it is not there (it is connecting or was served). */
  cancel(w: Waiter): boolean {
    const i = this.#queue.indexOf(w);
    if (i < 0) return false;
    this.#queue.splice(i, 1);
    return true;
  }

  /** Gives back a granted connection; a reusable one serves the next waiter or goes idle. */
  release(conn: ClientConnection, reusable: boolean): void {
    this.#busy.delete(conn);
    if (reusable && conn.open && !this.#closing) {
      const next = this.#queue.shift();
      if (next) return this.#grant(conn, next);
      this.#idle.push(conn);
      conn.socket.unref(); // an idle pool does not keep the process alive
      const timer = setTimeout(() => conn.destroy(), this.#opts.idleTimeout);
      timer.unref();
      this.#idleTimers.set(conn, timer);
      while (this.#idle.length > this.#opts.maxIdle) {
        const oldest = this.#idle.shift()!;
        this.#unidle(oldest);
        oldest.destroy();
      }
    } else {
      conn.destroy();
    }
    this.#next();
    this.#checkEmpty();
  }

  /** Closes every idle connection (they may all be stale, e.g. after the application restarted). */
  dropIdle(): void {
    for (const conn of this.#idle.splice(0)) {
      this.#unidle(conn);
      conn.destroy();
    }
  }

  /**
   * Refuses new and queued requests, closes idle connections, waits up to `timeout` ms for busy
   * ones, then destroys what is left.
   */
  async close(timeout: number): Promise<void> {
    this.#closing = true;
    for (const w of this.#queue.splice(0)) w.fail(closed());
    this.dropIdle();
    if (this.#busy.size > 0 || this.#connecting > 0) {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.#onEmpty = resolve;
        timer = setTimeout(resolve, timeout);
      });
      clearTimeout(timer);
      this.#onEmpty = null;
    }
    for (const conn of this.#busy) conn.destroy();
  }

  #grant(conn: ClientConnection, w: Waiter): void {
    this.#busy.add(conn);
    conn.socket.ref();
    w.grant(conn);
  }

  #connect(w: Waiter): void {
    this.#connecting++;
    openConnection(this.#opts.target, this.#opts.connectTimeout).then(
      (conn) => {
        this.#connecting--;
        conn.onClose = () => this.#forget(conn);
        if (this.#closing) {
          conn.destroy();
          w.fail(closed());
          this.#checkEmpty();
          return;
        }
        this.#grant(conn, w);
      },
      (err: Error) => {
        this.#connecting--;
        w.fail(err);
        this.#next();
        this.#checkEmpty();
      },
    );
  }

  /** Opens connections for waiters while there is room. */
  #next(): void {
    while (this.#queue.length > 0 && !this.#closing && this.#size < this.#opts.maxConnections) {
      this.#connect(this.#queue.shift()!);
    }
  }

  /** The socket closed: an idle connection leaves the pool (a busy one is released by its request). */
  #forget(conn: ClientConnection): void {
    const i = this.#idle.indexOf(conn);
    if (i >= 0) {
      this.#idle.splice(i, 1);
      this.#unidle(conn);
      this.#next();
    }
  }

  #unidle(conn: ClientConnection): void {
    const t = this.#idleTimers.get(conn);
    if (t) clearTimeout(t);
    this.#idleTimers.delete(conn);
  }

  #checkEmpty(): void {
    if (this.#busy.size === 0 && this.#connecting === 0) this.#onEmpty?.();
  }
}

function closed(): FcgiError {
  return clientError(ClientErrorCode.CLOSED, 'the FastCGI client is closed');
}
