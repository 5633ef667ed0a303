// serve({ workers: 2 }) behind a real nginx: the primary holds the socket (unix socket, TCP, or fd
// 0 from spawn-fcgi) and shares it with two worker processes, which accept on it themselves (with
// the primary stopped too) and spread kept connections evenly (also with a worker slow to start
// and a loaded machine); both serve; a killed worker is replaced; workers recycle themselves
// (maxRequestsPerProcess) with no request lost; SIGTERM to the primary drains every worker and
// exits 0; status() shows the whole pool.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { FcgiClient } from '@fcgi/core';
import { findBinary, signalPid, skipUnless } from './helpers/app-process.js';
import { getJson, startAppChild, startNginxFront, until, type AppChild, type NginxFront } from './helpers/lifecycle.js';
import { NGINX, freePort } from './helpers/nginx.js';

interface Status {
  mode: string;
  requests: number;
  active: number;
  restarts: number;
  workers: { pid: number; requests: number; connections: number }[];
}

const alive = (pid: number) => existsSync(`/proc/${pid}`);

/** A child process spinning one CPU (load for the machine), stopped by the test through its pid. */
const busyLoop = () => spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' });

let dir = '';
const apps: AppChild[] = [];
const fronts: NginxFront[] = [];
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fcgi-workers-'));
});
after(async () => {
  for (const f of fronts) await f.stop();
  for (const a of apps) await a.kill();
  await rm(dir, { recursive: true, force: true });
});

/**
 * `total` GET requests of `path`, `concurrency` at a time; every status and pid seen. To see both
 * workers serve, `path` is /slow: nginx opens another kept connection only while all its others
 * are busy, and requests as quick as /echo can all ride the first one or two, which the cap lets
 * one worker hold (at most 2 more than the other); `concurrency` requests of 50 ms each need that
 * many connections at once.
 */
async function load(port: number, path: string, total: number, concurrency: number) {
  const statuses: number[] = [];
  const pids = new Set<number>();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        next++;
        const r = await getJson<{ pid: number }>(port, path);
        statuses.push(r.status);
        if (r.status === 200) pids.add(r.body.pid);
      }
    }),
  );
  return { statuses, pids };
}

/** Opens `n` connections to `socket` at once (kept in `held`); resolves once all are connected. */
async function openConnections(socket: string, n: number, held: Socket[]): Promise<void> {
  await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<void>((resolve, reject) => {
          const s = connect(socket, () => resolve());
          s.once('error', reject);
          held.push(s);
        }),
    ),
  );
}

async function pool(
  name: string,
  listen: string | null,
  upstream: string,
  env: Record<string, string> = {},
  command?: string[],
) {
  const app = await startAppChild({
    ...(listen ? { listen } : {}),
    options: { workers: 2 },
    env,
    command,
    waitFor: listen ? (listen.startsWith('/') ? listen : Number(listen.split(':')[1])) : upstream.slice(5),
  });
  apps.push(app);
  const nginx = await startNginxFront([upstream]);
  fronts.push(nginx);
  // Both workers up (the primary listens before they are).
  await until(
    async () => (await getJson<Status>(nginx.port, '/status?json')).body.workers?.length === 2,
    15_000,
    `${name}: two workers`,
  );
  return { app, nginx, port: nginx.port };
}

async function drainOnSigterm(app: AppChild, port: number, workerPids: number[]): Promise<void> {
  const burst = Array.from({ length: 10 }, () => getJson<{ waited: number }>(port, '/slow?ms=1000'));
  await until(
    async () => ((await getJson<Status>(port, '/status?json')).body.active ?? 0) >= 11,
    10_000,
    'the burst in flight',
  );
  signalPid(app.pid, 'SIGTERM');
  for (const r of await Promise.all(burst)) {
    assert.equal(r.status, 200, r.raw);
    assert.equal(r.body.waited, 1000);
  }
  assert.deepEqual(await app.exit, { code: 0, signal: null });
  await until(() => workerPids.every((p) => !alive(p)), 5000, 'the workers to exit');
}

