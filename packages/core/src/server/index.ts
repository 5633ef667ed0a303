// Servers: listening sockets and targets, workers, the process lifecycle, and the status page.
export { FcgiServer, createFcgiServer, type ServerOptions, type ListenAddress } from './server.js';
export { resolveTarget, hasListeningSocketOnFd0, DEFAULT_HOST, type ListenTarget, type ResolvedTarget } from './listen-target.js';
export {
  Lifecycle, resolveLifecycle, supervise, type LifecycleOptions, type LifecycleTarget, type LifecycleHooks,
  type ResolvedLifecycle, type ShutdownReason,
} from './lifecycle.js';
export { processStats, onRequestActivity, type ProcessStats } from './stats.js';
export { WorkerPool, workerCount } from './workers.js';
export { isClusterWorker, requestClusterStatus } from './worker.js';
export type { ClusterStatus } from './cluster-ipc.js';
export { status, statusReport, formatStatus, type StatusOptions, type StatusReport } from './status.js';
