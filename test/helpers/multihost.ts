// For test/multihost-failover.test.ts: the blocks docs/deploy/multi-host.md marks for the test (so
// the doc and the test cannot drift), a Redis server of the test's own, app processes on 127.0.0.x
// ports, and a real nginx running the doc's upstream block.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, exited, findBinary, signalPid } from './app-process.js';
import { NGINX, freePort } from './nginx.js';
import { collectOutput, descendants, killLeftovers, logReader, stopTree } from './process-tree.js';

export const REDIS_SERVER = findBinary('redis-server', ['/usr/bin/redis-server']);
export const DOC = 'docs/deploy/multi-host.md';
export const FIXTURE = 'test/fixtures/multihost-app.ts';
/** How long an app process may take to listen: eight start at once, on a machine maybe busy. */
const START_MS = 60_000;

/** Builds the fixture into one file with `fcgi bundle`, as the doc deploys an app; returns its path. */
export function bundleFixture(dir: string): string {
  const out = join(dir, 'app.fcgi');
  const r = spawnSync(process.execPath, ['packages/core/dist/cli.js', 'bundle', FIXTURE, out], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (r.status !== 0) throw new Error(`fcgi bundle failed (${r.status ?? r.signal}): ${r.stderr}${r.stdout}`);
  return out;
}

/** The fenced block that follows `<!-- test: name -->` in the doc. */
export function docBlock(name: string): string {
  const text = readFileSync(join(ROOT, DOC), 'utf8');
  const at = text.indexOf(`<!-- test: ${name} -->`);
  if (at < 0) throw new Error(`${DOC} has no block marked "<!-- test: ${name} -->"`);
  const m = /```[a-z]*\n([\s\S]*?)```/.exec(text.slice(at));
  if (!m) throw new Error(`${DOC}: no fenced block after the "${name}" marker`);
  return m[1]!;
}

/** Replaces each `from` by its `to`, throwing when one does not occur (the doc changed shape). */
export function substitute(text: string, pairs: readonly (readonly [RegExp, string])[], what: string): string {
  let out = text;
  for (const [from, to] of pairs) {
    if (!from.test(out)) throw new Error(`${what}: ${from} not found; update the test along with ${DOC}`);
    out = out.replace(new RegExp(from.source, from.flags.includes('g') ? from.flags : `${from.flags}g`), to);
  }
  return out;
}

/** A TCP port that was free a moment ago on `host` (any 127.0.0.0/8 address is on loopback). */
export function freePortOn(host: string): Promise<number> {
  if (host === '127.0.0.1') return freePort();
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const a = s.address();
      s.close(() => (a && typeof a === 'object' ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

/** Resolves once `host:port` accepts a connection; rejects after `ms` or when `gone()` says why. */
export async function waitForTcp(host: string, port: number, ms: number, gone: () => string | null): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const why = gone();
    if (why) throw new Error(why);
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, host);
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listening on ${host}:${port} after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const running = (c: ChildProcess) => c.exitCode === null && c.signalCode === null;

export interface Redis {
  readonly url: string;
  stop(): Promise<void>;
}

/** redis-server with the doc's redis.conf (bind, port and dir made the test's), in the foreground. */
export async function startRedis(): Promise<Redis> {
  if (!REDIS_SERVER) throw new Error('redis-server is not installed (apt-get install redis-server)');
  const dir = await mkdtemp(join(tmpdir(), 'fcgi-redis-'));
  const port = await freePort();
  const conf = substitute(
    docBlock('redis.conf'),
    [
      [/^bind .*$/m, 'bind 127.0.0.1'],
      [/^port .*$/m, `port ${port}`],
      [/^dir .*$/m, `dir ${dir}`],
      [/^daemonize no$/m, 'daemonize no'],
    ],
    'redis.conf',
  );
  await writeFile(join(dir, 'redis.conf'), conf);
  const child = spawn(REDIS_SERVER, [join(dir, 'redis.conf')], { stdio: ['ignore', 'pipe', 'pipe'] });
  const output = collectOutput(child);
  const redis: Redis = {
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      await stopTree(child, 5000);
      await rm(dir, { recursive: true, force: true });
    },
  };
  try {
    await waitForTcp('127.0.0.1', port, 10_000, () => (running(child) ? null : `redis-server exited: ${output()}`));
  } catch (e) {
    await redis.stop();
    throw e;
  }
  return redis;
}

export interface Backend {
  readonly host: string;
  readonly port: number;
  readonly pid: number;
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr(): string;
  /** SIGKILL by pid (and anything below it); resolves once it exited. */
  kill(): Promise<void>;
}

/** Runs `argv` with `env` (the doc unit's ExecStart= and Environment=, made the test's); waits for it. */
export async function startBackend(
  host: string,
  port: number,
  argv: readonly string[],
  env: Record<string, string>,
): Promise<Backend> {
  const full: NodeJS.ProcessEnv = { ...process.env, ...env };
  delete full.FCGI_WORKERS;
  const child = spawn(argv[0]!, argv.slice(1), { cwd: ROOT, env: full, stdio: ['ignore', 'ignore', 'pipe'] });
  const output = collectOutput(child, 1_000_000);
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  const backend: Backend = {
    host,
    port,
    pid: child.pid!,
    exit,
    stderr: output,
    async kill() {
      const below = descendants(child.pid);
      signalPid(child.pid, 'SIGKILL');
      await exited(child, 5000);
      killLeftovers(below);
    },
  };
  try {
    await waitForTcp(host, port, START_MS, () =>
      running(child) ? null : `the app exited before listening: ${output()}`,
    );
  } catch (e) {
    await backend.kill();
    throw e;
  }
  return backend;
}

export interface Front {
  readonly port: number;
  errorLog(): string;
  stop(): Promise<void>;
}

/** nginx with `httpBlock` (upstream and server, from the doc) inside the test's own http {}. */
export async function startFront(httpBlock: string): Promise<Front> {
  if (!NGINX) throw new Error('nginx is not installed (apt-get install nginx)');
  const dir = await mkdtemp(join(tmpdir(), 'fcgi-nginx-mh-'));
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((k) => `  ${k}_temp_path ${join(dir, k)};`);
  const errorLog = join(dir, 'error.log');
  await writeFile(
    join(dir, 'nginx.conf'),
    [
      'daemon off;',
      'master_process on;',
      'worker_processes 1;',
      process.getuid?.() === 0 ? 'user root;' : '',
      `pid ${join(dir, 'nginx.pid')};`,
      `error_log ${errorLog} warn;`,
      'events { worker_connections 512; }',
      'http {',
      '  access_log off;',
      ...temp,
      httpBlock,
      '}',
      '',
    ].join('\n'),
  );
  const port = Number(/listen 127\.0\.0\.1:(\d+);/.exec(httpBlock)?.[1]);
  const child = spawn(NGINX, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', errorLog], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const output = collectOutput(child);
  const readLog = logReader(errorLog);
  const front: Front = {
    port,
    errorLog: readLog,
    async stop() {
      await stopTree(child, 5000);
      await rm(dir, { recursive: true, force: true });
    },
  };
  try {
    await waitForTcp('127.0.0.1', port, 10_000, () =>
      running(child) ? null : `nginx exited: ${output()}${readLog()}`,
    );
  } catch (e) {
    await front.stop();
    throw e;
  }
  return front;
}
