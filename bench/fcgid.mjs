// Apache 2.4 + mod_fcgid spawning the app itself (the shared-hosting setup): throughput of a hello
// app.fcgi, and cold start (the first request to a script with no process yet: mod_fcgid spawns
// it, Node starts and loads the bundle, the request is answered). @fcgi against node-fastcgi, both
// bundled into one file as a host without npm would run them: ours by scripts/bundle.mjs (`fcgi
// bundle`), node-fastcgi's by esbuild alone (bench/lib/plain-bundle.mjs).
import {
  chmodSync,
  chownSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { plainBundle } from './lib/plain-bundle.mjs';
import { fcgiGet } from './memory.mjs';
import { freePort, run, startProcess } from './lib/proc.mjs';
import { wrk } from './lib/wrk.mjs';
import { ROOT } from './peers.mjs';

export const APACHE = '/usr/sbin/apache2';
const MODULES = '/usr/lib/apache2/modules';
const APPS = { fcgi: 'bench/apps/fcgi-hello.mjs', nfc: 'bench/apps/nfc-hello.cjs' };
/**
 * Processes mod_fcgid may run per script, and wrk's connections: one process per connection (a
 * mod_fcgid process serves one request at a time; a request that finds none idle sleeps 1 s).
 */
const PROCS = 4;
const CONNS = 4;

export function fcgidMissing() {
  if (!existsSync(APACHE) || !existsSync(join(MODULES, 'mod_fcgid.so')))
    return 'apache2 or libapache2-mod-fcgid is not installed';
  return null;
}

/** Debian's www-data when we are root (Apache runs scripts as that user), else null. */
function webUser() {
  if (process.getuid?.() !== 0) return null;
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('www-data:'));
  const [, , uid, gid] = line.split(':');
  return { name: 'www-data', uid: Number(uid), gid: Number(gid) };
}

function config(dir, port, user) {
  const ipc = join(dir, 'fcgid');
  const load = ['mpm_event', 'authz_core', 'mime', 'fcgid']
    .map((m) => `LoadModule ${m}_module ${MODULES}/mod_${m}.so`)
    .join('\n');
  const path = [dirname(process.execPath), '/usr/local/bin', '/usr/bin', '/bin'].join(':');
  return `ServerRoot ${dir}
ServerName 127.0.0.1
Listen 127.0.0.1:${port}
PidFile ${join(dir, 'apache.pid')}
ErrorLog ${join(dir, 'error.log')}
LogLevel warn
DefaultRuntimeDir ${join(dir, 'run')}
${user ? `User ${user.name}\nGroup ${user.name}` : ''}
${load}
TypesConfig /etc/mime.types
FcgidIPCDir ${ipc}
FcgidProcessTableFile ${join(ipc, 'shm')}
FcgidInitialEnv PATH ${path}
FcgidInitialEnv HOME ${join(dir, 'home')}
FcgidInitialEnv NODE_ENV production
FcgidMaxProcessesPerClass ${PROCS}
DocumentRoot ${join(dir, 'www')}
<Directory />
  Require all denied
</Directory>
<Directory ${join(dir, 'www')}>
  Options +ExecCGI
  AddHandler fcgid-script .fcgi
  Require all granted
</Directory>
`;
}

async function get(url) {
  const t0 = process.hrtime.bigint();
  const res = await fetch(url);
  const body = await res.text();
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (res.status !== 200 || !body.includes('Hello World'))
    throw new Error(`${url}: ${res.status} ${body.slice(0, 300)}`);
  return ms;
}

/**
 * Runs `file` once as `user` with `home` as HOME, on FCGI_LISTEN, for one request, then 1.5 s
 * more: the code cache a script's first process leaves in ~/.cache/fcgi.
 */
