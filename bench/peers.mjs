// The peers measured through nginx, and the rows of the throughput table (which peer, over which
// transport, with keep-conn on or off, which URL). Every peer answers "Hello World\n" as text/plain
// (the JSON rows answer a small object), and is started and stopped by pid for each measurement.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run, startProcess } from './lib/proc.mjs';

export const ROOT = new URL('..', import.meta.url).pathname.replace(/\/$/, '');
const APPS = join(ROOT, 'bench/apps');
const GO = ['/usr/bin/go', '/usr/lib/go/bin/go', '/usr/local/go/bin/go'].find((p) => existsSync(p));
const GCC = ['/usr/bin/gcc', '/usr/bin/cc'].find((p) => existsSync(p));
const FCGIAPP_H = '/usr/include/fcgiapp.h';
const PHP_FPM = (() => {
  try {
    const names = readdirSync('/usr/sbin')
      .filter((n) => /^php-fpm\d+(\.\d+)?$/.test(n))
      .sort();
    return names.length ? join('/usr/sbin', names.at(-1)) : undefined;
  } catch {
    return undefined;
  }
})();
const NODE_ENV = { ...process.env, NODE_ENV: 'production' };

/** `socket` in `dir` for 'unix', or 127.0.0.1:port. The string the app is given, and nginx's name for it. */
export function address(transport, dir, port) {
  if (transport === 'unix')
    return { arg: join(dir, 'app.sock'), listen: join(dir, 'app.sock'), server: `unix:${join(dir, 'app.sock')}` };
  return { arg: `127.0.0.1:${port}`, listen: port, server: `127.0.0.1:${port}` };
}

const node = (file) => (addr) =>
  startProcess(process.execPath, [join(APPS, file), addr.arg], { listen: addr.listen, env: NODE_ENV, cwd: ROOT });

/** Go's net/http/fcgi hello, compiled once per run: GOPATH mode, standard library only, no network. */
let goBinary;
async function buildGo() {
  if (goBinary) return goBinary;
  const cache = join(tmpdir(), 'fcgi-go-build-cache');
  await mkdir(cache, { recursive: true });
  const out = join(cache, 'bench-hello');
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: cache,
    GO111MODULE: 'off',
    GOFLAGS: '',
    GOPROXY: 'off',
    GOPATH: join(cache, 'gopath'),
    GOCACHE: join(cache, 'gocache'),
    GOENV: 'off',
    GOTOOLCHAIN: 'local',
    CGO_ENABLED: '0',
  };
  const r = await run(GO, ['build', '-o', out, join(APPS, 'hello.go')], { env, ms: 180_000 });
  if (r.code !== 0) throw new Error(`go build failed: ${r.stderr}`);
  return (goBinary = out);
}

/** libfcgi's hello in C (bench/apps/hello.c), compiled once per run with -O2 against Debian's libfcgi-dev. */
let cBinary;
async function buildC() {
  if (cBinary) return cBinary;
  const dir = join(tmpdir(), 'fcgi-c-build');
  await mkdir(dir, { recursive: true });
  const out = join(dir, 'bench-hello');
  const r = await run(GCC, ['-O2', '-o', out, join(APPS, 'hello.c'), '-lfcgi'], { ms: 120_000 });
  if (r.code !== 0) throw new Error(`gcc failed: ${r.stderr}`);
  return (cBinary = out);
}

/** PHP-FPM as Debian ships it (its php.ini, opcache on), a static pool of `workers` children. */
async function startPhpFpm(addr, dir, workers) {
  const root = process.getuid?.() === 0;
  const conf = join(dir, 'fpm.conf');
  await writeFile(
    conf,
    [
      '[global]',
      `pid = ${join(dir, 'fpm.pid')}`,
      `error_log = ${join(dir, 'fpm.log')}`,
      'daemonize = no',
      '[bench]',
      ...(root ? ['user = root', 'group = root'] : []),
      `listen = ${addr.arg}`,
      'pm = static',
      `pm.max_children = ${workers}`,
      '',
    ].join('\n'),
  );
  return startProcess(PHP_FPM, ['-F', ...(root ? ['-R'] : []), '-y', conf], { listen: addr.listen });
}

/** True when the built @fcgi/core declares serve()'s `workers` option (a later feature). */
function hasWorkers() {
  try {
    return /\bworkers\?:/.test(readFileSync(join(ROOT, 'packages/core/dist/serve.d.ts'), 'utf8'));
  } catch {
    return false;
  }
}

/**
 * How to start each peer on an address; `front` is how nginx reaches it. `missing` says why it
 * cannot run here (null when it can).
 */
