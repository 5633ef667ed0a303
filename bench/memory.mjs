#!/usr/bin/env node
// Memory and start of one bundled app process, as a shared host runs it: RSS after the first
// request under a mod_fcgid-like start (a listening socket on fd 0, from spawn-fcgi) and as CGI,
// the time from the start to the first answer, the process's threads, and the smallest address
// space (prlimit --as, what RLimitMEM and `ulimit -v` set) in which the bundled hello still
// answers, with and without Node flags that shrink it. @fcgi's apps beside node-fastcgi's hello.
//
//   node bench/memory.mjs [--runs 5] [--no-bisect] [--only serve-hello,nfc-hello,...] [--json FILE]
//                         [--compare DIR]
//
// --compare DIR: also bundles the apps with the checkout in DIR (built, with the same bench/apps
// files) and interleaves its rows ("before") with this checkout's, run by run.
// Needs @fcgi/core built (dist/), esbuild (a devDependency) and spawn-fcgi (Debian's spawn-fcgi).
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { plainBundle } from './lib/plain-bundle.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const SPAWN_FCGI = '/usr/bin/spawn-fcgi';

/** The apps measured: the entry, and whether it also runs as CGI (the serve()/listen() ones do). */
export const APPS = {
  'serve-hello': { entry: 'bench/apps/serve-hello.mjs', cgi: true, what: '@fcgi hello, serve()' },
  'fcgi-hello': { entry: 'bench/apps/fcgi-hello.mjs', cgi: false, what: '@fcgi hello, createFcgiServer()' },
  'serve-app': { entry: 'bench/apps/serve-app.mjs', cgi: true, what: 'createApp() + router + JSON' },
  'express-serve': { entry: 'bench/apps/express-serve.mjs', cgi: true, what: 'Express 5 through serve()' },
  // Bundled by esbuild alone, as node-fastcgi's users would (bench/lib/plain-bundle.mjs).
  'nfc-hello': { entry: 'bench/apps/nfc-hello.cjs', cgi: false, plain: true, what: 'node-fastcgi hello' },
};

/** What mod_fcgid sends for GET / (the parts an app reads). */
const PARAMS = {
  GATEWAY_INTERFACE: 'CGI/1.1',
  REQUEST_METHOD: 'GET',
  REQUEST_URI: '/',
  SCRIPT_NAME: '/app.fcgi',
  PATH_INFO: '/',
  QUERY_STRING: '',
  SERVER_PROTOCOL: 'HTTP/1.1',
  SERVER_SOFTWARE: 'Apache/2.4',
  SERVER_NAME: '127.0.0.1',
  SERVER_PORT: '80',
  REMOTE_ADDR: '127.0.0.1',
  REMOTE_PORT: '40000',
  HTTP_HOST: '127.0.0.1',
};

/** The environment of a started app: only what a host gives (suEXEC keeps PATH and little else). */
function appEnv(extra = {}) {
  return { PATH: `${dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin`, LANG: 'C', ...extra };
}

/** Fields of /proc/<pid>/status, in bytes (kB lines) or as numbers (Threads). */
export function procStatus(pid) {
  const text = readFileSync(`/proc/${pid}/status`, 'latin1');
  const kb = (key) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN) * 1024;
  return {
    rss: kb('VmRSS'),
    anon: kb('RssAnon'),
    file: kb('RssFile'),
    hwm: kb('VmHWM'),
    vm: kb('VmSize'),
    threads: Number(/^Threads:\s+(\d+)/m.exec(text)?.[1] ?? NaN),
  };
}

/**
 * CPU time (ms) that `pid` used so far, all its threads together, from the scheduler's
 * nanosecond counts (/proc/<pid>/task/<tid>/schedstat): unlike the wall time to the first answer
 * it does not grow when other processes share the machine's cores.
 */
export function cpuMs(pid) {
  let ns = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'latin1').split(' ')[0]);
    } catch {
      // the thread ended meanwhile
    }
  }
  return ns / 1e6;
}

/**
 * Sends GET / over a unix socket as one FastCGI request; resolves with the answer's stdout once
 * END_REQUEST arrives. Connects as soon as the socket file exists (spawn-fcgi makes it before Node
 * starts, as mod_fcgid does: the request waits in the backlog while the app loads).
 */