describe('serve({ workers: 2 })', { skip: skipUnless(NGINX, 'nginx'), timeout: 180_000 }, () => {
  it('unix socket: two pids serve; a killed worker is replaced; status shows the pool; SIGTERM drains', {
    timeout: 60_000,
  }, async () => {
    const socket = join(dir, 'unix.sock');
    const { app, port, nginx } = await pool('unix', socket, `unix:${socket}`);
    const { statuses, pids } = await load(port, '/slow?ms=50', 40, 8);
    assert.ok(
      statuses.every((s) => s === 200),
      `statuses: ${statuses.join(',')}`,
    );
    assert.equal(pids.size, 2, `served by ${[...pids].join(', ')}`);
    assert.ok(!pids.has(app.pid), 'the primary serves no request');

    const st = await getJson<Status>(port, '/status?json');
    assert.equal(st.body.mode, 'cluster');
    assert.deepEqual(st.body.workers.map((w) => w.pid).sort(), [...pids].sort());
    assert.ok(st.body.requests >= 41, `pool total ${st.body.requests}`);
    assert.equal(
      st.body.requests,
      st.body.workers.reduce((n, w) => n + w.requests, 0),
    );
    const text = (await getJson(port, '/status')).raw;
    assert.match(text, /^mode: +cluster\n/);
    assert.match(text, /\nworkers: +2\n/);

    const [victim] = [...pids];
    signalPid(victim, 'SIGKILL');
    await until(
      async () => {
        const b = (await getJson<Status>(port, '/status?json')).body;
        return b.workers?.length === 2 && !b.workers.some((w) => w.pid === victim);
      },
      15_000,
      'a replacement worker',
    );
    assert.match(app.stderr(), new RegExp(`worker ${victim} exited \\(SIGKILL\\); starting another`));
    const after = await load(port, '/echo', 20, 4);
    assert.ok(
      after.statuses.every((s) => s === 200),
      `after the kill: ${after.statuses.join(',')}`,
    );
    assert.ok(!after.pids.has(victim));
    const now = (await getJson<Status>(port, '/status?json')).body;
    assert.equal(now.restarts, 1);
    const members = now.workers.map((w) => w.pid);

    // The kill reset nginx's kept-alive connections to that worker (it retried elsewhere); the
    // drain must add no such line.
    const logged = nginx.errorLog().length;
    await drainOnSigterm(app, port, members);
    assert.doesNotMatch(nginx.errorLog().slice(logged), /upstream prematurely closed|reset by peer/);
  });

  it('one worker 1.5 s late: both serve from the first requests (the first workers accept together)', {
    timeout: 60_000,
  }, async () => {
    const socket = join(dir, 'late.sock');
    const { app, port } = await pool('late', socket, `unix:${socket}`, {
      LIFECYCLE_APP_SLOW_WORKER: `${join(dir, 'late.slow')}:1500`,
    });
    const { statuses, pids } = await load(port, '/slow?ms=50', 40, 8);
    assert.ok(
      statuses.every((s) => s === 200),
      `statuses: ${statuses.join(',')}`,
    );
    assert.equal(pids.size, 2, `served by ${[...pids].join(', ')}`);
    signalPid(app.pid, 'SIGTERM');
    assert.deepEqual(await app.exit, { code: 0, signal: null });
  });

  it('the workers accept themselves: with the primary stopped (SIGSTOP), new connections are served', {
    timeout: 60_000,
  }, async () => {
    const socket = join(dir, 'direct.sock');
    const { app, port } = await pool('direct', socket, `unix:${socket}`);
    const workers = (await getJson<Status>(port, '/status?json')).body.workers.map((w) => w.pid);
    // One connection per request, as nginx opens them without fastcgi_keep_conn.
    const client = new FcgiClient({ target: socket, keepConn: false, timeout: 3000 });
    signalPid(app.pid, 'SIGSTOP');
    try {
      const pids = new Set<number>();
      for (let i = 0; i < 20; i++) {
        const r = await client.request({
          params: { REQUEST_METHOD: 'GET', REQUEST_URI: '/echo', SERVER_PROTOCOL: 'HTTP/1.1' },
        });
        assert.equal(r.status, 200);
        pids.add((JSON.parse(await r.text()) as { pid: number }).pid);
      }
      assert.ok(
        [...pids].every((p) => workers.includes(p)),
        `served by ${[...pids].join(', ')}; workers ${workers.join(', ')}`,
      );
    } finally {
      signalPid(app.pid, 'SIGCONT');
      await client.close();
    }
    await drainOnSigterm(app, port, workers);
  });

  it('the socket queues connections from the moment it appears, before any worker is up', {
    timeout: 60_000,
  }, async () => {
    const socket = join(dir, 'early.sock');
    const app = await startAppChild({ listen: socket, options: { workers: 2 }, waitFor: false });
    apps.push(app);
    await until(() => existsSync(socket), 20_000, 'the socket file');
    const client = new FcgiClient({ target: socket, keepConn: false, timeout: 20_000 });
    try {
      const r = await client.request({
        params: { REQUEST_METHOD: 'GET', REQUEST_URI: '/echo', SERVER_PROTOCOL: 'HTTP/1.1' },
      });
      assert.equal(r.status, 200);
      assert.notEqual((JSON.parse(await r.text()) as { pid: number }).pid, app.pid);
    } finally {
      await client.close();
    }
    signalPid(app.pid, 'SIGTERM');
    assert.deepEqual(await app.exit, { code: 0, signal: null });
  });

  // Whatever the start order, the machine's load or a worker slow to answer its primary, the 16
  // go where they even out the workers' open connections (nginx's kept ones included, at most 2
  // apart): no worker holds many while another holds few. A stalled worker (SIGSTOP for 300 ms
  // while 4 of them are opened, each worker in turn) is what a loaded machine does at random: the
  // other one must not take its share meanwhile.
  const scenarios = [
    { label: 'both workers start together' },
    { label: 'one worker starts 1.5 s late', slow: true },
    { label: 'one worker starts 1.5 s late, the machine loaded by two busy loops', slow: true, loaded: true },
    { label: 'a worker stalls while they are opened, each in turn', stall: true },
    { label: 'a worker stalls while they are opened, each in turn, the machine loaded', stall: true, loaded: true },
    // Both stalled: the 16 wait in the backlog and the first to resume is woken with all of them
    // there; its pause holds within that one wake-up (libuv's accepting loop stops at it).
    { label: 'both stall while they are opened, one resumes 300 ms first (a burst in the backlog)', burst: true },
  ];
  for (const [i, { label, slow, loaded, stall, burst }] of scenarios.entries()) {
    it(`kept connections spread (${label}): 16 opened at once even out the workers' open connections`, {
      timeout: 60_000,
    }, async () => {
      const name = `spread-${i}`;
      const socket = join(dir, `${name}.sock`);
      const busy = loaded ? [busyLoop(), busyLoop()] : [];
      try {
        const env: Record<string, string> = slow
          ? { LIFECYCLE_APP_SLOW_WORKER: `${join(dir, `${name}.slow`)}:1500` }
          : {};
        const { app, port } = await pool(name, socket, `unix:${socket}`, env);
        const before = (await getJson<Status>(port, '/status?json')).body.workers;
        const held: Socket[] = [];
        let open: number[] = [];
        const accepted = (n: number) =>
          until(
            async () => {
              const now = (await getJson<Status>(port, '/status?json')).body.workers;
              open = now.map((w) => w.connections);
              const added = now.map((w) => w.connections - (before.find((b) => b.pid === w.pid)?.connections ?? 0));
              return now.length === 2 && added.reduce((x, y) => x + y, 0) >= n;
            },
            10_000,
            `${n} connections accepted`,
          );
        try {
          const rounds = stall ? 4 : 1;
          const pause = () => new Promise((resolve) => setTimeout(resolve, 300));
          for (let r = 0; r < rounds; r++) {
            const stopped = burst ? before.map((w) => w.pid) : stall ? [before[r % 2]!.pid] : [];
            for (const pid of stopped) signalPid(pid, 'SIGSTOP');
            try {
              await openConnections(socket, 16 / rounds, held);
              if (stopped.length) await pause();
            } finally {
              for (const pid of stopped) {
                signalPid(pid, 'SIGCONT');
                if (burst) await pause();
              }
            }
            await accepted(held.length);
            // A worker pauses at the fair share plus one of what the workers reported: 2 apart at most.
            assert.ok(
              Math.abs(open[0]! - open[1]!) <= 2,
              `open connections per worker after ${held.length}: ${open.join(', ')} (before: ${before.map((w) => w.connections).join(', ')})`,
            );
          }
        } finally {
          for (const s of held) s.destroy();
        }
        await drainOnSigterm(
          app,
          port,
          before.map((w) => w.pid),
        );
      } finally {
        for (const p of busy) p.kill('SIGKILL');
      }
    });
  }

  it('TCP: two pids serve; SIGTERM drains and exits 0', { timeout: 60_000 }, async () => {
    const tcp = `127.0.0.1:${await freePort()}`;
    const { app, port } = await pool('tcp', tcp, tcp);
    const { statuses, pids } = await load(port, '/slow?ms=50', 30, 6);
    assert.ok(statuses.every((s) => s === 200));
    assert.equal(pids.size, 2);
    await drainOnSigterm(app, port, [...pids]);
  });

  it('fd 0 from spawn-fcgi: the primary shares it with two workers; SIGTERM drains', {
    timeout: 60_000,
    skip: skipUnless(findBinary('spawn-fcgi'), 'spawn-fcgi'),
  }, async () => {
    const socket = join(dir, 'spawned.sock');
    // -n: spawn-fcgi execs node in place, so the pid we hold is the primary's.
    const { app, port } = await pool('fd0', null, `unix:${socket}`, {}, ['spawn-fcgi', '-n', '-s', socket, '--']);
    const { statuses, pids } = await load(port, '/slow?ms=50', 30, 6);
    assert.ok(statuses.every((s) => s === 200));
    assert.equal(pids.size, 2);
    assert.ok(!pids.has(app.pid));
    await drainOnSigterm(app, port, [...pids]);
  });

  it('FCGI_MAX_REQUESTS_PER_PROCESS=5: workers recycle under load, no request fails', { timeout: 60_000 }, async () => {
    const socket = join(dir, 'recycle.sock');
    const { app, port, nginx } = await pool('recycle', socket, `unix:${socket}`, {
      FCGI_MAX_REQUESTS_PER_PROCESS: '5',
    });
    // A recycling worker serves on until its replacement is ready (a tsx start takes about a
    // second), so the count is soft: load goes on until both first workers have been replaced.
    const first = (await getJson<Status>(port, '/status?json')).body.workers.map((w) => w.pid);
    const statuses: number[] = [];
    const pids = new Set<number>();
    const deadline = Date.now() + 30_000;
    while (first.some(alive) && Date.now() < deadline) {
      const r = await load(port, '/slow?ms=20', 20, 4);
      statuses.push(...r.statuses);
      for (const p of r.pids) pids.add(p);
    }
    assert.ok(
      statuses.every((s) => s === 200),
      `statuses: ${statuses.join(',')}`,
    );
    assert.ok(!first.some(alive), `the first workers (${first.join(', ')}) recycled and exited`);
    assert.ok(pids.size >= 3, `${statuses.length} requests served by ${pids.size} pids`);
    const st = await getJson<Status>(port, '/status?json');
    assert.ok(st.body.restarts >= 2, `restarts: ${st.body.restarts}`);
    assert.doesNotMatch(app.stderr(), /exited \(/, 'no worker died: they recycled');
    // nginx may log a kept-alive connection a recycling worker closed just as it was reused (and
    // retries the request on another): the statuses above are what the clients saw.
    assert.doesNotMatch(nginx.errorLog(), /no live upstreams|upstream timed out/);
    signalPid(app.pid, 'SIGTERM');
    assert.deepEqual(await app.exit, { code: 0, signal: null });
  });

  it('idleTimeout: once every worker has been idle that long, the whole pool exits 0', {
    timeout: 30_000,
  }, async () => {
    const socket = join(dir, 'idle.sock');
    const { app, port } = await pool('idle', socket, `unix:${socket}`, { FCGI_IDLE_TIMEOUT: '700' });
    const { pids } = await load(port, '/echo', 10, 2);
    const last = Date.now();
    assert.deepEqual(await app.exit, { code: 0, signal: null });
    assert.ok(Date.now() - last >= 600, `exited ${Date.now() - last} ms after the last request`);
    await until(() => [...pids].every((p) => !alive(p)), 5000, 'the workers to exit');
  });
});