export const peers = {
  nginx: { label: 'nginx `return 200`', front: 'return', missing: () => null },
  'node-http': {
    label: 'Node http server, nginx proxy_pass (keepalive)',
    front: 'proxy',
    start: node('node-http.mjs'),
    missing: () => null,
  },
  'fcgi-hello': {
    label: '@fcgi hello (createFcgiServer)',
    front: 'fastcgi',
    start: node('fcgi-hello.mjs'),
    missing: () => null,
  },
  'fcgi-app': {
    label: '@fcgi createApp() + @fcgi/router',
    front: 'fastcgi',
    start: node('fcgi-app.mjs'),
    missing: () => null,
  },
  'express-fcgi': {
    label: 'Express 5 over @fcgi',
    front: 'fastcgi',
    start: node('express-fcgi.mjs'),
    missing: () => null,
  },
  'fetch-hello': {
    label: '@fcgi hello as a fetch app ({ fetch } to createFcgiServer)',
    front: 'fastcgi',
    start: node('fetch-hello.mjs'),
    missing: () => null,
  },
  nfc: { label: 'node-fastcgi 2.0 hello', front: 'fastcgi', start: node('nfc-hello.cjs'), missing: () => null },
  'express-nfc': {
    label: 'Express 5 over node-fastcgi 2.0',
    front: 'fastcgi',
    start: node('express-nfc.cjs'),
    missing: () => null,
  },
  go: {
    label: 'Go net/http/fcgi',
    front: 'fastcgi',
    start: async (addr) => startProcess(await buildGo(), [addr.arg], { listen: addr.listen }),
    missing: () => (GO ? null : 'go is not installed (apt-get install golang-go)'),
  },
  c: {
    label: 'C on libfcgi (FCGX_Accept_r loop), one process',
    front: 'fastcgi',
    // One connection at a time: with keep-conn on, nginx may keep no more idle ones than that.
    keepalive: 1,
    start: async (addr) => startProcess(await buildC(), [addr.arg], { listen: addr.listen }),
    missing: () =>
      GCC && existsSync(FCGIAPP_H)
        ? null
        : 'gcc or libfcgi-dev is not installed (apt-get install gcc libc6-dev libfcgi-dev)',
  },
  php: {
    label: 'PHP-FPM, 4 static workers',
    front: 'fastcgi',
    script: join(APPS, 'hello.php'),
    // A kept FastCGI connection holds an FPM worker: nginx may cache no more idle ones than there are workers.
    keepalive: 4,
    start: (addr, dir) => startPhpFpm(addr, dir, 4),
    missing: () => (PHP_FPM ? null : 'php-fpm is not installed (apt-get install php-fpm)'),
  },
  'fcgi-workers': {
    label: '@fcgi hello, serve({ workers: 2 })',
    front: 'fastcgi',
    // status(): each worker's request count, read before and after wrk for the share report.
    statusPath: '/__bench/status',
    start: (addr) =>
      startProcess(process.execPath, [join(APPS, 'fcgi-workers.mjs'), addr.arg], {
        listen: addr.listen,
        env: { ...NODE_ENV, BENCH_WORKERS: '2' },
        cwd: ROOT,
        graceMs: 10_000,
      }),
    missing: () => (hasWorkers() ? null : '@fcgi/core has no `workers` option yet'),
  },
};

/** node:cluster without serve(): its own round robin (rr) or the shared listening socket (none). */
for (const sched of ['rr', 'none']) {
  peers[`fcgi-cluster-${sched}`] = {
    label: `@fcgi hello under node:cluster, 2 workers, ${sched === 'rr' ? 'SCHED_RR' : 'SCHED_NONE'}`,
    front: 'fastcgi',
    start: (addr) =>
      startProcess(process.execPath, [join(APPS, 'fcgi-cluster.mjs'), addr.arg], {
        listen: addr.listen,
        env: { ...NODE_ENV, BENCH_WORKERS: '2', BENCH_SCHED: sched },
        cwd: ROOT,
      }),
    missing: () => null,
  };
}

/**
 * BENCH_BASELINE=/path/to/another/checkout (installed and built): the @fcgi rows run a second time
 * with that checkout's apps and packages, interleaved with ours, for a before/after in one run.
 */
