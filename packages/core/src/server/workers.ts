// serve({ workers: N }): one primary process holds the listening socket (fd 0 from mod_fcgid or
// spawn-fcgi, a unix socket, a TCP port) without accepting on it, and shares it with N worker
// processes (forks of the app's script), which accept on it themselves, as PHP-FPM's children do:
// handing each connection over IPC cost more than the request when the web server opens one per
// request (keep-conn off). So that connections a web server keeps spread evenly, a worker pauses
// accepting at a cap of open connections (shared-accept.ts): the fair share of all the ready
// workers' open connections plus one, raised and lowered as the counts they report change.
// A worker that dies is replaced; one that recycles itself (maxRequestsPerProcess) stops
// accepting and is replaced; SIGTERM to the primary drains every worker, then the primary exits.
import { fork, type ChildProcess } from 'node:child_process';
import cluster from 'node:cluster';
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
import type { ListenAddress, ServerOptions } from './server.js';
import type { ResolvedTarget } from './listen-target.js';
import { openSharedListener, type ServerHandle } from './shared-listener.js';
import type { ProcessStats } from './stats.js';
import { logProcessLine } from '../http/log-line.js';

/** Connections a worker may hold above the fair share before it pauses accepting. */
const CAP_SLACK = 1;

/** Longest the pool's first workers wait for each other before the ready ones accept. */
const START_GATE_MS = 5000;

/** Listen backlog the workers set on the shared socket when the options give none (as FcgiServer). */
const BACKLOG = 2048;

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
  id: number;
  worker: ChildProcess;
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
  /** Open connections, as the worker last reported them (at a pause or resume). */
  open: number;
}

