// serve(): run a handler the way the host asks — FastCGI on what it gave, CGI, or, with nothing at
// all, behind the built-in HTTP gateway for local development. What only one mode needs (the CGI
// transport, the gateway and its client, the workers' pool) is imported when that mode is
// chosen, so a process started by a web server does not load the rest.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isCgiEnvironment } from './cgi/index.js';
import type { Gateway } from './gateway/index.js';
import { finishCheck, inCheckMode } from './hosting/check-mode.js';
import { loadAppEnvFile } from './hosting/env-file.js';
import { settleEnv } from './http/default-env.js';
import { fetchResponder, isFetchApp, type FetchApp, type Handler, type NodeHandler } from './http/index.js';
import {
  FcgiServer,
  hasListeningSocketOnFd0,
  resolveTarget,
  type ListenAddress,
  type ListenTarget,
  type ServerOptions,
} from './server/index.js';
import {
  resolveLifecycle,
  supervise,
  type Lifecycle,
  type LifecycleOptions,
  type ResolvedLifecycle,
} from './server/lifecycle.js';
import { WORKER_ENV } from './server/cluster-ipc.js';
import type { WorkerPool } from './server/workers.js';

export interface ServeOptions extends ServerOptions, LifecycleOptions {
  /** Where to listen when the host gives neither fd 0, FCGI_LISTEN nor a CGI environment. */
  target?: ListenTarget;
  /** Port of the development gateway; default: $PORT, else 3000. */
  port?: number;
  /** Host of the development gateway; default 127.0.0.1. */
  host?: string;
  /** Print the gateway's address on stdout (default true). */
  announce?: boolean;
  /**
   * FastCGI modes: worker processes sharing the listening socket (forks of this script, each
   * accepting on it; this process then only holds it and supervises); 'auto' = one per CPU.
   * Default 0 (env FCGI_WORKERS): serve here.
   */
  workers?: number | 'auto';
}

/** close() stops serving without exiting; `lifecycle.shutdown()` drains and exits as SIGTERM does. */
export type Serving =
  | { mode: 'fastcgi'; server: FcgiServer; address: ListenAddress; lifecycle: Lifecycle; close(): Promise<void> }
  | { mode: 'cluster'; workers: WorkerPool; address: ListenAddress; lifecycle: Lifecycle; close(): Promise<void> }
  | { mode: 'gateway'; server: FcgiServer; gateway: Gateway; url: string; lifecycle: Lifecycle; close(): Promise<void> }
  | { mode: 'cgi'; close(): Promise<void> };

/**
 * Serves `handler`, choosing in this order: a listening socket on fd 0 (mod_fcgid, spawn-fcgi,
 * lighttpd); FCGI_LISTEN; a CGI environment (one request, then the process exits); `target`;
 * otherwise the HTTP gateway on http://127.0.0.1:3000 (PORT overrides). Except in CGI mode it also
 * runs the process lifecycle (SIGTERM/SIGINT drain, recycling, idle exit, crash policy, `workers`,
 * and, started by a web server, the restart when the app's file or restart.txt changes):
 * see LifecycleOptions and docs/deploy/lifecycle.md. An app (createApp() or Express) whose `env`
 * nobody chose (no NODE_ENV, no app.set('env', ...)) runs as 'production' in every mode but the
 * gateway: 5xx answers then show no message or stack, which still go to the error log.
 *
 * First it loads the app's fcgi.env (beside its main file) unless something did already (a
 * bundle does, before the app's modules run): values that modules read while they were imported
 * were read before this. A refused fcgi.env rejects. In check mode (`node app.fcgi --check`,
 * FCGI_CHECK=1) it reports the mode it would serve in and exits instead of serving.
 */
export function serve(handler: Handler, options?: ServeOptions): Promise<Serving>;
export function serve(handler: NodeHandler, options?: ServeOptions): Promise<Serving>;
/**
 * Serves a Web-standard app: an object with a `fetch(request)` method answering a Request with a
 * Response (a Hono app itself, `{ fetch: router.fetch }` for itty-router, the `{ fetch }` that Bun
 * and Deno serve). A function is always a (req, res) handler; only an object with `fetch` is this.
 */
