// A real nginx (Debian's package) for end-to-end tests: its own prefix, config, logs and temp paths
// in a fresh temp dir, listening on a free loopback port, passing every request by FastCGI to one
// app on a unix socket with kept-alive upstream connections. Plus a small HTTP client for it.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request as httpRequest, type Agent, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exited, findBinary, signalPid, waitForListener } from './app-process.js';
import { collectOutput, logReader } from './process-tree.js';

export const NGINX = findBinary('nginx', ['/usr/sbin/nginx']);

export interface Nginx {
  readonly port: number;
  readonly dir: string;
  readonly child: ChildProcess;
  /** The error log as it is now ("FastCGI sent in stderr" lines, upstream errors). */
  errorLog(): string;
  /** Stops nginx and its workers by pid, then removes the temp dir. */
  stop(): Promise<void>;
}

/** A port that was free a moment ago on 127.0.0.1 (bind port 0, read it, close). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (a && typeof a === 'object' ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

// keepalive_requests (client side and upstream side) defaults to 1000: raised, so a test can tell a
// connection nginx dropped for cause from one it retired after its 1000th request.
function config(dir: string, port: number, socket: string, logLevel: string, locations: string): string {
  const user = process.getuid?.() === 0 ? 'user root;\n' : '';
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
    .map((k) => `  ${k}_temp_path ${join(dir, k)};`)
    .join('\n');
  return `daemon off;
master_process on;
worker_processes 1;
${user}pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'error.log')} ${logLevel};
events { worker_connections 256; }
http {
  access_log off;
${temp}
  keepalive_requests 10000;
  upstream app {
    server unix:${socket};
    keepalive 8;
    keepalive_requests 10000;
  }
  server {
    listen 127.0.0.1:${port};
    server_name localhost;
    client_max_body_size 50m;
    location / {
      include /etc/nginx/fastcgi_params;
      fastcgi_param SCRIPT_NAME $fastcgi_script_name;
      fastcgi_pass app;
      fastcgi_keep_conn on;
    }
${locations}  }
}
`;
}

/** Pids whose parent is `ppid` (nginx's workers), read from /proc. */
function childrenOf(ppid: number | undefined): number[] {
  if (ppid === undefined) return [];
  const out: number[] = [];
  let entries: string[] = [];
  try {
    entries = readdirSync('/proc');
  } catch {
    return out;
  }
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    try {
      // "pid (comm) state ppid ...": comm may hold spaces, so read after the last ')'.
      const stat = readFileSync(`/proc/${name}/stat`, 'latin1');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === ppid) out.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

export interface NginxOptions {
  /** error_log level; default warn ("FastCGI sent in stderr" and upstream errors are at error). */
  logLevel?: string;
  startMs?: number;
  /** More directives for the server block (an `internal` location, say). */
  locations?: string;
}

/** True while `pid` is still an nginx process ("nginx: worker process"), not a reused pid. */
function isNginx(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'latin1').startsWith('nginx:');
  } catch {
    return false;
  }
}

/** Starts nginx in front of the FastCGI app on unix socket `socket`; resolves once it accepts connections. */
export async function startNginx(socket: string, options: NginxOptions = {}): Promise<Nginx> {
  const startMs = options.startMs ?? 10_000;
  if (!NGINX) throw new Error('nginx is not installed (apt-get install nginx)');
  let lastError: Error | null = null;
  // The port may be taken between choosing and binding it: retry a few times.
  for (let attempt = 0; attempt < 3; attempt++) {
    const dir = await mkdtemp(join(tmpdir(), 'fcgi-nginx-'));
    const port = await freePort();
    const errorLog = join(dir, 'error.log');
    await writeFile(
      join(dir, 'nginx.conf'),
      config(dir, port, socket, options.logLevel ?? 'warn', options.locations ?? ''),
    );
    const child = spawn(NGINX, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', errorLog], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const output = collectOutput(child);
    const readLog = logReader(errorLog);
    const nginx: Nginx = {
      port,
      dir,
      child,
      errorLog: readLog,
      async stop() {
        if (child.exitCode === null && child.signalCode === null) {
          const workers = childrenOf(child.pid);
          signalPid(child.pid, 'SIGTERM'); // fast shutdown: the workers exit with the master
          if (!(await exited(child, 5000))) {
            signalPid(child.pid, 'SIGKILL');
            await exited(child, 2000);
            // A master killed hard leaves its workers running: end those still alive by pid.
            for (const pid of workers) if (isNginx(pid)) signalPid(pid, 'SIGKILL');
          }
        }
        await rm(dir, { recursive: true, force: true });
      },
    };
    try {
      await waitForListener(port, startMs, () =>
        child.exitCode !== null || child.signalCode !== null || output().includes('spawn failed')
          ? `nginx exited before listening: ${output()}${readLog()}`
          : null,
      );
      return nginx;
    } catch (e) {
      lastError = e as Error;
      await nginx.stop();
      if (!/in use/i.test(lastError.message)) break;
    }
  }
  throw lastError ?? new Error('nginx did not start');
}

export interface HttpResult {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** The client socket that carried the exchange (to tell keep-alive reuse). */
  socket: object;
}

export interface HttpOptions {
  method?: string;
  headers?: OutgoingHttpHeaders;
  body?: Buffer;
  agent?: Agent;
  timeoutMs?: number;
}

/** One HTTP/1.1 exchange with 127.0.0.1:`port`, the whole response body buffered. */
export function fetchRaw(port: number, path: string, options: HttpOptions = {}): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        path,
        method: options.method ?? 'GET',
        headers: options.headers,
        agent: options.agent,
        timeout: options.timeoutMs ?? 20_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks),
            socket: req.socket!,
          }),
        );
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${options.method ?? 'GET'} ${path} timed out`)));
    req.on('error', reject);
    req.end(options.body);
  });
}
