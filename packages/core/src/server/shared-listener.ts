// The listening socket of serve({ workers }) as the primary holds it: listening (connections queue
// from the start) but never polled here, so every connection is accepted by a worker, as PHP-FPM's
// children accept theirs. node:cluster holds a shared socket the same way (SCHED_NONE:
// net._createServerHandle, bound here, listened on by the workers); each worker gets it over IPC.
import { lookup } from 'node:dns/promises';
import { chmod } from 'node:fs/promises';
import net from 'node:net';
import { getSystemErrorName } from 'node:util';
import type { ResolvedTarget } from './listen-target.js';
import { removeStaleSocket, type ListenAddress } from './server.js';
import { releaseStdioListener } from './stdio-listener.js';

/** A libuv server handle (node's Pipe or TCP), as IPC carries it to a worker. */
export type ServerHandle = object & { close(): void };

/** What this file uses of node's Pipe and TCP handles. */
interface NativeServer extends ServerHandle {
  fd: number;
  getsockname?(out: { port?: number }): number;
  listen(backlog: number): number;
  readStart(): number;
  readStop(): number;
  onconnection: ((status: number, client?: { close(): void }) => void) | undefined;
}

type CreateHandle = (
  address: string | null,
  port: number | null,
  addressType: number | null,
  fd?: number,
) => NativeServer | number;

export interface SharedListener {
  handle: ServerHandle;
  address: ListenAddress;
  /** Closes the primary's descriptor (a unix socket's file goes with it); workers close their own. */
  close(): void;
}

/**
 * Makes the bound socket listen, so connections queue before the first worker accepts, without
 * polling it here: a second handle opened on the descriptor listens, then leaves the event loop's
 * poll (readStop() does that on a handle opened from a descriptor; it never accepts). False when
 * this Node cannot: the first worker's listen() makes the socket listen instead.
 */
function listenWithoutPolling(create: CreateHandle, fd: number, backlog: number): boolean {
  const quiet = create(null, null, null, fd);
  if (typeof quiet === 'number') return false;
  // Never closed: that would close the descriptor the primary holds.
  quiet.onconnection = (_status, client) => client?.close();
  if (quiet.readStart() !== 0 || quiet.readStop() !== 0) return false;
  if (quiet.listen(backlog) !== 0) return false;
  return quiet.readStart() === 0 && quiet.readStop() === 0;
}

/** Binds `target` (or takes fd 0) and listens on it without accepting in this process. */
export async function openSharedListener(
  target: ResolvedTarget,
  options: { socketMode?: number; backlog: number },
): Promise<SharedListener> {
  const create = (net as unknown as { _createServerHandle: CreateHandle })._createServerHandle;
  let made: ReturnType<CreateHandle>;
  let address: ListenAddress = target;
  if (target.kind === 'unix') {
    await removeStaleSocket(target.path);
    made = create(target.path, -1, -1);
  } else if (target.kind === 'tcp') {
    const ip = net.isIP(target.host) ? target.host : (await lookup(target.host)).address;
    made = create(ip, target.port, net.isIP(ip));
  } else made = create(null, null, null, target.fd);
  if (typeof made === 'number') {
    const where =
      target.kind === 'unix'
        ? target.path
        : target.kind === 'tcp'
          ? `${target.host}:${target.port}`
          : `fd ${target.fd}`;
    const err = new Error(`listen ${getSystemErrorName(made)}: ${where}`) as NodeJS.ErrnoException;
    err.code = getSystemErrorName(made);
    throw err;
  }
  const handle = made;
  if (target.kind !== 'fd') listenWithoutPolling(create, handle.fd, options.backlog);
  if (target.kind === 'unix' && options.socketMode !== undefined) await chmod(target.path, options.socketMode);
  if (target.kind === 'tcp' && target.port === 0) {
    const out: { port?: number } = {};
    handle.getsockname?.(out);
    address = { ...target, port: out.port ?? 0 };
  }
  return {
    handle,
    address,
    close: () => {
      handle.close();
      if (target.kind === 'fd') releaseStdioListener(target.fd);
    },
  };
}
