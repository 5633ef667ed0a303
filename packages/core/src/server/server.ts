// A FastCGI server: accepts connections from web servers and runs a handler as a Responder.
import { EventEmitter } from 'node:events';
import type { Stats } from 'node:fs';
import { createConnection, createServer, isIPv4, type Server, type Socket } from 'node:net';
import { Connection, defaultConnectionLimits, type ConnectionLimits, type RequestLoad } from '../connection/index.js';
import {
  responder,
  roleNumbers,
  type Handler,
  type NodeHandler,
  type ResponderOptions,
  type RoleName,
} from '../http/index.js';
import { Role, Values } from '../protocol/index.js';
import { ErrorCode, FcgiError } from '../errors.js';
import { hasListeningSocketOnFd0, resolveTarget, type ListenTarget, type ResolvedTarget } from './listen-target.js';
import { ParamStrings } from '../protocol/param-strings.js';
import { ServerLoad } from './stats.js';
import { releaseStdioListener } from './stdio-listener.js';
import { logProcessLine } from '../http/log-line.js';
import { fetchResponder, isFetchApp, type FetchApp } from '../http/fetch-handler.js';

export interface ServerOptions extends Partial<ConnectionLimits>, ResponderOptions {
  /**
   * Connections open at once. When full, a new connection takes the place of the connection that
   * has gone longest without a handler running (idle, or still sending its params), if that is at
   * least 1 s (for a connection that has served requests, counted from the first time the server is
   * full after its last one); else it is closed unserved. Default 1024.
   */
  maxConnections?: number;
  /**
   * Bytes of STDIN held before PARAMS end over all connections (`maxEarlyStdinBytes` bounds one
   * connection); over it the connection that sent the excess is closed. Default 1 MiB.
   */
  maxServerEarlyStdinBytes?: number;
  /** Requests in flight at once over all connections; more get OVERLOADED and a 503. Default 1024. */
  maxRequests?: number;
  /**
   * Addresses allowed to connect over TCP (a list, or comma-separated). Default: the
   * FCGI_WEB_SERVER_ADDRS environment variable; unset means any.
   */
  webServerAddrs?: string | readonly string[];
  /** Mode of a unix socket file once listening, e.g. 0o660 so the web server's group may connect. */
  socketMode?: number;
  /**
   * Connections the kernel queues until they are accepted (listen backlog; Linux caps it at
   * net.core.somaxconn). Default 2048: Node's 511 made nginx answer 502 (EAGAIN on connect) to
   * the 512th connection of a burst.
   */
  backlog?: number;
  /** Protocol and transport errors (malformed records, resets). Default: one line on stderr. */
  onConnectionError?(err: Error): void;
  /** FastCGI roles served (req.role tells which); others get UNKNOWN_ROLE. Default ['responder']. */
  roles?: readonly (RoleName | number)[];
}

/** Where the server ended up listening. */
export type ListenAddress = ResolvedTarget;

/**
 * At maxConnections, a connection without a running handler for at least this long may be closed to
 * make room: a web server's new connection is never traded for another that is just as new.
 */
export const EVICT_AFTER_MS = 1000;

export class FcgiServer extends EventEmitter {
  /** The underlying net.Server. */
  readonly net: Server;
  readonly #connections = new Set<Connection>();
  readonly #load: RequestLoad;
  readonly #allowed: ReadonlySet<string> | null;
  readonly #socketMode: number | undefined;
  readonly #backlog: number;
  #address: ListenAddress | null = null;
  #closing: Promise<void> | null = null;
  #listenPending = false;
  #onDrained: (() => void) | null = null;
  readonly #maxConnections: number;
  /** Connections closed to make room whose 'close' has not come yet. */
  #evicting = 0;

