// The listening socket of serve({ workers }) as the primary holds it: bound (or taken from fd 0)
// and never polled here, so every connection is accepted by a worker, as PHP-FPM's children accept
// theirs. node:cluster holds a shared socket the same way (SCHED_NONE: net._createServerHandle);
// each worker gets it over IPC and listens on it, so the socket accepts once the first worker is up.
import { lookup } from 'node:dns/promises';
import { chmod } from 'node:fs/promises';
import net from 'node:net';
import { getSystemErrorName } from 'node:util';
import type { ResolvedTarget } from './listen-target.js';
import { removeStaleSocket, type ListenAddress } from './server.js';
import { releaseStdioListener } from './stdio-listener.js';

/** A libuv server handle (node's Pipe or TCP), as IPC carries it to a worker. */
export type ServerHandle = object & { close(): void };

type CreateHandle = (
  address: string | null,
  port: number | null,
  addressType: number | null,
  fd?: number,
) => (ServerHandle & { getsockname?(out: { port?: number }): number }) | number;

export interface SharedListener {
  handle: ServerHandle;
  address: ListenAddress;
  /** Closes the primary's descriptor (a unix socket's file goes with it); workers close their own. */
  close(): void;
}

/** Binds `target` (or wraps fd 0) without listening in this process. */
export async function openSharedListener(
  target: ResolvedTarget,
  options: { socketMode?: number } = {},
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
