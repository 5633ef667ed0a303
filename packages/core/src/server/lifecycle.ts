// The life a web server imposes on a FastCGI app process: mod_fcgid, lighttpd and supervisors retire
// it with SIGTERM (SIGKILL a few seconds later), so it drains and exits promptly; it may recycle
// itself after N requests (as PHP-FPM's pm.max_requests) or exit when idle; and an error outside
// any request is logged, then either served past (a rejection) or answered by a clean exit once the
// requests in flight are done (an exception: the process state is unknown); and, started by a web
// server, it exits the same way when its own file is replaced or a restart.txt beside it is touched.
import { logProcessLine } from '../http/log-line.js';
import { watchForRestart, type RestartWatch } from './restart-watch.js';
import { liveCounters, onRequestActivity } from './stats.js';

/** A restart found while idle waits this long for a request to start before it closes anyway. */
const RESTART_QUIET_MS = 250;

export interface LifecycleOptions {
  /**
   * Milliseconds requests in flight get to finish after a shutdown begins; then the process exits
   * anyway (code 1). Default 5000 (env FCGI_GRACEFUL_TIMEOUT): shorter than mod_fcgid's SIGKILL delay.
   */
  gracefulTimeout?: number;
  /** Drain and exit on SIGTERM and SIGINT (a second SIGINT exits at once). Default true. */
  handleSignals?: boolean;
  /**
   * Unhandled rejections are logged and the process serves on; an uncaught exception is logged,
   * the requests in flight finish, and the process exits with code 1. Default true; false leaves
   * Node's own behaviour (crash at once).
   */
  handleErrors?: boolean;
  /** Recycle after this many requests: stop accepting, finish, exit 0. 0 = never (default; env FCGI_MAX_REQUESTS_PER_PROCESS). */
  maxRequestsPerProcess?: number;
  /** Exit 0 after this many milliseconds without a request in flight. 0 = never (default; env FCGI_IDLE_TIMEOUT). */
  idleTimeout?: number;
  /**
   * Milliseconds between looks at the app's main file (the real path of process.argv[1] at start:
   * its inode, size and time) and at a restart.txt beside it; on a change the process drains and
   * exits 0 as on SIGTERM, so the web server starts the new version. 0 = never. Default 1000 when
   * a web server started the process (fd 0, FCGI_LISTEN), else 0 (env FCGI_RESTART_CHECK_INTERVAL).
   */
  restartCheckInterval?: number;
  /** Runs after the last request finished, before the exit (close pools, flush logs); within the grace period. */
  onShutdown?(reason: ShutdownReason): void | Promise<void>;
}

export type ShutdownReason =
  | 'SIGTERM'
  | 'SIGINT'
  | 'max-requests'
  | 'idle'
  | 'uncaught-exception'
  | 'primary'
  | 'file-changed';

export interface ResolvedLifecycle {
  gracefulTimeout: number;
  handleSignals: boolean;
  handleErrors: boolean;
  maxRequestsPerProcess: number;
  idleTimeout: number;
  restartCheckInterval: number;
  onShutdown: LifecycleOptions['onShutdown'];
}

function count(name: string, value: number | string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isInteger(n) || n < 0)
    throw new RangeError(`${name} must be a whole number >= 0, not ${JSON.stringify(value)}`);
  return n;
}

/**
 * Options first, then the environment (a host sets these with FcgidInitialEnv), then defaults;
 * `fromWebServer`: a web server started this process (the restart check is then on by default).
 */
export function resolveLifecycle(
  o: LifecycleOptions,
  env: NodeJS.ProcessEnv = process.env,
  fromWebServer = false,
): ResolvedLifecycle {
  return {
    gracefulTimeout: count('gracefulTimeout', o.gracefulTimeout ?? env.FCGI_GRACEFUL_TIMEOUT, 5000),
    handleSignals: o.handleSignals ?? true,
    handleErrors: o.handleErrors ?? true,
    maxRequestsPerProcess: count(
      'maxRequestsPerProcess',
      o.maxRequestsPerProcess ?? env.FCGI_MAX_REQUESTS_PER_PROCESS,
      0,
    ),
    idleTimeout: count('idleTimeout', o.idleTimeout ?? env.FCGI_IDLE_TIMEOUT, 0),
    restartCheckInterval: count(
      'restartCheckInterval',
      o.restartCheckInterval ?? env.FCGI_RESTART_CHECK_INTERVAL,
      fromWebServer ? 1000 : 0,
    ),
    onShutdown: o.onShutdown,
  };
}