function tell(worker: ChildProcess, message: ToWorker, handle?: ServerHandle): void {
  if (!worker.connected) return;
  worker.send(message, handle as never, () => {});
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
  readonly #listener: ServerHandle;
  readonly #backlog: number;
  /** Open connections at which a worker stops accepting (#setCap). */
  #cap = 1;
  /**
   * The pool's first workers are still starting: none accepts yet (connections queue in the
   * backlog), so the first kept connections a web server opens spread over all of them instead
   * of staying with whichever was ready first. Open once all are ready, one exited, or after
   * START_GATE_MS.
   */
  #gated = true;
  #gateTimer: NodeJS.Timeout | undefined;
  #restarts = 0;
  #quickDeaths = 0;
  #nextId = 1;
  #stopping = false;
  #unclean = false;
  #allExited: (() => void) | null = null;
  #stopped: Promise<boolean> | null = null;

  constructor(size: number, env: Record<string, string>, listener: ServerHandle, backlog: number) {
    this.size = size;
    this.#env = env;
    this.#listener = listener;
    this.#backlog = backlog;
  }

  /** Pids of the workers alive now (a recycling one and its replacement both count). */
  get pids(): number[] {
    return [...this.#members.values()].map((m) => m.worker.pid!).filter((p) => p !== undefined);
  }

  /** Workers started to replace one that exited or recycled itself. */
  get restarts(): number {
    return this.#restarts;
  }

  start(): void {
    for (let i = 0; i < this.size; i++) this.#fork();
    if (this.size <= 1) this.#gated = false;
    else this.#gateTimer = setTimeout(() => this.#openGate(), START_GATE_MS).unref();
  }

  /** Lets every ready worker accept, with the cap they share. */
  #openGate(): void {
    if (!this.#gated) return;
    this.#gated = false;
    clearTimeout(this.#gateTimer);
    this.#setCap();
    for (const w of this.#members.values()) if (w.state === 'ready') this.#share(w);
  }

  /** Drains every worker; resolves true once all exited with code 0. Idempotent. */
  stop(): Promise<boolean> {
    return (this.#stopped ??= this.#stop());
  }

  #stop(): Promise<boolean> {
    this.#stopping = true;
    return new Promise((resolve) => {
      this.#allExited = () => resolve(!this.#unclean);
      if (this.#members.size === 0) return this.#allExited();
      for (const m of this.#members.values()) {
        // A starting worker may not listen for messages yet; it has no connection either.
        if (m.state === 'starting') m.worker.kill('SIGTERM');
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
    for (const m of this.#members.values()) m.worker.kill('SIGKILL');
  }

  /** The primary's and every worker's statistics (workers that do not answer within `ms` are left out). */
  collect(ms = 1000): Promise<ClusterStatus> {
    const live = [...this.#members.values()].filter((m) => m.state !== 'starting' && m.worker.connected);
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

  #fork(): Member {
    // The same script with the same arguments and Node options; it sees WORKER_ENV and serves.
    // Not node:cluster: its workers' listen() goes through the primary. stdin is not the web
    // server's socket in a worker (fd 0 stays with the primary; a worker gets the listening socket
    // over IPC, close-on-exec, so processes it starts do not hold it open).
    const worker = fork(process.argv[1]!, process.argv.slice(2), {
      env: { ...process.env, ...this.#env },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const m: Member = {
      id: this.#nextId++,
      worker,
      state: 'starting',
      startedAt: Date.now(),
      idle: false,
      open: 0,
    };
    this.#members.set(m.id, m);
    worker.on('message', (message: unknown) => this.#onMessage(m, message));
    worker.on('error', (err) => logProcessLine(`fcgi: worker ${worker.pid}: ${err.message}`));
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
        if (this.#gated) {
          if ([...this.#members.values()].every((w) => w.state !== 'starting')) this.#openGate();
        } else {
          // It holds nothing yet: the cap comes down, and the others pause until it caught up.
          this.#setCap();
          this.#share(m);
        }
        m.onReady?.();
        return;
      case 'full':
      case 'room':
        m.open = message.open;
        this.#setCap();
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
        // It accepts no more: its connections leave the share.
        this.#setCap();
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

  /** Sends the listening socket to `m`, which accepts on it (pausing at the cap) until it drains. */
  #share(m: Member): void {
    tell(m.worker, { fcgi: 'listen', cap: this.size > 1 ? this.#cap : 0, backlog: this.#backlog }, this.#listener);
  }

  /**
   * The cap is the fair share of the open connections the ready workers reported, plus CAP_SLACK:
   * a worker above it pauses until the others catch up, whatever the order they started in; when
   * every worker is at the cap, the share (at least the cap) gives one more each. Counts come with
   * pauses and resumes only, so the primary does nothing per connection; a worker's count may have
   * grown since (below the cap) or shrunk (while paused): it reports again when that matters.
   */
  #setCap(): void {
    if (this.#stopping || this.size <= 1) return;
    const ready = [...this.#members.values()].filter((w) => w.state === 'ready');
    if (ready.length === 0) return;
    const open = ready.reduce((n, w) => n + w.open, 0);
    const cap = Math.ceil(open / ready.length) + CAP_SLACK;
    if (cap === this.#cap) return;
    this.#cap = cap;
    for (const w of ready) tell(w.worker, { fcgi: 'cap', cap });
  }

  #onExit(m: Member, code: number | null, signal: string | null): void {
    this.#members.delete(m.id);
    // A first worker that died starting: the others serve now (its replacement joins later).
    if (this.#gated && !this.#stopping) this.#openGate();
    // The others may all be full, waiting for this one.
    this.#setCap();
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
      `fcgi: worker ${m.worker.pid} exited (${signal ?? `code ${code}`}); starting another${delay ? ` in ${delay} ms` : ''}`,
    );
    setTimeout(() => {
      if (!this.#stopping) this.#fork();
    }, delay);
  }
}

/** The primary of serve({ workers }): holds `target`, runs `size` workers, drains them on SIGTERM. */
export async function servePrimary(
  options: ServerOptions,
  target: ResolvedTarget,
  size: number,
  lc: ResolvedLifecycle,
): Promise<{ address: ListenAddress; workers: WorkerPool; lifecycle: Lifecycle; close(): Promise<void> }> {
  if (!cluster.isPrimary || process.env[WORKER_ENV] === '1')
    throw new Error('serve({ workers }) in a worker: the workers would fork workers');
  let listener: Awaited<ReturnType<typeof openSharedListener>> | undefined;
  let pool: WorkerPool | undefined;
  const close = async () => {
    listener?.close();
    listener = undefined;
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
    listener = await openSharedListener(target, {
      socketMode: options.socketMode,
      backlog: options.backlog ?? BACKLOG,
    });
  } catch (err) {
    lifecycle.dispose();
    throw err;
  }
  const address = listener.address;
  pool = new WorkerPool(
    size,
    { [WORKER_ENV]: '1', [ADDRESS_ENV]: JSON.stringify(address) },
    listener.handle,
    options.backlog ?? BACKLOG,
  );
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