async function warmCache(file, home, user) {
  const sock = join(home, 'warm.sock');
  const child = spawn(process.execPath, [file], {
    cwd: dirname(file),
    stdio: 'ignore',
    ...(user ? { uid: user.uid, gid: user.gid } : {}),
    env: { PATH: '/usr/bin:/bin', HOME: home, NODE_ENV: 'production', FCGI_LISTEN: sock },
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try {
    await fcgiGet(sock, Date.now() + 15_000);
    await sleep(1500);
  } finally {
    child.kill('SIGTERM');
    await exited;
    rmSync(sock, { force: true });
  }
}

/** Throughput of each bundled app (wrk with PROCS connections), then `colds` cold starts each. */
export async function runFcgid({ runs, seconds, warmup, colds, log }) {
  const user = webUser();
  const dir = await mkdtemp(join(tmpdir(), 'fcgi-bench-fcgid-'));
  let apache = null;
  const out = { procs: PROCS };
  try {
    chmodSync(dir, 0o755);
    for (const sub of ['www', 'www/cold', 'fcgid', 'run', 'home']) {
      mkdirSync(join(dir, sub), { recursive: true, mode: 0o755 });
      if (user && sub !== 'www' && sub !== 'www/cold') chownSync(join(dir, sub), user.uid, user.gid);
    }
    for (const [name, entry] of Object.entries(APPS)) {
      const file = join(dir, 'www', `${name}.fcgi`);
      if (name === 'nfc') out[`bytes-${name}`] = await plainBundle(ROOT, entry, file);
      else {
        const r = await run(process.execPath, ['scripts/bundle.mjs', entry, file], { cwd: ROOT, ms: 120_000 });
        if (r.code !== 0) throw new Error(`bundle ${entry}: ${r.stderr}${r.stdout}`);
        out[`bytes-${name}`] = statSync(file).size;
      }
      // One copy per cold start: mod_fcgid keeps a process per script, so each copy starts cold.
      // @fcgi's also as `fcgi-first`: copies no process has run yet, so without a code cache.
      for (const copy of name === 'fcgi' ? ['fcgi', 'fcgi-first'] : [name]) {
        for (let i = 1; i <= colds; i++) {
          copyFileSync(file, join(dir, 'www/cold', `${copy}-${i}.fcgi`));
          chmodSync(join(dir, 'www/cold', `${copy}-${i}.fcgi`), 0o755);
        }
      }
    }
    // The code cache a site's first process leaves (in ~/.cache/fcgi of the web user, here the
    // HOME mod_fcgid gives): each `fcgi` copy run once by that user before Apache starts.
    for (let i = 1; i <= colds; i++) await warmCache(join(dir, 'www/cold', `fcgi-${i}.fcgi`), join(dir, 'home'), user);
    writeFileSync(join(dir, 'www/static.txt'), 'Hello World\n');
    const port = await freePort();
    writeFileSync(join(dir, 'httpd.conf'), config(dir, port, user));
    apache = await startProcess(APACHE, ['-d', dir, '-f', join(dir, 'httpd.conf'), '-DFOREGROUND'], {
      // Its own process group: Apache signals its whole group on shutdown.
      listen: port,
      detached: true,
      env: { PATH: '/usr/bin:/bin', LANG: 'C' },
      graceMs: 10_000,
    });
    const base = `http://127.0.0.1:${port}`;
    await get(`${base}/static.txt`);
    // Cold starts first, while no app process exists yet; the apps alternate.
    const coldApps = [...Object.keys(APPS), 'fcgi-first'];
    for (const name of coldApps) out[`cold-${name}`] = { times: [] };
    for (let i = 1; i <= colds; i++) {
      for (const name of coldApps) {
        out[`cold-${name}`].times.push(await get(`${base}/cold/${name}-${i}.fcgi`));
        await sleep(300);
      }
    }
    for (const name of coldApps)
      log(`  cold start ${name}: ${out[`cold-${name}`].times.map((t) => t.toFixed(0)).join(', ')} ms`);
    for (const name of Object.keys(APPS)) out[`tput-${name}`] = { runs: [] };
    for (let r = 1; r <= runs; r++) {
      for (const name of Object.keys(APPS)) {
        const url = `${base}/${name}.fcgi`;
        await get(url);
        if (warmup > 0) await wrk(url, { seconds: warmup, connections: CONNS });
        const m = await wrk(url, { seconds, connections: CONNS });
        out[`tput-${name}`].runs.push(m);
        log(
          `  [${r}/${runs}] mod_fcgid ${name.padEnd(5)} ${Math.round(m.rps).toString().padStart(6)} req/s  p99 ${m.p99.toFixed(1)} ms${m.errors ? `  ${m.errors} errors` : ''}`,
        );
      }
    }
    const floor = [];
    for (let i = 0; i < colds; i++) {
      const t0 = process.hrtime.bigint();
      await run(process.execPath, ['-e', '0']);
      floor.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    out.nodeFloor = { times: floor };
    log(`  node -e 0: ${floor.map((t) => t.toFixed(0)).join(', ')} ms`);
  } finally {
    await apache?.stop();
    await rm(dir, { recursive: true, force: true });
  }
  return out;
}