const BASELINE = process.env.BENCH_BASELINE;
if (BASELINE) {
  const base = (file) => (addr) =>
    startProcess(process.execPath, [join(BASELINE, 'bench/apps', file), addr.arg], {
      listen: addr.listen,
      env: NODE_ENV,
      cwd: BASELINE,
    });
  peers['fcgi-workers-base'] = {
    ...peers['fcgi-workers'],
    label: `${peers['fcgi-workers'].label} [baseline]`,
    statusPath: undefined,
    start: (addr) =>
      startProcess(process.execPath, [join(BASELINE, 'bench/apps/fcgi-workers.mjs'), addr.arg], {
        listen: addr.listen,
        env: { ...NODE_ENV, BENCH_WORKERS: '2' },
        cwd: BASELINE,
        graceMs: 10_000,
      }),
  };
  for (const [id, file] of [
    ['fcgi-hello', 'fcgi-hello.mjs'],
    ['fcgi-app', 'fcgi-app.mjs'],
    ['express-fcgi', 'express-fcgi.mjs'],
  ]) {
    peers[`${id}-base`] = { ...peers[id], label: `${peers[id].label} [baseline]`, start: base(file) };
  }
}

/** The rows of the throughput table. */
export const cases = [
  { id: 'nginx', peer: 'nginx' },
  { id: 'node-http', peer: 'node-http', transport: 'unix' },
  { id: 'node-http-tcp', peer: 'node-http', transport: 'tcp' },
  { id: 'fcgi-on', peer: 'fcgi-hello', transport: 'unix', keepConn: true },
  { id: 'fcgi-off', peer: 'fcgi-hello', transport: 'unix', keepConn: false },
  { id: 'fcgi-tcp-on', peer: 'fcgi-hello', transport: 'tcp', keepConn: true },
  { id: 'fcgi-tcp-off', peer: 'fcgi-hello', transport: 'tcp', keepConn: false },
  { id: 'app-hello', peer: 'fcgi-app', transport: 'unix', keepConn: true },
  { id: 'app-json', peer: 'fcgi-app', transport: 'unix', keepConn: true, path: '/json' },
  { id: 'express-fcgi', peer: 'express-fcgi', transport: 'unix', keepConn: true },
  { id: 'express-fcgi-json', peer: 'express-fcgi', transport: 'unix', keepConn: true, path: '/json' },
  { id: 'fetch-on', peer: 'fetch-hello', transport: 'unix', keepConn: true },
  { id: 'nfc-on', peer: 'nfc', transport: 'unix', keepConn: true },
  { id: 'nfc-off', peer: 'nfc', transport: 'unix', keepConn: false },
  { id: 'express-nfc', peer: 'express-nfc', transport: 'unix', keepConn: true },
  { id: 'express-nfc-json', peer: 'express-nfc', transport: 'unix', keepConn: true, path: '/json' },
  { id: 'go-on', peer: 'go', transport: 'unix', keepConn: true },
  { id: 'go-off', peer: 'go', transport: 'unix', keepConn: false },
  { id: 'go-tcp-on', peer: 'go', transport: 'tcp', keepConn: true },
  { id: 'go-tcp-off', peer: 'go', transport: 'tcp', keepConn: false },
  { id: 'c-on', peer: 'c', transport: 'unix', keepConn: true },
  { id: 'c-off', peer: 'c', transport: 'unix', keepConn: false },
  { id: 'php-on', peer: 'php', transport: 'unix', keepConn: true },
  { id: 'php-off', peer: 'php', transport: 'unix', keepConn: false },
  { id: 'workers-on', peer: 'fcgi-workers', transport: 'unix', keepConn: true },
  { id: 'workers-off', peer: 'fcgi-workers', transport: 'unix', keepConn: false },
  { id: 'cluster-rr-on', peer: 'fcgi-cluster-rr', transport: 'unix', keepConn: true },
  { id: 'cluster-rr-off', peer: 'fcgi-cluster-rr', transport: 'unix', keepConn: false },
  { id: 'cluster-none-on', peer: 'fcgi-cluster-none', transport: 'unix', keepConn: true },
  { id: 'cluster-none-off', peer: 'fcgi-cluster-none', transport: 'unix', keepConn: false },
];
if (BASELINE) {
  for (const id of [
    'fcgi-on',
    'fcgi-off',
    'app-hello',
    'app-json',
    'express-fcgi',
    'express-fcgi-json',
    'workers-on',
    'workers-off',
  ]) {
    const c = cases.find((x) => x.id === id);
    cases.push({ ...c, id: `${id}-base`, peer: `${c.peer}-base` });
  }
}

/** A short description of a row: "@fcgi hello (createFcgiServer), unix, keep-conn on, /json". */
export function describe(c) {
  const p = peers[c.peer];
  const parts = [p.label];
  if (c.transport) parts.push(c.transport === 'unix' ? 'unix socket' : 'TCP');
  if (c.keepConn !== undefined) parts.push(`keep-conn ${c.keepConn ? 'on' : 'off'}`);
  if (c.path) parts.push(`GET ${c.path}`);
  return parts.join(', ');
}
