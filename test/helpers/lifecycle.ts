// For the lifecycle, workers, authorizer, status and failover tests: test/fixtures/lifecycle-app.ts
// as a child process (its exit code and stderr kept), a real nginx in front of one or more upstream
// addresses (unix or TCP, with fastcgi_next_upstream and keepalive), and small HTTP helpers.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, exited, signalPid, waitForListener } from './app-process.js';
import { NGINX, fetchRaw, freePort, type HttpResult } from './nginx.js';
import { descendants, killLeftovers } from './process-tree.js';

export const APP = 'test/fixtures/lifecycle-app.ts';

export interface AppChild {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Resolves with how the process ended. */
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr(): string;
  /** SIGKILL to it and every process below it (workers), by pid; resolves once it exited. */
  kill(): Promise<void>;
}

export interface AppSpawn {
  /** FCGI_LISTEN: a socket path or 127.0.0.1:port. Not set with `command` (which gives fd 0). */
  listen?: string;
  /** serve() options, as JSON in LIFECYCLE_APP_OPTIONS. */
  options?: Record<string, unknown>;
  env?: Record<string, string>;
  /** Run through this command first (spawn-fcgi -n ... --). */
  command?: string[];
  /** What to wait for before resolving: a socket path or a TCP port, or false: nothing. Default: `listen`. */
  waitFor?: string | number | false;
}

/** Starts the fixture app with tsx; resolves once it accepts connections. */
export async function startAppChild(o: AppSpawn): Promise<AppChild> {
  const env: NodeJS.ProcessEnv = { ...process.env, ...o.env, LIFECYCLE_APP_OPTIONS: JSON.stringify(o.options ?? {}) };
  delete env.FCGI_LISTEN;
  delete env.FCGI_WEB_SERVER_ADDRS;
  if (o.listen) env.FCGI_LISTEN = o.listen;
  const argv = [...(o.command ?? []), process.execPath, '--import', 'tsx', APP];
  const child = spawn(argv[0]!, argv.slice(1), { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (s: string) => {
    if (err.length < 1_000_000) err += s;
  });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  const app: AppChild = {
    child,
    pid: child.pid!,
    exit,
    stderr: () => err,
    async kill() {
      const below = descendants(child.pid);
      signalPid(child.pid, 'SIGKILL');
      await exited(child, 5000);
      killLeftovers(below);
    },
  };
  const target =
    o.waitFor ?? (o.listen && /^127\.0\.0\.1:(\d+)$/.test(o.listen) ? Number(o.listen.split(':')[1]) : o.listen);
  if (target === false) return app;
  try {
    await waitForListener(target!, 20_000, () =>
      child.exitCode !== null || child.signalCode !== null ? `the app exited before listening: ${err}` : null,
    );
  } catch (e) {
    await app.kill();
    throw e;
  }
  return app;
}

/** Resolves once `cond()` holds (polled every 20 ms), or rejects after `ms`. */
export async function until(cond: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export interface NginxFront {
  readonly port: number;
  errorLog(): string;
  stop(): Promise<void>;
}

/**
 * A real nginx passing everything to the FastCGI `upstreams` ("unix:/path" or "127.0.0.1:port")
 * with keepalive and `fastcgi_next_upstream error timeout` (nginx's default, spelled out).
 */
export async function startNginxFront(upstreams: readonly string[], extra = ''): Promise<NginxFront> {
  if (!NGINX) throw new Error('nginx is not installed (apt-get install nginx)');
  const dir = await mkdtemp(join(tmpdir(), 'fcgi-nginx-lc-'));
  const port = await freePort();
  const user = process.getuid?.() === 0 ? 'user root;\n' : '';
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
    .map((k) => `  ${k}_temp_path ${join(dir, k)};`)
    .join('\n');
  await writeFile(
    join(dir, 'nginx.conf'),
    `daemon off;
master_process on;
worker_processes 1;
${user}pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'error.log')} warn;
events { worker_connections 512; }
http {
  access_log off;
${temp}
  upstream app {
${upstreams.map((u) => `    server ${u} max_fails=1 fail_timeout=10s;`).join('\n')}
    keepalive 16;
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      include /etc/nginx/fastcgi_params;
      fastcgi_pass app;
      fastcgi_keep_conn on;
      fastcgi_next_upstream error timeout;
      fastcgi_connect_timeout 2s;
${extra}
    }
  }
}
`,
  );
  const errorLog = join(dir, 'error.log');
  const child = spawn(NGINX, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', errorLog], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let out = '';
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (out += s));
  const readLog = () => {
    try {
      return readFileSync(errorLog, 'utf8');
    } catch {
      return '';
    }
  };
  const front: NginxFront = {
    port,
    errorLog: readLog,
    async stop() {
      const workers = descendants(child.pid);
      signalPid(child.pid, 'SIGTERM');
      if (!(await exited(child, 5000))) signalPid(child.pid, 'SIGKILL');
      await exited(child, 2000);
      killLeftovers(workers);
      await rm(dir, { recursive: true, force: true });
    },
  };
  try {
    await waitForListener(port, 10_000, () => (child.exitCode !== null ? `nginx exited: ${out}${readLog()}` : null));
  } catch (e) {
    await front.stop();
    throw e;
  }
  return front;
}

/** One connection per request (no client keep-alive), so a test sees each request's own fate. */
export const oneShot = new Agent({ keepAlive: false, maxSockets: Infinity });

export function get(port: number, path: string, headers: Record<string, string> = {}): Promise<HttpResult> {
  return fetchRaw(port, path, { agent: oneShot, headers, timeoutMs: 20_000 });
}

/** GET `path` and parse its JSON body (asserting nothing: callers check status). */
export async function getJson<T = Record<string, unknown>>(
  port: number,
  path: string,
): Promise<{ status: number; body: T; raw: string }> {
  const r = await get(port, path);
  const raw = r.body.toString('utf8');
  let body: T;
  try {
    body = JSON.parse(raw) as T;
  } catch {
    body = {} as T;
  }
  return { status: r.status, body, raw };
}
