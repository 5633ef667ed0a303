// Servers: listening sockets and targets, workers, the process lifecycle, and the status page.
export { FcgiServer, createFcgiServer, type ServerOptions, type ListenAddress } from './server.js';
export { resolveTarget, hasListeningSocketOnFd0, type ListenTarget } from './listen-target.js';
export {
  Lifecycle,
  resolveLifecycle,
  supervise,
  type LifecycleOptions,
  type LifecycleHooks,
  type ResolvedLifecycle,
  type ShutdownReason,
} from './lifecycle.js';
export { WorkerPool, workerCount } from './workers.js';
export { isClusterWorker } from './worker.js';
export { status, type StatusOptions, type StatusReport } from './status.js';