export async function fcgiGet(sock, deadline) {
  // spawn-fcgi makes the file at bind() and listens a moment later: refused until then.
  for (;;) {
    try {
      return await fcgiGetOnce(sock, deadline);
    } catch (e) {
      if (e.code !== 'ECONNREFUSED' || Date.now() > deadline) throw e;
      await sleep(2);
    }
  }
}

async function fcgiGetOnce(sock, deadline) {
  while (!existsSync(sock)) {
    if (Date.now() > deadline) throw new Error(`no socket at ${sock}`);
    await sleep(2);
  }
  // Loaded here, not on import: bench/report.mjs imports this file to print a saved run.
  const { encodeBeginRequest, encodeNameValues, encodeStream, RecordType } = await import(
    '../packages/core/dist/protocol/index.js'
  );
  const req = Buffer.concat([
    encodeBeginRequest(1, 1, false),
    encodeStream(RecordType.PARAMS, 1, encodeNameValues(PARAMS)),
    encodeStream(RecordType.STDIN, 1, Buffer.alloc(0)),
  ]);
  return new Promise((resolve, reject) => {
    const s = connect(sock);
    let buf = Buffer.alloc(0);
    const out = [];
    const timer = setTimeout(
      () => {
        s.destroy();
        reject(new Error('no answer in time'));
      },
      Math.max(1, deadline - Date.now()),
    );
    s.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    s.on('close', () => {
      clearTimeout(timer);
      reject(new Error('closed before END_REQUEST'));
    });
    s.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 8) {
        const len = buf.readUInt16BE(4);
        const total = 8 + len + buf[6];
        if (buf.length < total) break;
        if (buf[1] === RecordType.STDOUT) out.push(buf.subarray(8, 8 + len));
        if (buf[1] === RecordType.END_REQUEST) {
          clearTimeout(timer);
          s.removeAllListeners('close');
          s.destroy();
          resolve(Buffer.concat(out).toString('latin1'));
          return;
        }
        buf = buf.subarray(total);
      }
    });
    s.write(req);
  });
}