/** What the lifecycle stops. */
export interface LifecycleTarget {
  /**
   * A first step the grace period does not cover: hand over before stopping (a cluster worker
   * waits until the primary stops sending it connections). Should bound its own wait.
   */
  beforeClose?(): Promise<void>;
  /** Stop taking work; resolve once everything in flight is done. */
  close(): Promise<void>;
  /** The grace period ran out: end what is left by force (the process exits next). */
  force?(): void;
}

export interface LifecycleHooks {
  /** Replaces process.exit (tests). */
  exit?(code: number): void;
  /** Replaces the stderr line writer. */
  log?(line: string): void;
  /** Given, idleness is reported here instead of ending the process (a cluster worker tells its primary). */
  onIdleChange?(idle: boolean): void;
  /** False where no request is served (a cluster primary): no recycling or idle watch. Default true. */
  watchRequests?: boolean;
  /** The file the restart check watches (restart.txt is looked for beside it); default process.argv[1]. */
  mainFile?: string;
}

function describe(err: unknown): string {
  return err instanceof Error ? (err.stack ?? err.message) : String(err);
}

export class Lifecycle {
  readonly options: ResolvedLifecycle;
  readonly #target: LifecycleTarget;
  readonly #hooks: LifecycleHooks;
  readonly #listeners: [string, (...args: any[]) => void][] = [];
  #stopping: Promise<void> | null = null;
  #reason: ShutdownReason | null = null;
  #unwatch: (() => void) | null = null;
  #idleTimer: NodeJS.Timeout | null = null;
  #restartWatch: RestartWatch | null = null;
  #reportedIdle = false;
  #disposed = false;
  #exited = false;

  constructor(target: LifecycleTarget, options: ResolvedLifecycle, hooks: LifecycleHooks = {}) {
    this.#target = target;
    this.options = options;
    this.#hooks = hooks;
  }

  /** Why the shutdown began, or null while running. */
  get reason(): ShutdownReason | null {
    return this.#reason;
  }

