// One connection to a FastCGI application: the socket, its record parser, and the one request
// running on it (request id 1; PHP-FPM and most applications do not multiplex).
import { connect as netConnect, type Socket } from 'node:net';
import { RecordType, RecordParser, decodeEndRequest, type RecordSink } from '../protocol/index.js';
import { ClientErrorCode, clientError } from './errors.js';

export type ClientTarget = string | { host: string; port: number } | { path: string };
export type ResolvedClientTarget = { path: string } | { host: string; port: number };

/** A unix socket path, "unix:/path", "host:port", "[::1]:port", or an object. */
export function resolveClientTarget(target: ClientTarget): ResolvedClientTarget {
  if (typeof target === 'object') {
    if ('path' in target) return { path: target.path };
    return { host: target.host, port: checkPort(target.port, target) };
  }
  if (target.startsWith('unix:')) return { path: target.slice(5) };
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^/:\s]+)):(\d+)$/.exec(target);
  if (m) return { host: m[1] ?? m[2]!, port: checkPort(Number(m[3]), target) };
  if (target.length > 0) return { path: target };
  throw clientError(ClientErrorCode.INVALID_TARGET, 'empty FastCGI target');
}

function checkPort(port: number, target: unknown): number {
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw clientError(ClientErrorCode.INVALID_TARGET, `invalid port in FastCGI target ${JSON.stringify(target)}`);
  }
  return port;
}

/** What the connection feeds to the request running on it. */
export interface ConnectionUser {
  onStdout(content: Buffer): void;
  onStderr(content: Buffer): void;
  onEndRequest(appStatus: number, protocolStatus: number): void;
  /** The bytes broke the protocol: the connection is being destroyed. */
  onProtocolError(err: Error): void;
  /** The connection ended or closed before END_REQUEST. */
  onConnectionLost(err: Error): void;
  onDrain(): void;
}

export const REQUEST_ID = 1;

export class ClientConnection implements RecordSink {
  readonly socket: Socket;
  /** Requests started on this connection. */
  requests = 0;
  /** Called once when the socket has closed (the pool forgets the connection). */
  onClose: (() => void) | null = null;
  #user: ConnectionUser | null = null;
  readonly #parser = new RecordParser(this);
  #ended = false;
  #closed = false;
  #error: Error | null = null;

  constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      try {
        this.#parser.push(chunk);
      } catch (err) {
        this.#parser.stop();
        const e = clientError(ClientErrorCode.PROTOCOL, `FastCGI protocol error: ${(err as Error).message}`, {
          cause: err,
        });
        const user = this.#user;
        this.#user = null;
        user?.onProtocolError(e);
        this.destroy();
      }
    });
    socket.on('end', () => {
      // The application will send nothing more: whatever runs here cannot complete.
      this.#ended = true;
      this.#lost(
        clientError(
          ClientErrorCode.CONNECTION_LOST,
          'the FastCGI application closed the connection before END_REQUEST',
        ),
      );
      this.destroy();
    });
    socket.on('error', (err) => {
      this.#error = err;
    });
    socket.on('drain', () => this.#user?.onDrain());
    socket.on('close', () => {
      this.#closed = true;
      const err = this.#error;
      this.#lost(
        clientError(
          ClientErrorCode.CONNECTION_LOST,
          `the connection to the FastCGI application closed before END_REQUEST${err ? `: ${err.message}` : ''}`,
          { cause: err },
        ),
      );
      this.onClose?.();
    });
  }

  /** True while the socket is open in both directions. */
  get open(): boolean {
    return !this.#closed && !this.#ended && !this.socket.destroyed;
  }

  /** Hands the records of request REQUEST_ID to `user` (null: nobody; stray records are ignored). */
  attach(user: ConnectionUser | null): void {
    this.#user = user;
    if (user) this.requests++;
  }

  /** Writes buffers as one vectored write; false when the socket's buffer is full (wait for onDrain). */
  write(parts: readonly Uint8Array[]): boolean {
    const s = this.socket;
    if (!this.open) return true;
    s.cork();
    let ok = true;
    for (const p of parts) ok = s.write(p);
    s.uncork();
    return ok;
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  destroy(): void {
    this.#parser.stop();
    this.socket.destroy();
  }

  record(type: number, id: number, content: Buffer): void {
    const user = this.#user;
    // Records of other ids (management records, late records of an earlier request) are ignored.
    if (!user || id !== REQUEST_ID) return;
    switch (type) {
      case RecordType.STDOUT:
        return user.onStdout(content);
      case RecordType.STDERR:
        return user.onStderr(content);
      case RecordType.END_REQUEST: {
        const { appStatus, protocolStatus } = decodeEndRequest(content);
        this.#user = null;
        return user.onEndRequest(appStatus, protocolStatus);
      }
    }
  }

  #lost(err: Error): void {
    const user = this.#user;
    this.#user = null;
    user?.onConnectionLost(err);
  }
}

/** Opens a connection, within `timeout` ms. TCP connections get TCP_NODELAY. */
export function openConnection(target: ResolvedClientTarget, timeout: number): Promise<ClientConnection> {
  return new Promise((resolve, reject) => {
    const socket = 'path' in target ? netConnect(target.path) : netConnect(target.port, target.host);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(
        clientError(ClientErrorCode.CONNECT_TIMEOUT, `connecting to the FastCGI application took over ${timeout} ms`),
      );
    }, timeout);
    const onError = (err: Error) => {
      clearTimeout(timer);
      reject(err);
    };
    socket.once('error', onError);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.off('error', onError);
      if (!('path' in target)) socket.setNoDelay(true);
      resolve(new ClientConnection(socket));
    });
  });
}
