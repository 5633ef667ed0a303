// The messages between a serve() primary and its workers over their IPC channel. The primary
// holds the listening socket without accepting on it and sends it to each worker (`listen`), which
// pauses accepting while it holds `cap` connections (`full`, then `room`, each with its open count).
import type { ListenAddress } from './server.js';
import type { ProcessStats } from './stats.js';

/** Set in a worker's environment by the primary: serve() then takes connections from it. */
export const WORKER_ENV = 'FCGI_CLUSTER_WORKER';
/** The primary's listen address (JSON), for the worker's Serving.address. */
export const ADDRESS_ENV = 'FCGI_CLUSTER_ADDRESS';

/** Longest a recycling worker keeps taking connections while its replacement starts. */
export const RETIRE_MS = 10_000;

/** The primary and its workers, as status() shows them. */
export interface ClusterStatus {
  primary: { pid: number; startedAt: number; uptime: number; workers: number; restarts: number };
  /** One entry per live worker that answered in time, by pid. */
  workers: ProcessStats[];
}

export type ToWorker =
  /** Carries the listening socket (the message's handle): accept on it up to `cap` open connections (0: no cap). */
  | { fcgi: 'listen'; cap: number; backlog: number }
  /** The cap follows the workers' open connections: a fair share of them, plus one. */
  | { fcgi: 'cap'; cap: number }
  /** Drain and exit (the primary stopped sending connections to this worker). */
  | { fcgi: 'shutdown' }
  /** Answer to `draining` (once a replacement is ready): no more connections will come. */
  | { fcgi: 'drain-ok' }
  /** The primary collects statistics. */
  | { fcgi: 'stats?'; id: number }
  /** Answer to a worker's `status?`. */
  | { fcgi: 'status'; id: number; status: ClusterStatus };

export type ToPrimary =
  /** The worker takes connections. */
  | { fcgi: 'ready' }
  /** The worker holds `cap` connections or more (`open`) and paused accepting. */
  | { fcgi: 'full'; open: number }
  /** It accepts again (a connection closed, or the cap was raised), holding `open` connections. */
  | { fcgi: 'room'; open: number }
  /** The worker wants to stop (recycling, a signal, a crash): send no more connections. */
  | { fcgi: 'draining' }
  /** The worker has been idle for idleTimeout (or no longer is). */
  | { fcgi: 'idle'; idle: boolean }
  | { fcgi: 'stats'; id: number; stats: ProcessStats }
  /** A worker's status() asks for every worker's statistics. */
  | { fcgi: 'status?'; id: number };

export function isMessage<T extends { fcgi: string }>(m: unknown): m is T {
  return typeof m === 'object' && m !== null && typeof (m as { fcgi?: unknown }).fcgi === 'string';
}

export type { ListenAddress };