  /** Installs the signal and error handlers and the request watch the options ask for. */
  start(): this {
    const o = this.options;
    if (o.handleSignals) {
      this.#on('SIGTERM', () => void this.shutdown('SIGTERM'));
      this.#on('SIGINT', () => {
        // Ctrl-C twice: the developer does not want to wait.
        if (this.#stopping) return this.#forceExit('a second SIGINT', 130);
        void this.shutdown('SIGINT');
      });
    }
    if (o.handleErrors) {
      this.#on('unhandledRejection', (reason: unknown) => {
        this.#log(`fcgi: unhandled promise rejection (serving on): ${describe(reason)}`);
      });
      this.#on('uncaughtException', (err: unknown) => {
        const then = this.#stopping ? 'already shutting down' : 'finishing the requests in flight, then exiting';
        this.#log(`fcgi: uncaught exception (${then}): ${describe(err)}`);
        void this.shutdown('uncaught-exception', 1);
      });
    }
    if (this.#hooks.watchRequests !== false && (o.maxRequestsPerProcess > 0 || o.idleTimeout > 0)) {
      this.#unwatch = onRequestActivity((started) => this.#activity(started));
      if (o.idleTimeout > 0) this.#armIdle(o.idleTimeout);
    }
    const main = this.#hooks.mainFile ?? process.argv[1];
    if (o.restartCheckInterval > 0 && main) {
      this.#restartWatch = watchForRestart(main, o.restartCheckInterval, (why) =>
        this.#whenSafeToClose(() => {
          if (this.#stopping || this.#disposed) return;
          const active = liveCounters().active;
          this.#log(`fcgi: ${why}: finishing ${active} request(s) in flight, then exiting for the new version`);
          void this.shutdown('file-changed');
        }),
      );
    }
    return this;
  }

  /**
   * Stops taking work, lets what is in flight finish within gracefulTimeout, runs onShutdown, then
   * exits with `code`. Idempotent: later calls return the first shutdown.
   */
  shutdown(reason: ShutdownReason, code = 0): Promise<void> {
    if (this.#stopping) return this.#stopping;
    this.#reason = reason;
    this.#stopIdle();
    this.#restartWatch?.stop();
    this.#stopping = (async () => {
      // No await without a hand-over: the listening socket then closes before this call returns
      // (a shutdown begun as a request starts closes it before that request is answered).
      if (this.#target.beforeClose) {
        try {
          await this.#target.beforeClose();
        } catch (err) {
          this.#log(`fcgi: error while handing over: ${describe(err)}`);
        }
      }
      const timer = setTimeout(() => {
        this.#forceExit(`requests still in flight after gracefulTimeout (${this.options.gracefulTimeout} ms)`, 1);
      }, this.options.gracefulTimeout);
      try {
        await this.#target.close();
      } catch (err) {
        this.#log(`fcgi: error while closing: ${describe(err)}`);
        code ||= 1;
      }
      try {
        await this.options.onShutdown?.(reason);
      } catch (err) {
        this.#log(`fcgi: onShutdown failed: ${describe(err)}`);
        code ||= 1;
      }
      clearTimeout(timer);
      this.dispose();
      this.#exit(code);
    })();
    return this.#stopping;
  }

  /** Removes every handler this lifecycle installed; a shutdown under way goes on. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    for (const [event, fn] of this.#listeners) process.off(event, fn);
    this.#listeners.length = 0;
    this.#unwatch?.();
    this.#unwatch = null;
    this.#stopIdle();
    this.#restartWatch?.stop();
    this.#restartWatch = null;
  }

  #on(event: string, fn: (...args: any[]) => void): void {
    process.on(event, fn);
    this.#listeners.push([event, fn]);
  }

  #activity(started: boolean): void {
    const o = this.options;
    const c = liveCounters();
    if (started) {
      if (o.maxRequestsPerProcess > 0 && c.requests >= o.maxRequestsPerProcess) void this.shutdown('max-requests');
      if (this.#reportedIdle) {
        this.#reportedIdle = false;
        this.#hooks.onIdleChange?.(false);
      }
    } else if (c.active === 0 && o.idleTimeout > 0 && !this.#idleTimer && !this.#stopping) {
      this.#armIdle(o.idleTimeout);
    }
  }

  #armIdle(ms: number): void {
    this.#idleTimer = setTimeout(() => {
      this.#idleTimer = null;
      const c = liveCounters();
      if (c.active > 0 || this.#stopping || this.#disposed) return; // the next end re-arms it
      const idleFor = Date.now() - c.lastActivity;
      if (idleFor < this.options.idleTimeout) return this.#armIdle(this.options.idleTimeout - idleFor);
      if (this.#hooks.onIdleChange) {
        if (!this.#reportedIdle) {
          this.#reportedIdle = true;
          this.#hooks.onIdleChange(true);
        }
      } else {
        void this.shutdown('idle');
      }
    }, ms);
    this.#idleTimer.unref();
  }

  /**
   * Runs `close` at a moment when closing the listening socket loses nothing. mod_fcgid gives a
   * process a new connection only once it answered the last one, and connects and writes at any
   * moment while it is idle: closing then would reset a connection that waits in the backlog
   * (Apache: "Connection reset by peer ... End of script output before headers"). So: at once
   * while a request is in flight; otherwise when the next request starts (it is still served),
   * or after RESTART_QUIET_MS without one.
   */
  #whenSafeToClose(close: () => void): void {
    if (liveCounters().active > 0) return close();
    let done = false;
    const once = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      unwatch();
      close();
    };
    const unwatch = onRequestActivity((started) => {
      if (started) once();
    });
    const timer = setTimeout(once, RESTART_QUIET_MS);
    timer.unref();
  }

  #stopIdle(): void {
    if (this.#idleTimer) clearTimeout(this.#idleTimer);
    this.#idleTimer = null;
  }

  #forceExit(why: string, code: number): void {
    this.#log(`fcgi: ${why}: exiting now (${liveCounters().active} request(s) cut)`);
    try {
      this.#target.force?.();
    } finally {
      this.dispose();
      this.#exit(code);
    }
  }

  #log(line: string): void {
    if (this.#hooks.log) this.#hooks.log(line);
    else logProcessLine(line);
  }

  #exit(code: number): void {
    if (this.#exited) return;
    this.#exited = true;
    if (this.#hooks.exit) this.#hooks.exit(code);
    else process.exit(code);
  }
}

/**
 * Starts a lifecycle for something serve() is starting; call it before listening, since a web
 * server may send SIGTERM as soon as the socket accepts. The close() it returns also removes the
 * lifecycle's handlers (closing by hand is not a shutdown: the process does not exit).
 */
export function supervise(
  close: () => Promise<void>,
  options: ResolvedLifecycle,
): { lifecycle: Lifecycle; close(): Promise<void> } {
  const lifecycle = new Lifecycle({ close }, options).start();
  return {
    lifecycle,
    close: () => {
      lifecycle.dispose();
      return close();
    },
  };
}