/** The line of a failed start's stderr that says why (V8's fatal error, Node's error), else its last line. */
function why(stderr) {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim().replace(/^#\s*/, ''))
    .filter(Boolean);
  return lines.find((l) => /Fatal|Failed|out of memory|Error/i.test(l)) ?? lines.at(-1) ?? '(nothing on stderr)';
}

function killPid(pid, signal) {
  try {
    process.kill(pid, signal);
  } catch {
    // gone already
  }
}

/**
 * Starts `file` as mod_fcgid does (spawn-fcgi -n: a listening unix socket on fd 0, then exec),
 * optionally under `prlimit --as`, sends GET /, and reads the process's memory once answered.
 * Resolves { ms, ...procStatus } or { error }.
 */
export async function runFd0(file, { nodeArgs = [], env = {}, asBytes, timeoutMs = 10_000, settleMs = 0 } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'fcgi-mem-'));
  const sock = join(dir, 'app.sock');
  const limit = asBytes ? ['/usr/bin/prlimit', `--as=${asBytes}`, '--'] : [];
  const t0 = performance.now();
  const child = spawn(SPAWN_FCGI, ['-n', '-s', sock, '--', ...limit, process.execPath, ...nodeArgs, file], {
    env: appEnv(env),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (s) => {
    if (stderr.length < 20_000) stderr += s;
  });
  const exited = new Promise((r) => child.once('exit', r));
  try {
    const body = await Promise.race([
      fcgiGet(sock, Date.now() + timeoutMs),
      exited.then((code) => {
        throw new Error(`exited (${code}) before answering`);
      }),
    ]);
    const ms = performance.now() - t0;
    const cpu = cpuMs(child.pid);
    if (!body.includes('Hello World')) throw new Error(`unexpected answer: ${body.slice(0, 200)}`);
    if (settleMs) await sleep(settleMs);
    return { ms, cpu, ...procStatus(child.pid) };
  } catch (e) {
    return { error: `${e.message}: ${why(stderr)}`, why: why(stderr) };
  } finally {
    killPid(child.pid, 'SIGKILL');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A preload that writes the process's own /proc status to fd 3 as it exits (CGI exits after one answer). */
const EXIT_PROBE = `process.on('exit', () => { try { const u = process.cpuUsage(); require('fs').writeSync(3, require('fs').readFileSync('/proc/self/status', 'latin1') + 'CpuUs: ' + (u.user + u.system) + '\\n'); } catch {} });`;

/** Runs `file` as CGI for GET /; resolves { ms, ...status at exit } (VmHWM is the peak) or { error }. */
export async function runCgi(file, probe, { nodeArgs = [], env: extra = {} } = {}) {
  const env = appEnv({ ...PARAMS, SCRIPT_FILENAME: file, ...extra });
  const t0 = performance.now();
  const child = spawn(process.execPath, ['--require', probe, ...nodeArgs, file], {
    env,
    stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  let status = '';
  child.stdout.setEncoding('latin1').on('data', (s) => (out += s));
  child.stderr.setEncoding('utf8').on('data', (s) => (err += s));
  child.stdio[3].setEncoding('latin1').on('data', (s) => (status += s));
  const timer = setTimeout(() => killPid(child.pid, 'SIGKILL'), 15_000);
  const code = await new Promise((r) => child.once('close', r));
  clearTimeout(timer);
  const ms = performance.now() - t0;
  if (code !== 0 || !out.includes('Hello World')) return { error: `exit ${code}: ${err.slice(-300)}` };
  const kb = (key) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return {
    ms,
    cpu: Number(/^CpuUs: (\d+)/m.exec(status)?.[1] ?? NaN) / 1000,
    rss: kb('VmRSS'),
    anon: kb('RssAnon'),
    file: kb('RssFile'),
    hwm: kb('VmHWM'),
    vm: kb('VmSize'),
    threads: Number(/^Threads:\s+(\d+)/m.exec(status)?.[1] ?? NaN),
  };
}

/** What V8 or Node print when the address space runs out (or nothing: killed before a word). */
const MEMORY_FAILURE = /Fatal|out of memory|Failed to reserve|Committing|nothing on stderr/i;

/**
 * The smallest address-space limit (MiB, to `step`) under which `file` answers GET / started as
 * with mod_fcgid, by bisection between `lo` (fails) and `hi` (works). Two tries per step: a
 * limit counts as working only when both answer.
 */
export async function minAddressSpace(file, { nodeArgs = [], env = {}, lo = 16, hi = 4096, step = 4 } = {}) {
  // A start that fails for another reason than memory (a timeout on a busy machine) is tried again.
  const works = async (mib) => {
    for (let ok = 0, other = 0; ok < 2; ) {
      const r = await runFd0(file, { nodeArgs, env, asBytes: mib * 2 ** 20, timeoutMs: 10_000 });
      if (!r.error) ok++;
      else if (MEMORY_FAILURE.test(r.error) || ++other > 3) return false;
    }
    return true;
  };
  if (!(await works(hi))) return { error: `does not answer even at ${hi} MiB` };
  while (hi - lo > step) {
    const mid = Math.round((lo + hi) / 2 / step) * step;
    if (await works(mid)) hi = mid;
    else lo = mid;
  }
  const failure = await runFd0(file, { nodeArgs, env, asBytes: lo * 2 ** 20 });
  return { mib: hi, below: failure.why ?? failure.error ?? '' };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Median of each numeric field over `runs` results (errors are reported, not averaged). */
function summarize(results) {
  const ok = results.filter((r) => !r.error);
  if (!ok.length) return { error: results[0]?.error ?? 'no run' };
  const out = { n: ok.length };
  for (const k of Object.keys(ok[0])) out[k] = median(ok.map((r) => r[k]));
  return out;
}

/**
 * Bundles every app with the `fcgi bundle` of the checkout at `root` into `dir`: `<prefix><name>`
 * (the default, with source maps) and `<prefix><name>-nosm` (--no-source-maps); node-fastcgi's
 * hello once, by esbuild alone.
 */
export async function bundleApps(dir, names, root = ROOT, prefix = '') {
  const { bundle } = await import(pathToFileURL(join(root, 'packages/core/dist/bundle/bundle.js')).href);
  const files = {};
  for (const name of names) {
    const { entry, plain } = APPS[name];
    if (plain) {
      const outfile = join(dir, `${prefix}${name}.fcgi`);
      files[`${prefix}${name}`] = { file: outfile, bytes: await plainBundle(root, entry, outfile), app: name };
      continue;
    }
    for (const sourceMaps of [true, false]) {
      const row = `${prefix}${name}${sourceMaps ? '' : '-nosm'}`;
      const outfile = join(dir, `${row}.fcgi`);
      const r = await bundle({ entry: join(root, entry), outfile, sourceMaps });
      files[row] = { file: outfile, bytes: r.bytes, app: name };
    }
  }
  return files;
}

/** Node flags (and environment) tried for the address-space minimum, with what each costs. */
export const FLAG_SETS = [
  { id: 'none', nodeArgs: [], env: {} },
  { id: 'v8-pool-1', nodeArgs: ['--v8-pool-size=1'], env: {} },
  { id: 'arena-1', nodeArgs: [], env: { MALLOC_ARENA_MAX: '1' } },
  { id: 'pool-1+arena-1', nodeArgs: ['--v8-pool-size=1'], env: { MALLOC_ARENA_MAX: '1' } },
  { id: 'old-space-64', nodeArgs: ['--max-old-space-size=64'], env: {} },
  { id: 'semi-space-1', nodeArgs: ['--max-semi-space-size=1'], env: {} },
  { id: 'jitless', nodeArgs: ['--jitless'], env: {} },
];

const mb = (b) => (b / 2 ** 20).toFixed(1);

/** The flag sets' labels in the report. */
const FLAG_LABELS = {
  none: '(none)',
  'v8-pool-1': '`--v8-pool-size=1`',
  'arena-1': '`MALLOC_ARENA_MAX=1` (environment)',
  'pool-1+arena-1': '`--v8-pool-size=1` + `MALLOC_ARENA_MAX=1`',
  'old-space-64': '`--max-old-space-size=64`',
  'semi-space-1': '`--max-semi-space-size=1`',
  jitless: '`--jitless`',
};

/** The result of runMemory() as Markdown tables (MB = MiB here, as /proc counts). */
export function memoryTable(r) {
  if (r.skipped) return `skipped: ${r.skipped}`;
  const ms = (x) => (Number.isFinite(x) ? x.toFixed(0) : '—');
  const out = [
    '| app, bundled (`-nosm`: --no-source-maps) | bundle | RSS after the 1st request | of it private (RssAnon) | threads | VmSize | CPU to the 1st answer | wall time to it | the first start ever (no code cache): CPU | as CGI: peak RSS | CGI CPU |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const [row, a] of Object.entries(r.apps)) {
    const f = a.fd0;
    const c = a.cgi;
    const cgi = !c ? '| | ' : c.error ? `| ${c.error} | ` : `| ${mb(c.hwm)} MB | ${ms(c.cpu)} ms `;
    out.push(
      f.error
        ? `| ${row} | ${(a.bytes / 1024).toFixed(0)} KB | ${f.error} | | | | | | ${cgi}|`
        : `| ${row} | ${(a.bytes / 1024).toFixed(0)} KB | ${mb(f.rss)} MB | ${mb(f.anon)} MB | ${f.threads} | ${mb(f.vm)} MB | ${ms(f.cpu)} ms | ${ms(f.ms)} ms | ${ms(a.firstCpu)} ms ${cgi}|`,
    );
  }
  if (Object.keys(r.flags).length) {
    out.push(
      '',
      '| Node options (hello, --no-source-maps, fd 0) | RSS | threads | VmSize | CPU to the 1st answer | smallest `prlimit --as` that answers | below it |',
      '|---|---:|---:|---:|---:|---:|---|',
    );
    for (const [id, f] of Object.entries(r.flags)) {
      const b = r.bisect[id];
      const as = !b ? '' : b.error ? b.error : `${b.mib} MiB`;
      const below = b?.below ? b.below.replace(/\|/g, '/').slice(0, 90) : '';
      out.push(
        f.error
          ? `| ${FLAG_LABELS[id] ?? id} | ${f.error} | | | | ${as} | ${below} |`
          : `| ${FLAG_LABELS[id] ?? id} | ${mb(f.rss)} MB | ${f.threads} | ${mb(f.vm)} MB | ${ms(f.cpu)} ms | ${as} | ${below} |`,
      );
    }
  }
  return out.join('\n');
}

export async function runMemory({ runs = 5, bisect = true, only, compare, log = console.log } = {}) {
  if (!existsSync(SPAWN_FCGI)) return { skipped: 'spawn-fcgi is not installed (apt-get install spawn-fcgi)' };
  const names = only?.length ? only : Object.keys(APPS);
  const dir = mkdtempSync(join(tmpdir(), 'fcgi-bench-mem-'));
  const probe = join(dir, 'exit-probe.cjs');
  writeFileSync(probe, EXIT_PROBE);
  const out = { apps: {}, flags: {}, bisect: {} };
  try {
    const files = {
      ...(compare ? await bundleApps(dir, names, compare, 'before:') : {}),
      ...(await bundleApps(dir, names)),
    };
    // Rows interleaved run by run, so a busy moment of the machine spreads over all of them.
    const rows = Object.keys(files);
    const raw = Object.fromEntries(rows.map((r) => [r, { fd0: [], cgi: [] }]));
    // A HOME of our own for the code cache (~/.cache/fcgi), which the first start of each bundle
    // writes (given 1.5 s to, as a process under a web server has): that start is `first`.
    const env = { HOME: join(dir, 'home') };
    mkdirSync(env.HOME, { mode: 0o700 });
    const first = {};
    for (const row of rows) first[row] = await runFd0(files[row].file, { env, settleMs: 1500 });
    for (let i = 0; i < runs; i++) {
      for (const row of rows) {
        raw[row].fd0.push(await runFd0(files[row].file, { env }));
        if (APPS[files[row].app].cgi) raw[row].cgi.push(await runCgi(files[row].file, probe, { env }));
      }
    }
    for (const row of rows) {
      const fd0 = summarize(raw[row].fd0);
      const cgi = raw[row].cgi.length ? summarize(raw[row].cgi) : null;
      out.apps[row] = { bytes: files[row].bytes, fd0, cgi, firstCpu: first[row].cpu };
      const f = fd0.error
        ? fd0.error
        : `RSS ${mb(fd0.rss)} MB (anon ${mb(fd0.anon)}, file ${mb(fd0.file)}), VM ${mb(fd0.vm)} MB, ${fd0.threads} threads, first answer ${fd0.ms.toFixed(0)} ms (CPU ${fd0.cpu.toFixed(0)} ms)`;
      const c = !cgi
        ? ''
        : cgi.error
          ? `; CGI: ${cgi.error}`
          : `; CGI peak ${mb(cgi.hwm)} MB, ${cgi.ms.toFixed(0)} ms (CPU ${cgi.cpu.toFixed(0)} ms)`;
      const once = Number.isFinite(first[row].cpu) ? `; the first start ever: CPU ${first[row].cpu.toFixed(0)} ms` : '';
      log(`  ${row.padEnd(26)} ${(files[row].bytes / 1024).toFixed(0).padStart(5)} KB  fd 0: ${f}${c}${once}`);
    }
    // Node flags on the bundled hello (fd 0): what each does to memory, threads and the start.
    const hello = (files['serve-hello-nosm'] ?? files['fcgi-hello-nosm'] ?? files[rows.at(-1)]).file;
    for (const set of FLAG_SETS) {
      const r = [];
      for (let i = 0; i < runs; i++) r.push(await runFd0(hello, { nodeArgs: set.nodeArgs, env: set.env }));
      out.flags[set.id] = summarize(r);
      const s = out.flags[set.id];
      log(
        `  flags ${set.id.padEnd(15)} ${s.error ?? `RSS ${mb(s.rss)} MB (anon ${mb(s.anon)}), VM ${mb(s.vm)} MB, ${s.threads} threads, first answer ${s.ms.toFixed(0)} ms (CPU ${s.cpu.toFixed(0)} ms)`}`,
      );
      if (bisect) {
        out.bisect[set.id] = await minAddressSpace(hello, { nodeArgs: set.nodeArgs, env: set.env });
        const b = out.bisect[set.id];
        log(`        smallest --as that answers: ${b.error ?? `${b.mib} MiB (below: ${b.below.slice(0, 160)})`}`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '5' },
      'no-bisect': { type: 'boolean', default: false },
      only: { type: 'string' },
      json: { type: 'string' },
      compare: { type: 'string' },
    },
  });
  const r = await runMemory({
    runs: Number(values.runs),
    bisect: !values['no-bisect'],
    only: values.only?.split(','),
    compare: values.compare,
  });
  if (values.json) writeFileSync(values.json, `${JSON.stringify(r, null, 2)}\n`);
  console.log(`\n${memoryTable(r)}`);
}
