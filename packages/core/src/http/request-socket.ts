// `req.socket` / `res.socket`: a stand-in for the client's connection to the web server, which
// this process never sees. Express and its middleware read the peer address, `encrypted` (for
// req.protocol), and `readable`/`writable` plus a 'close' event (on-finished) from it; one is
// made per request, so it holds only a few fields and reads the rest from the params on demand.
import { EventEmitter } from 'node:events';

/** What the socket ends when destroyed: the request's response (set by FcgiResponse). */
interface Destroyable {
  destroy(err?: Error): unknown;
}

// An EventEmitter without running its constructor: EventEmitter's methods create the listener
// table on first use, so a socket nobody listens to costs a plain object (one per request).
export interface RequestSocket extends EventEmitter {}
export class RequestSocket {
  /** The params of the request this socket stands for. */
  readonly environ: Record<string, string>;
  /** True until the request is over: its response finished, or it was aborted. */
  readable = true;
  writable = true;
  destroyed = false;
  /** Always 0: output goes straight to the response's sink (the FastCGI connection...). */
  readonly writableLength = 0;
  /** The response, whose destroy() this socket's destroy() calls (set by FcgiResponse). */
  response: Destroyable | null = null;
  #encrypted: boolean | undefined = undefined;

  constructor(environ: Record<string, string>) {
    this.environ = environ;
  }

  /** The client's address (REMOTE_ADDR). */
  get remoteAddress(): string | undefined {
    return this.environ.REMOTE_ADDR || undefined;
  }

  /** The client's port (REMOTE_PORT). */
  get remotePort(): number | undefined {
    return portOf(this.environ.REMOTE_PORT);
  }

  get remoteFamily(): string | undefined {
    return familyOf(this.remoteAddress);
  }

  /** The address the web server accepted the client on (SERVER_ADDR). */
  get localAddress(): string | undefined {
    return this.environ.SERVER_ADDR || undefined;
  }

  get localFamily(): string | undefined {
    return familyOf(this.localAddress);
  }

  /** The web server's port (SERVER_PORT). */
  get localPort(): number | undefined {
    return portOf(this.environ.SERVER_PORT);
  }

  /**
   * True when the client used TLS (HTTPS=on, or REQUEST_SCHEME=https): Express's req.protocol reads
   * it. Assignable, as on node:http's sockets, where it is a plain property (middleware behind a
   * TLS-terminating proxy sets it).
   */
  get encrypted(): boolean {
    if (this.#encrypted !== undefined) return this.#encrypted;
    const https = this.environ.HTTPS;
    return (https !== undefined && /^(on|1)$/i.test(https)) || this.environ.REQUEST_SCHEME === 'https';
  }
  set encrypted(value: boolean) {
    this.#encrypted = value;
  }

  address(): { address: string; family: string; port: number } | Record<string, never> {
    const address = this.localAddress;
    if (address === undefined) return {};
    return { address, family: familyOf(address)!, port: this.localPort ?? 0 };
  }

  // The web server owns the real connection: timeouts and TCP options are its business.
  setTimeout(_ms?: number, _cb?: () => void): this {
    return this;
  }
  setNoDelay(_noDelay?: boolean): this {
    return this;
  }
  setKeepAlive(_enable?: boolean, _delay?: number): this {
    return this;
  }
  ref(): this {
    return this;
  }
  unref(): this {
    return this;
  }
  cork(): void {}
  uncork(): void {}

  /**
   * Ends this request at once, as destroying the connection would: the response is cut off
   * (over FastCGI, END_REQUEST with appStatus 1) and the request is aborted. Other requests on
   * the same FastCGI connection go on.
   */
  destroy(err?: Error): this {
    if (this.destroyed) return this;
    this.response?.destroy(err);
    closeRequestSocket(this);
    return this;
  }
}

Object.setPrototypeOf(RequestSocket.prototype, EventEmitter.prototype);

/** Marks the request over: not readable or writable any more, and 'close' for on-finished. */
export function closeRequestSocket(socket: RequestSocket | null | undefined): void {
  if (!socket || socket.destroyed) return;
  socket.readable = socket.writable = false;
  socket.destroyed = true;
  socket.emit('close', false);
}

function portOf(value: string | undefined): number | undefined {
  if (!value) return undefined;
  const n = Number(value);
  return Number.isInteger(n) ? n : undefined;
}

function familyOf(address: string | undefined): string | undefined {
  if (!address) return undefined;
  return address.includes(':') ? 'IPv6' : 'IPv4';
}
