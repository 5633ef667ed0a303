// A serve() worker: a fork of the app's script that accepts on the listening socket its primary
// shares over IPC (shared-accept.ts). Before it stops (recycling, a signal, a crash) it stops
// accepting and tells the primary, which starts its replacement first.
import type { Socket } from 'node:net';
import {
  ADDRESS_ENV,
  RETIRE_MS,
  WORKER_ENV,
  isMessage,
  type ClusterStatus,
  type ToPrimary,
  type ToWorker,
} from './cluster-ipc.js';
import { Lifecycle, type ResolvedLifecycle } from './lifecycle.js';
import type { FcgiServer, ListenAddress } from './server.js';
import { SharedAccept } from './shared-accept.js';
import type { ServerHandle } from './shared-listener.js';
import { processStats } from './stats.js';

/** True in a worker started by a serve() primary (a fork with an IPC channel and WORKER_ENV). */
export function isClusterWorker(): boolean {
  return process.env[WORKER_ENV] === '1' && typeof process.send === 'function';
}

/** The primary's address, as it told the worker. */
export function primaryAddress(): ListenAddress {
  return JSON.parse(process.env[ADDRESS_ENV] ?? '{"kind":"fd","fd":0}') as ListenAddress;
}

function send(message: ToPrimary): void {
  if (process.connected) process.send!(message, undefined, {}, () => {});
}

let nextId = 1;
const statusWaiters = new Map<number, (status: ClusterStatus | null) => void>();

/** Every worker's statistics through the primary; null outside a cluster or without an answer in `ms`. */
export function requestClusterStatus(ms = 2000): Promise<ClusterStatus | null> {
  if (!isClusterWorker() || !process.connected) return Promise.resolve(null);
  const id = nextId++;
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      statusWaiters.delete(id);
      resolve(null);
    }, ms);
    statusWaiters.set(id, (status) => {
      clearTimeout(timer);
      statusWaiters.delete(id);
      resolve(status);
    });
    send({ fcgi: 'status?', id });
  });
}

export interface WorkerHandle {
  lifecycle: Lifecycle;
  close(): Promise<void>;
}

/** Connects `server` to the primary: connections in, lifecycle events out. */
export function attachWorker(server: FcgiServer, options: ResolvedLifecycle): WorkerHandle {
  let released: (() => void) | null = null;
  let toldToStop = false;
  let handingOff: Promise<void> | null = null;
  const accepting = new SharedAccept(
    (socket) => accept(server, socket),
    (what, open) => send({ fcgi: what, open }),
  );

  // Accepting stops first (pending connections stay queued for the other workers); the primary
  // answers `draining` once a replacement is ready (or after RETIRE_MS).
  const handOff = (): Promise<void> =>
    (handingOff ??= new Promise((resolve) => {
      accepting.stop();
      if (toldToStop || !process.connected) return resolve();
      const timer = setTimeout(resolve, RETIRE_MS + 2000).unref();
      released = () => {
        clearTimeout(timer);
        resolve();
      };
      send({ fcgi: 'draining' });
    }));

  // The primary watches the app's file for a new version (and stops every worker); a worker does not.
  const own = { ...options, restartCheckInterval: 0 };
  const lifecycle = new Lifecycle({ beforeClose: handOff, close: () => server.close() }, own, {
    onIdleChange: (idle) => send({ fcgi: 'idle', idle }),
  });

  const onMessage = (message: unknown, handle: unknown): void => {
    if (!isMessage<ToWorker>(message)) return;
    switch (message.fcgi) {
      case 'listen':
        if (handle) accepting.listen(handle as ServerHandle, message.cap, message.backlog);
        return;
      case 'cap':
        accepting.setCap(message.cap);
        return;
      case 'shutdown':
        toldToStop = true;
        accepting.stop();
        void lifecycle.shutdown('primary');
        return;
      case 'drain-ok':
        released?.();
        return;
      case 'stats?':
        send({ fcgi: 'stats', id: message.id, stats: processStats() });
        return;
      case 'status':
        statusWaiters.get(message.id)?.(message.status);
    }
  };
  // The primary is gone (killed): nobody hands out connections any more; finish and go.
  const onDisconnect = (): void => {
    toldToStop = true;
    accepting.stop();
    void lifecycle.shutdown('primary');
  };
  process.on('message', onMessage);
  process.once('disconnect', onDisconnect);
  lifecycle.start();
  send({ fcgi: 'ready' });
  return {
    lifecycle,
    // Stops serving without exiting (the primary, told `draining`, replaces this worker).
    close: async () => {
      lifecycle.dispose();
      process.off('disconnect', onDisconnect);
      await handOff();
      process.off('message', onMessage);
      await server.close();
    },
  };
}

function accept(server: FcgiServer, socket: Socket): void {
  server.net.emit('connection', socket);
}