export function serve(app: FetchApp, options?: ServeOptions): Promise<Serving>;
export async function serve(given: Handler | NodeHandler | FetchApp, options: ServeOptions = {}): Promise<Serving> {
  const handler = isFetchApp(given) ? fetchResponder(given) : given;
  loadAppEnvFile();
  // The primary of serve({ workers }) marks its workers' environment and talks to them over IPC.
  const worker = process.env[WORKER_ENV] === '1' ? await import('./server/worker.js') : null;
  const inWorker = worker?.isClusterWorker() ?? false;
  if (inCheckMode()) finishCheck(wouldServe(options, inWorker));
  // Started by a web server (fd 0, FCGI_LISTEN): the restart check watches for a new version.
  const spawned = !inWorker && (hasListeningSocketOnFd0() || !!process.env.FCGI_LISTEN);
  const lc = resolveLifecycle(options, process.env, spawned);
  // Behind a web server an app whose env nobody chose runs as production; behind the gateway, not.
  const webServer = inWorker || hasListeningSocketOnFd0() || !!process.env.FCGI_LISTEN || isCgiEnvironment();
  settleEnv(handler, webServer || options.target !== undefined ? 'production' : 'development');
  if (worker && inWorker) {
    // A worker of serve({ workers }): the primary listens and hands it connections.
    const server = new FcgiServer(handler as Handler, options);
    const { lifecycle, close } = worker.attachWorker(server, lc);
    return { mode: 'fastcgi', server, address: worker.primaryAddress(), lifecycle, close };
  }
  if (hasListeningSocketOnFd0() || process.env.FCGI_LISTEN) {
    return fastcgi(handler, options, hasListeningSocketOnFd0() ? { fd: 0 } : process.env.FCGI_LISTEN!, lc);
  }
  if (isCgiEnvironment()) {
    const { serveCgi } = await import('./cgi/cgi.js');
    await serveCgi(handler as Handler, options);
    // Express logs an error on the turn after it answered (finalhandler's setImmediate): let it.
    await new Promise((resolve) => setImmediate(resolve));
    // A CGI process answers one request; whatever else the app keeps open must not hold it.
    process.exit(0);
  }
  if (options.target !== undefined) return fastcgi(handler, options, options.target, lc);
  return gateway(handler, options, lc);
}

/** The mode serve() picks with `options` here, in words (for check mode). */
function wouldServe(options: ServeOptions, inWorker: boolean): string {
  if (inWorker) return 'as a worker of serve({ workers })';
  if (hasListeningSocketOnFd0()) return 'FastCGI on the listening socket on fd 0 (mod_fcgid, spawn-fcgi)';
  if (process.env.FCGI_LISTEN) return `FastCGI on FCGI_LISTEN=${process.env.FCGI_LISTEN}`;
  if (isCgiEnvironment()) return 'one CGI request';
  if (options.target !== undefined) return `FastCGI on ${JSON.stringify(options.target)}`;
  return (
    'the development HTTP gateway (no web server started it here; mod_fcgid gives it a socket on fd 0, ' +
    'CGI an environment)'
  );
}

async function fastcgi(
  handler: Handler | NodeHandler,
  options: ServeOptions,
  target: ListenTarget,
  lc: ResolvedLifecycle,
): Promise<Serving> {
  const asked = options.workers ?? process.env.FCGI_WORKERS;
  if (asked !== undefined && asked !== '' && asked !== 0) {
    const { servePrimary, workerCount } = await import('./server/workers.js');
    const workers = workerCount(asked);
    if (workers > 0) return { mode: 'cluster', ...(await servePrimary(options, resolveTarget(target), workers, lc)) };
  }
  const server = new FcgiServer(handler as Handler, options);
  const { lifecycle, close } = supervise(() => server.close(), lc);
  try {
    const address = await server.listenOn(resolveTarget(target));
    return { mode: 'fastcgi', server, address, lifecycle, close };
  } catch (err) {
    lifecycle.dispose();
    throw err;
  }
}

async function gateway(handler: Handler | NodeHandler, options: ServeOptions, lc: ResolvedLifecycle): Promise<Serving> {
  // The app speaks real FastCGI on a private socket; the gateway is the web server in front.
  const dir = mkdtempSync(join(tmpdir(), 'fcgi-dev-'));
  const socketPath = join(dir, 'app.sock');
  const { createGateway } = await import('./gateway/index.js');
  const server = new FcgiServer(handler as Handler, options);
  const gw = createGateway({ to: socketPath, serverSoftware: 'fcgi-dev-gateway' });
  const port = options.port ?? (Number(process.env.PORT) || 3000);
  const host = options.host ?? '127.0.0.1';
  const { lifecycle, close } = supervise(async () => {
    await gw.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }, lc);
  try {
    await server.listenOn({ kind: 'unix', path: socketPath });
    await new Promise<void>((resolve, reject) => {
      gw.server.once('error', reject);
      gw.server.listen(port, host, () => {
        gw.server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    // A port in use must not leave a FastCGI server and its socket dir behind.
    await close();
    throw err;
  }
  const bound = gw.server.address();
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${typeof bound === 'object' && bound ? bound.port : port}`;
  if (options.announce !== false)
    console.log(`@fcgi: serving on ${url} (development gateway; FastCGI on ${socketPath})`);
  return { mode: 'gateway', server, gateway: gw, url, lifecycle, close };
}
