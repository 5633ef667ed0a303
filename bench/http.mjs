// The throughput table: every row of peers.mjs through a fresh nginx, measured with wrk. Rounds
// are interleaved (row 1..n, then again) so drift on the machine spreads over every row.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fastcgiLocation, proxyLocation, startNginx, upstream } from './lib/nginx.mjs';
import { cpuSeconds, descendants, freePort } from './lib/proc.mjs';
import { wrk } from './lib/wrk.mjs';
import { address, cases, describe, peers } from './peers.mjs';

/** Idle upstream connections nginx keeps (more than wrk's 50), unless the peer says otherwise. */
const KEEPALIVE = 64;

async function site(c, peer, dir) {
  if (peer.front === 'return')
    return { app: null, site: { locations: '    location / { return 200 "Hello World\\n"; }\n' } };
  const addr = address(c.transport, dir, c.transport === 'tcp' ? await freePort() : 0);
  const app = await peer.start(addr, dir);
  if (peer.front === 'proxy')
    return { app, site: { upstreams: upstream('app', addr.server, KEEPALIVE), locations: proxyLocation('/', 'app') } };
  return {
    app,
    site: {
      upstreams: upstream('app', addr.server, c.keepConn ? (peer.keepalive ?? KEEPALIVE) : 0),
      locations: fastcgiLocation('/', 'app', { keepConn: c.keepConn, scriptFilename: peer.script }),
    },
  };
}

/** One measurement of row `c`: peer and nginx started, one checked request, warm-up, wrk, stopped. */
export async function measure(c, { seconds, warmup }) {
  const dir = await mkdtemp(join(tmpdir(), 'fcgi-bench-'));
  let app = null;
  let nginx = null;
  try {
    const s = await site(c, peers[c.peer], dir);
    app = s.app;
    nginx = await startNginx(s.site);
    const url = `http://127.0.0.1:${nginx.port}${c.path ?? '/'}`;
    const res = await fetch(url);
    const body = await res.text();
    if (res.status !== 200 || !/Hello World|"hello"/.test(body))
      throw new Error(`${url}: ${res.status} ${body.slice(0, 200)}`);
    if (warmup > 0) await wrk(url, { seconds: warmup });
    // CPU time per request of the app (with its worker processes) and of nginx: what each costs
    // whatever else the machine runs meanwhile.
    const appPids = app ? [app.pid, ...descendants(app.pid)] : [];
    const nginxPids = [nginx.pid, ...descendants(nginx.pid)];
    const statusUrl = peers[c.peer].statusPath ? `http://127.0.0.1:${nginx.port}${peers[c.peer].statusPath}` : null;
    const served0 = statusUrl ? await servedByWorker(statusUrl) : null;
    const each0 = appPids.map((pid) => cpuSeconds([pid]));
    const cpu0 = [cpuSeconds(appPids), cpuSeconds(nginxPids)];
    const m = await wrk(url, { seconds });
    const perReq = (s0, pids) => (1e6 * (cpuSeconds(pids) - s0)) / m.requests;
    m.appUs = app ? perReq(cpu0[0], appPids) : null;
    m.nginxUs = perReq(cpu0[1], nginxPids);
    if (appPids.length > 1) m.shares = shares(appPids, each0, served0, statusUrl && (await servedByWorker(statusUrl)));
    if (app && app.child.exitCode !== null) throw new Error(`the peer exited during the run: ${app.output()}`);
    return m;
  } finally {
    await nginx?.stop();
    await app?.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Requests each worker has taken so far, by pid, from the app's status page (JSON). */
async function servedByWorker(url) {
  const res = await fetch(`${url}?json`);
  if (res.status !== 200) throw new Error(`${url}: ${res.status}`);
  const report = await res.json();
  return new Map(report.workers.map((w) => [w.pid, w.requests]));
}

/**
 * How the work spread over the app's processes during the measurement: each process's part of
 * the app's CPU time (the first is the one started, e.g. a primary or PHP-FPM's master), and when
 * the app has a status page, each worker's part of the requests (pids of workers that came or
 * went meanwhile count what they did while both readings saw them).
 */
function shares(pids, cpu0, served0, served1) {
  const used = pids.map((pid, i) => cpuSeconds([pid]) - cpu0[i]);
  const total = used.reduce((a, b) => a + b, 0);
  const out = { cpu: used.map((u) => (total > 0 ? u / total : 0)) };
  if (served0 && served1) {
    const done = [...served1].filter(([pid]) => served0.has(pid)).map(([pid, n]) => n - served0.get(pid));
    const sum = done.reduce((a, b) => a + b, 0);
    out.requests = done.map((n) => (sum > 0 ? n / sum : 0));
  }
  return out;
}

/** Runs every row `runs` times; resolves { [id]: { label, runs: [...] } | { label, skipped } }. */
export async function runHttp({ runs, seconds, warmup, only, log }) {
  const rows = cases.filter((c) => !only || only.includes(c.id));
  const results = {};
  for (const c of rows) {
    const skipped = peers[c.peer].missing();
    results[c.id] = skipped ? { label: describe(c), skipped } : { label: describe(c), runs: [] };
  }
  for (let r = 1; r <= runs; r++) {
    for (const c of rows) {
      const out = results[c.id];
      if (out.skipped) continue;
      try {
        const m = await measure(c, { seconds, warmup });
        out.runs.push(m);
        const cpu = `CPU/req: app ${m.appUs === null ? '-' : m.appUs.toFixed(0)} µs, nginx ${m.nginxUs.toFixed(0)} µs`;
        const pct = (xs) => xs.map((x) => Math.round(100 * x)).join('/');
        const spread = m.shares
          ? `  CPU ${pct(m.shares.cpu)} %${m.shares.requests ? `, requests ${pct(m.shares.requests)} %` : ''}`
          : '';
        log(
          `  [${r}/${runs}] ${c.id.padEnd(18)} ${Math.round(m.rps).toString().padStart(7)} req/s  p99 ${m.p99.toFixed(1)} ms  ${cpu}${spread}${m.errors ? `  ${m.errors} errors` : ''}`,
        );
      } catch (e) {
        out.failed = String(e.message ?? e).slice(0, 500);
        log(`  [${r}/${runs}] ${c.id}: FAILED ${out.failed}`);
      }
    }
  }
  return results;
}
