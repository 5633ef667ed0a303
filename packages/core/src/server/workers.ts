// serve({ workers: N }): one primary process holds the listening socket (fd 0 from mod_fcgid or
// spawn-fcgi, a unix socket, a TCP port) and hands every accepted connection, unread, to one of N
// worker processes (node:cluster, round robin). A worker that dies is replaced; one that recycles
// itself (maxRequestsPerProcess) is replaced before it stops taking connections; SIGTERM to the
// primary drains every worker, then the primary exits.
import cluster, { type Worker } from 'node:cluster';
import type { Socket } from 'node:net';
import { availableParallelism } from 'node:os';
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
import { FcgiServer, type ListenAddress, type ServerOptions } from './server.js';
import type { ResolvedTarget } from './listen-target.js';
import type { ProcessStats } from './stats.js';
import { releaseStdioListener } from './stdio-listener.js';
import { logProcessLine } from '../http/log-line.js';

/** Accepted connections held while no worker is ready (all starting or restarting); more are closed. */
const MAX_PENDING = 1024;

/** `workers` as given (option or FCGI_WORKERS): a count, 'auto' (one per CPU), or nothing (0). */
export function workerCount(value: number | 'auto' | string | undefined): number {
  if (value === undefined || value === '') return 0;
  if (value === 'auto') return availableParallelism();
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isInteger(n) || n < 0)
    throw new RangeError(`workers must be a whole number >= 0 or 'auto', not ${JSON.stringify(value)}`);
  return n;
}

interface Member {
  worker: Worker;
  /**
   * starting: not yet taking connections; ready: taking them; retiring: asked to recycle, takes
   * them only while no ready worker exists, until its replacement is ready; draining: none sent.
   */
  state: 'starting' | 'ready' | 'retiring' | 'draining';
  startedAt: number;
  idle: boolean;
  /** Ends retiring: no more connections, `drain-ok` to the worker. */
  release?: () => void;
  /** Set on a replacement: runs once it is ready. */
  onReady?: () => void;
}

function tell(worker: Worker, message: ToWorker, handle?: Socket, done?: (err: Error | null) => void): void {
  if (!worker.isConnected()) return done?.(new Error('worker disconnected'));
  worker.send(message, handle as never, done ?? (() => {}));
}

export class WorkerPool {
  /** Workers kept running. */
  readonly size: number;
  /** Called when every ready worker reported idleTimeout without a request. */
  onAllIdle: (() => void) | null = null;
  readonly #env: Record<string, string>;
  readonly #members = new Map<number, Member>();
  readonly #statsWaiters = new Map<number, (stats: ProcessStats) => void>();
  readonly #startedAt = Date.now();
  #pending: Socket[] = [];
  #turn = 0;
  #restarts = 0;
  #quickDeaths = 0;
  #nextId = 1;
  #stopping = false;
  #unclean = false;
  #allExited: (() => void) | null = null;
  #stopped: Promise<boolean> | null = null;

  constructor(size: number, env: Record<string, string>) {
    this.size = size;
    this.#env = env;
  }