  constructor(handler: Handler, options?: ServerOptions);
  constructor(handler: NodeHandler, options?: ServerOptions);
  constructor(handler: Handler | NodeHandler, options: ServerOptions = {}) {
    super();
    const limits: ConnectionLimits = { ...defaultConnectionLimits };
    for (const key of Object.keys(defaultConnectionLimits) as (keyof ConnectionLimits)[]) {
      if (options[key] !== undefined) limits[key] = options[key]!;
    }
    const maxConnections = options.maxConnections ?? 1024;
    this.#maxConnections = maxConnections;
    // Also keeps the process counters (status(), recycling, idle exit: server/stats.ts).
    const load = new ServerLoad(options.maxRequests ?? 1024);
    this.#load = load;
    this.#allowed = parseAddrs(options.webServerAddrs ?? process.env.FCGI_WEB_SERVER_ADDRS);
    this.#socketMode = options.socketMode;
    this.#backlog = options.backlog ?? 2048;
    const onError =
      options.onConnectionError ??
      ((err: Error) => {
        logProcessLine(`fcgi: connection closed: ${err.message}`);
      });
    const connectionOptions = {
      ...responder(handler, options),
      roles: options.roles ? roleNumbers(options.roles) : [Role.RESPONDER],
      limits,
      load: this.#load,
      earlyStdin: { held: 0, max: options.maxServerEarlyStdinBytes ?? 1024 * 1024 },
      // This server's PARAMS string cache, shared by its connections only (protocol/param-strings.ts).
      paramStrings: new ParamStrings(),
      values: {
        [Values.MAX_CONNS]: String(maxConnections),
        [Values.MAX_REQS]: String(this.#load.max),
        [Values.MPXS_CONNS]: '1',
      },
      onError: (err: Error) => {
        // A web server that resets or hangs up is routine, not worth a log line.
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'ECONNRESET' && code !== 'EPIPE') onError(err);
      },
    };
    this.net = createServer({ allowHalfOpen: true, noDelay: true, pauseOnConnect: false }, (socket: Socket) => {
      if (this.#allowed && socket.remoteAddress && !this.#allowed.has(normalizeAddr(socket.remoteAddress))) {
        socket.destroy();
        return;
      }
      if (this.#connections.size - this.#evicting >= this.#maxConnections && !this.#makeRoom(onError)) {
        socket.destroy();
        return;
      }
      const conn = new Connection(socket, connectionOptions);
      this.#connections.add(conn);
      load.connectionOpened();
      socket.once('close', () => {
        this.#connections.delete(conn);
        load.connectionClosed();
        if (this.#connections.size === 0) this.#onDrained?.();
      });
      if (this.#closing) conn.close();
    });
    // An error while listen() is pending rejects its promise; emitting it too would crash an app
    // that has no 'error' listener (a busy TCP port killed the process instead of rejecting).
    this.net.on('error', (err) => {
      if (!this.#listenPending) this.emit('error', err);
    });
  }

  /** Connections open now. */
  get connections(): number {
    return this.#connections.size;
  }

  /** Bytes of output queued for the sockets of all connections now, not yet taken by the kernel. */
  get queuedOutputBytes(): number {
    let n = 0;
    for (const conn of this.#connections) n += conn.stream.writableLength;
    return n;
  }

  /** Requests in flight now. */
  get activeRequests(): number {
    return this.#load.active;
  }

  /**
   * At maxConnections: closes the connection that has gone longest without a running handler (at
   * least EVICT_AFTER_MS), so peers that connect and stall cannot keep a web server out. False
   * when every connection is busy or too new.
   */
  #makeRoom(log: (err: Error) => void): boolean {
    const now = Date.now();
    let victim: Connection | null = null;
    let longest = EVICT_AFTER_MS - 1;
    for (const conn of this.#connections) {
      const quiet = conn.quietFor(now);
      if (quiet > longest) {
        longest = quiet;
        victim = conn;
      }
    }
    if (victim === null) return false;
    this.#evicting++;
    victim.stream.once('close', () => this.#evicting--);
    log(
      new FcgiError(
        ErrorCode.LIMIT,
        `maxConnections (${this.#maxConnections}) reached: closed a connection without a running request for ${longest} ms`,
      ),
    );
    victim.destroy();
    return true;
  }

  address(): ListenAddress | null {
    return this.#address;
  }

  /**
   * Starts listening, taking what the host gives first: a listening socket on fd 0 (mod_fcgid,
   * spawn-fcgi, lighttpd), else FCGI_LISTEN from the environment, else `target`.
   */
  async listen(target?: ListenTarget): Promise<ListenAddress> {
    let resolved: ResolvedTarget;
    if (hasListeningSocketOnFd0()) resolved = { kind: 'fd', fd: 0 };
    else if (process.env.FCGI_LISTEN) resolved = resolveTarget(process.env.FCGI_LISTEN);
    else if (target !== undefined) resolved = resolveTarget(target);
    else {
      throw new FcgiError(
        ErrorCode.INVALID_LISTEN_TARGET,
        'nothing to listen on: no listening socket on fd 0, no FCGI_LISTEN and no target given',
      );
    }
    return this.listenOn(resolved);
  }

  /** Listens on exactly `target`, ignoring fd 0 and the environment. */
  async listenOn(target: ResolvedTarget): Promise<ListenAddress> {
    if (target.kind === 'unix') await removeStaleSocket(target.path);
    let onError: ((err: Error) => void) | undefined;
    this.#listenPending = true;
    try {
      await new Promise<void>((resolve, reject) => {
        onError = reject;
        this.net.once('error', onError);
        const backlog = this.#backlog;
        if (target.kind === 'unix') this.net.listen({ path: target.path, backlog }, resolve);
        else if (target.kind === 'tcp') this.net.listen({ port: target.port, host: target.host, backlog }, resolve);
        else this.net.listen({ fd: target.fd, backlog }, resolve);
      });
    } finally {
      this.#listenPending = false;
      if (onError) this.net.off('error', onError);
    }
    if (target.kind === 'unix' && this.#socketMode !== undefined)
      await (await fsPromises()).chmod(target.path, this.#socketMode);
    if (target.kind === 'tcp') {
      const a = this.net.address();
      if (a && typeof a === 'object') target = { kind: 'tcp', host: a.address, port: a.port };
    }
    this.#address = target;
    this.emit('listening', target);
    return target;
  }

  /**
   * Stops accepting; requests in flight finish, idle connections close. Resolves when every
   * connection is closed.
   */
  close(): Promise<void> {
    return (this.#closing ??= new Promise<void>((resolve) => {
      // net.Server calls back once its sockets are destroyed, a tick before their 'close' events
      // (which end the requests and update `connections`): wait for both.
      let waiting = 2;
      const done = () => {
        if (--waiting === 0) resolve();
      };
      if (this.#connections.size === 0) done();
      else this.#onDrained = done;
      if (this.net.listening) {
        this.net.close(() => done());
        if (this.#address?.kind === 'fd') releaseStdioListener(this.#address.fd);
      } else done();
      for (const conn of this.#connections) conn.close();
    }));
  }
}

/** Creates a server that runs `handler` for every request. */
export function createFcgiServer(handler: Handler, options?: ServerOptions): FcgiServer;
/** Also takes any node:http request listener, such as an Express app. */
export function createFcgiServer(handler: NodeHandler, options?: ServerOptions): FcgiServer;
/** Also takes a Web-standard app: an object with a `fetch(request)` method (a Hono app, `{ fetch }`). */
export function createFcgiServer(handler: FetchApp, options?: ServerOptions): FcgiServer;
export function createFcgiServer(handler: Handler | NodeHandler | FetchApp, options?: ServerOptions): FcgiServer {
  return new FcgiServer(isFetchApp(handler) ? fetchResponder(handler) : (handler as Handler), options);
}

function parseAddrs(value: string | readonly string[] | undefined): ReadonlySet<string> | null {
  if (value === undefined) return null;
  const list = (typeof value === 'string' ? value.split(',') : value).map((s) => s.trim()).filter(Boolean);
  return list.length ? new Set(list.map(normalizeAddr)) : null;
}

/** IPv4 peers on a dual-stack socket appear as ::ffff:a.b.c.d. */
function normalizeAddr(addr: string): string {
  const v4 = addr.startsWith('::ffff:') ? addr.slice(7) : addr;
  return isIPv4(v4) ? v4 : addr.toLowerCase();
}

/** Removes a socket file nobody listens on any more; refuses to touch anything else. */
export async function removeStaleSocket(path: string): Promise<void> {
  let st: Stats;
  try {
    st = await (await fsPromises()).lstat(path);
  } catch {
    return;
  }
  if (!st.isSocket()) {
    throw new FcgiError(ErrorCode.INVALID_LISTEN_TARGET, `${path} exists and is not a socket`);
  }
  const refused = await new Promise<NodeJS.ErrnoException | null>((resolve) => {
    const probe = createConnection(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(null);
    });
    probe.once('error', (err: NodeJS.ErrnoException) => resolve(err));
  });
  if (refused?.code === 'ENOENT') return;
  // Only ECONNREFUSED proves nobody listens: EAGAIN is a live server whose backlog is full, and
  // EACCES says nothing either way. Anything else leaves the file alone.
  if (refused?.code !== 'ECONNREFUSED') {
    const why = refused
      ? `cannot tell whether another process listens on it (${refused.code})`
      : 'another process is listening on it';
    const err = new Error(`${path}: ${why}`) as NodeJS.ErrnoException;
    err.code = 'EADDRINUSE';
    throw err;
  }
  await (await fsPromises()).unlink(path);
}

/**
 * node:fs/promises, loaded when a unix socket is made: a process given its socket as fd 0 (mod_fcgid)
 * does not load it (with the readline and stream code it brings, about 1.5 ms of a start).
 */
function fsPromises(): Promise<typeof import('node:fs/promises')> {
  return import('node:fs/promises');
}