  /** Pids of the workers alive now (a recycling one and its replacement both count). */
  get pids(): number[] {
    return [...this.#members.values()].map((m) => m.worker.process.pid!).filter((p) => p !== undefined);
  }

  /** Workers started to replace one that exited or recycled itself. */
  get restarts(): number {
    return this.#restarts;
  }

  start(): void {
    // fd 0 stays with the primary: a worker holding the listening socket would keep it open after
    // the primary closed it, and connections would queue where nobody accepts them.
    cluster.setupPrimary({ stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    for (let i = 0; i < this.size; i++) this.#fork();
  }

  /** Hands an accepted (paused, unread) connection to the next ready worker. */
  dispatch(socket: Socket): void {
    const m = this.#pick();
    if (!m) {
      if (this.#stopping || this.#pending.length >= MAX_PENDING) socket.destroy();
      else this.#pending.push(socket);
      return;
    }
    tell(m.worker, { fcgi: 'conn' }, socket, (err) => {
      if (!err) return;
      // The channel closed before the handle left: the socket is still ours, unread.
      if ((socket as unknown as { _handle: unknown })._handle) this.dispatch(socket);
      else socket.destroy();
    });
  }

  /** Drains every worker; resolves true once all exited with code 0. Idempotent. */
  stop(): Promise<boolean> {
    return (this.#stopped ??= this.#stop());
  }

  #stop(): Promise<boolean> {
    this.#stopping = true;
    for (const s of this.#pending) s.destroy();
    this.#pending = [];
    return new Promise((resolve) => {
      this.#allExited = () => resolve(!this.#unclean);
      if (this.#members.size === 0) return this.#allExited();
      for (const m of this.#members.values()) {
        // A starting worker may not listen for messages yet; it has no connection either.
        if (m.state === 'starting') m.worker.process.kill('SIGTERM');
        else if (m.state === 'retiring') m.release!();
        else if (m.state === 'ready') {
          m.state = 'draining';
          tell(m.worker, { fcgi: 'shutdown' });
        }
      }
    });
  }

  /** SIGKILL to every worker still alive. */
  kill(): void {
    for (const m of this.#members.values()) m.worker.process.kill('SIGKILL');
  }

  /** The primary's and every worker's statistics (workers that do not answer within `ms` are left out). */
  collect(ms = 1000): Promise<ClusterStatus> {
    const live = [...this.#members.values()].filter((m) => m.state !== 'starting' && m.worker.isConnected());
    const id = this.#nextId++;
    const got: ProcessStats[] = [];
    return new Promise((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        this.#statsWaiters.delete(id);
        const now = Date.now();
        resolve({
          primary: {
            pid: process.pid,
            startedAt: this.#startedAt,
            uptime: Math.floor((now - this.#startedAt) / 1000),
            workers: this.size,
            restarts: this.#restarts,
          },
          workers: got.sort((a, b) => a.pid - b.pid),
        });
      };
      const timer = setTimeout(finish, ms);
      if (live.length === 0) return finish();
      this.#statsWaiters.set(id, (stats) => {
        got.push(stats);
        if (got.length === live.length) finish();
      });
      for (const m of live) tell(m.worker, { fcgi: 'stats?', id });
    });
  }

  #pick(): Member | null {
    const members = [...this.#members.values()].filter((m) => m.worker.isConnected());
    let ready = members.filter((m) => m.state === 'ready');
    // Workers about to recycle serve on while nobody else can (their replacements are starting).
    if (ready.length === 0) ready = members.filter((m) => m.state === 'retiring');
    if (ready.length === 0) return null;
    return ready[this.#turn++ % ready.length]!;
  }

  #fork(): Member {
    const worker = cluster.fork(this.#env);
    const m: Member = { worker, state: 'starting', startedAt: Date.now(), idle: false };
    this.#members.set(worker.id, m);
    worker.on('message', (message: unknown) => this.#onMessage(m, message));
    worker.on('error', (err) => logProcessLine(`fcgi: worker ${worker.process.pid}: ${err.message}`));
    worker.on('exit', (code, signal) => this.#onExit(m, code, signal));
    return m;
  }

  #onMessage(m: Member, message: unknown): void {
    if (!isMessage<ToPrimary>(message)) return;
    switch (message.fcgi) {
      case 'ready':
        if (m.state !== 'starting') return;
        m.state = 'ready';
        if (this.#stopping) {
          m.state = 'draining';
          return tell(m.worker, { fcgi: 'shutdown' });
        }
        m.onReady?.();
        for (const s of this.#pending.splice(0)) this.dispatch(s);
        return;
      case 'draining': {
        if (m.state === 'draining' || m.state === 'retiring') return;
        let timer: NodeJS.Timeout | undefined;
        m.release = () => {
          if (m.state !== 'retiring') return;
          clearTimeout(timer);
          m.state = 'draining';
          tell(m.worker, { fcgi: 'drain-ok' });
        };
        m.state = 'retiring';
        if (this.#stopping) return m.release();
        // Start its replacement now; it stops taking connections once that one is ready.
        this.#restarts++;
        this.#fork().onReady = m.release;
        timer = setTimeout(m.release, RETIRE_MS);
        return;
      }
      case 'idle':
        m.idle = message.idle;
        if (message.idle && !this.#stopping) {
          const ready = [...this.#members.values()].filter((w) => w.state === 'ready');
          if (ready.length > 0 && ready.every((w) => w.idle)) this.onAllIdle?.();
        }
        return;
      case 'stats':
        this.#statsWaiters.get(message.id)?.(message.stats);
        return;
      case 'status?':
        void this.collect().then((status) => tell(m.worker, { fcgi: 'status', id: message.id, status }));
    }
  }

  #onExit(m: Member, code: number | null, signal: string | null): void {
    this.#members.delete(m.worker.id);
    if (this.#stopping) {
      if (code !== 0 && m.state !== 'starting') this.#unclean = true;
      if (this.#members.size === 0) this.#allExited?.();
      return;
    }
    m.release?.();
    if (m.state === 'draining') return; // recycled: its replacement was started already
    this.#restarts++;
    // A worker that dies at start again and again (a broken app) is restarted ever more slowly.
    this.#quickDeaths = Date.now() - m.startedAt < 2000 ? this.#quickDeaths + 1 : 0;
    const delay = this.#quickDeaths > 0 ? Math.min(100 * 2 ** (this.#quickDeaths - 1), 5000) : 0;
    logProcessLine(
      `fcgi: worker ${m.worker.process.pid} exited (${signal ?? `code ${code}`}); starting another${delay ? ` in ${delay} ms` : ''}`,
    );
    setTimeout(() => {
      if (!this.#stopping) this.#fork();
    }, delay);
  }
}

/** The primary of serve({ workers }): listens on `target`, runs `size` workers, drains them on SIGTERM. */
export async function servePrimary(
  options: ServerOptions,
  target: ResolvedTarget,
  size: number,
  lc: ResolvedLifecycle,
): Promise<{ address: ListenAddress; workers: WorkerPool; lifecycle: Lifecycle; close(): Promise<void> }> {
  // An FcgiServer for what listenOn() does (stale socket files, socket mode, fd 0); the workers'
  // own servers run the handler and check FCGI_WEB_SERVER_ADDRS on each connection.
  if (!cluster.isPrimary)
    throw new Error('serve({ workers }) in a node:cluster worker: the workers would fork workers');
  const listener = new FcgiServer(() => {}, options);
  listener.on('error', (err: Error) => logProcessLine(`fcgi: listening socket: ${err.message}`));
  const net = listener.net;
  let address: ListenAddress | undefined;
  let pool: WorkerPool | undefined;
  const close = async () => {
    if (net.listening) {
      net.close();
      if (address?.kind === 'fd') releaseStdioListener(address.fd);
    }
    if (pool && !(await pool.stop())) throw new Error('a worker did not exit cleanly');
  };
  // Started before listening: a web server may send SIGTERM as soon as the socket accepts. The
  // workers enforce the grace period on their requests; the primary waits a little longer.
  const lifecycle = new Lifecycle(
    { close, force: () => pool?.kill() },
    { ...lc, gracefulTimeout: lc.gracefulTimeout + 1000, onShutdown: undefined },
    { watchRequests: false },
  ).start();
  try {
    address = await listener.listenOn(target);
  } catch (err) {
    lifecycle.dispose();
    throw err;
  }
  (net as unknown as { pauseOnConnect: boolean }).pauseOnConnect = true; // never read in the primary
  net.removeAllListeners('connection');
  pool = new WorkerPool(size, { [WORKER_ENV]: '1', [ADDRESS_ENV]: JSON.stringify(address) });
  const workers = pool;
  net.on('connection', (socket: Socket) => workers.dispatch(socket));
  pool.onAllIdle = () => void lifecycle.shutdown('idle');
  // A SIGTERM while listening started: no workers for a process that is exiting.
  if (!lifecycle.reason) pool.start();
  return {
    address,
    workers: pool,
    lifecycle,
    close: async () => {
      lifecycle.dispose();
      await close();
    },
  };
}
