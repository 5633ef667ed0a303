// Overload: more connections than maxConnections, more requests than maxRequests, and 2,000
// concurrent HTTP connections through a real nginx. Every request is answered or refused cleanly
// (a closed connection, a 503, or nginx's 502), the process never crashes, and it serves on after.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createFcgiServer, type FcgiRequest, type FcgiResponse, type FcgiServer } from '@fcgi/core';
import { Status } from '@fcgi/core/protocol';
import { exited, signalPid, skipUnless, waitForListener } from './helpers/app-process.js';
import { NGINX, freePort } from './helpers/nginx.js';
import { getParams, listenForTest, parseCgi, type RawClient } from './helpers/raw-client.js';

/** Answers after `ms`, so requests pile up. */
const slow = (ms: number) => (_req: FcgiRequest, res: FcgiResponse) => void setTimeout(() => res.end('ok'), ms);

describe('over the limits, raw FastCGI', () => {
  test('300 connections against maxConnections=50: the excess is closed unanswered, the rest served; then all serve again', {
    timeout: 20_000,
  }, async () => {
    const server = createFcgiServer(slow(300), { maxConnections: 50, onConnectionError: () => {} });
    const l = await listenForTest(server, 'unix');
    try {
      const clients = await Promise.all(Array.from({ length: 300 }, () => l.connect()));
      for (const c of clients) c.sendRequest(1, getParams('/x'));
      const outcomes = await Promise.all(
        clients.map(async (c: RawClient) => {
          try {
            const r = await c.reply(1, 5000);
            return parseCgi(r.stdout).status === 200 ? 'served' : 'other';
          } catch {
            return c.closed && c.records.length === 0 ? 'refused' : 'broken';
          }
        }),
      );
      const count = (k: string) => outcomes.filter((o) => o === k).length;
      assert.equal(
        count('served') + count('refused'),
        300,
        `outcomes: ${JSON.stringify({ served: count('served'), refused: count('refused'), other: count('other'), broken: count('broken') })}`,
      );
      assert.ok(
        count('served') >= 50 && count('refused') >= 1,
        `served ${count('served')}, refused ${count('refused')}`,
      );
      for (const c of clients) c.close();
      // Once they are gone (the server has seen every close: bounded), the full 50 are available again.
      for (const deadline = Date.now() + 5000; server.connections > 0 && Date.now() < deadline; ) await sleep(10);
      assert.equal(server.connections, 0, 'the closed connections are gone');
      const again = await Promise.all(Array.from({ length: 50 }, () => l.connect()));
      for (const c of again) c.sendRequest(1, getParams('/y'));
      const replies = await Promise.all(again.map((c) => c.reply(1, 5000)));
      assert.ok(replies.every((r) => parseCgi(r.stdout).status === 200));
    } finally {
      await l.stop();
    }
  });

  test('400 requests against maxRequests=100: the excess gets OVERLOADED and a 503 at once, the rest 200', {
    timeout: 20_000,
  }, async () => {
    // The admitted requests are held until the refusals are in (not for a fixed time, which a
    // loaded machine outlasts while still sending: then more than 100 fit in, one after another).
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const held = (_req: FcgiRequest, res: FcgiResponse) => void gate.then(() => res.end('ok'));
    const server = createFcgiServer(held, { maxRequests: 100, onConnectionError: () => {} });
    const l = await listenForTest(server, 'unix');
    try {
      const clients = await Promise.all(Array.from({ length: 400 }, () => l.connect()));
      for (const c of clients) c.sendRequest(1, getParams('/x'));
      let answered = 0;
      const pending = clients.map((c) => c.reply(1, 10_000).finally(() => answered++));
      // The 300 refusals come at once; bounded, in case fewer are refused (then the count says so).
      for (const deadline = Date.now() + 8000; answered < 300 && Date.now() < deadline; ) await sleep(10);
      assert.equal(server.activeRequests, 100, 'requests held while the rest are refused');
      release();
      const replies = await Promise.all(pending);
      const ok = replies.filter(
        (r) => parseCgi(r.stdout).status === 200 && r.protocolStatus === Status.REQUEST_COMPLETE,
      ).length;
      const overloaded = replies.filter(
        (r) => parseCgi(r.stdout).status === 503 && r.protocolStatus === Status.OVERLOADED,
      ).length;
      assert.equal(ok, 100);
      assert.equal(overloaded, 300);
      assert.equal(server.activeRequests, 0);
    } finally {
      release();
      await l.stop();
    }
  });
});

// -- 2,000 concurrent connections through nginx --

const CONCURRENT = 2000;

/** nginx's test config with room for thousands of connections (the shared helper's allows 256). */
function bigConfig(dir: string, port: number, socket: string): string {
  const user = process.getuid?.() === 0 ? 'user root;\n' : '';
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
    .map((k) => `  ${k}_temp_path ${join(dir, k)};`)
    .join('\n');
  return `daemon off;
master_process on;
worker_processes 1;
worker_rlimit_nofile 16384;
${user}pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'error.log')} error;
events { worker_connections 8192; }
http {
  access_log off;
${temp}
  upstream app {
    server unix:${socket};
    keepalive 64;
  }
  server {
    listen 127.0.0.1:${port} backlog=4096;
    location / {
      include /etc/nginx/fastcgi_params;
      fastcgi_pass app;
      fastcgi_keep_conn on;
    }
  }
}
`;
}

/** The soft limit on open files of this process: the client and the in-process app both need them. */
function openFileLimit(): number {
  const m = /Max open files\s+(\d+)/.exec(readFileSync('/proc/self/limits', 'utf8'));
  return m ? Number(m[1]) : 1024;
}

/** One GET on its own connection; the status, or the client-side error code. */
function get(port: number, path: string): Promise<number | string> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false, timeout: 30_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
    req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    req.end();
  });
}

// Relies on the server's default listen backlog (2048): with Node's 511, nginx got EAGAIN from
// connect() for the 512th connection of the burst and answered 502.
describe(`${CONCURRENT} concurrent connections through nginx`, {
  skip: skipUnless(NGINX, 'nginx'),
  timeout: 90_000,
}, () => {
  const concurrent = Math.min(CONCURRENT, Math.floor((openFileLimit() - 200) / 2));
  let dir = '';
  let nginx: ChildProcess | null = null;
  let port = 0;
  let server: FcgiServer | null = null;

  /** The app nginx passes to: each answer after 200 ms, at most `maxConnections` connections. */
  const serveSlow = async (maxConnections: number): Promise<FcgiServer> => {
    const s = createFcgiServer((_req, res) => void setTimeout(() => res.end('ok'), 200), {
      maxConnections,
      maxRequests: 4096,
      onConnectionError: () => {},
    });
    await s.listenOn({ kind: 'unix', path: join(dir, 'app.sock') });
    return s;
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fcgi-overload-'));
    const socket = join(dir, 'app.sock');
    server = await serveSlow(4096);
    port = await freePort();
    await writeFile(join(dir, 'nginx.conf'), bigConfig(dir, port, socket));
    nginx = spawn(NGINX!, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')], {
      stdio: 'ignore',
    });
    await waitForListener(port, 10_000, () => (nginx!.exitCode !== null ? 'nginx exited' : null));
  });

  after(async () => {
    if (nginx && nginx.exitCode === null) {
      signalPid(nginx.pid, 'SIGTERM');
      if (!(await exited(nginx, 5000))) signalPid(nginx.pid, 'SIGKILL');
    }
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  test(`${CONCURRENT} at once with room for all: every one answered 200`, { timeout: 60_000 }, async (t) => {
    const t0 = Date.now();
    const results = await Promise.all(Array.from({ length: concurrent }, (_, i) => get(port, `/ok/${i}`)));
    t.diagnostic(`${concurrent} requests in ${Date.now() - t0} ms`);
    const bad = results.filter((r) => r !== 200);
    assert.deepEqual(bad.slice(0, 10), [], `${bad.length} not 200`);
    await sleep(100);
    assert.equal(server!.activeRequests, 0);
  });

  test(`${CONCURRENT} at once against maxConnections=300: answered 200 or refused cleanly (502/503), no crash`, {
    timeout: 60_000,
  }, async (t) => {
    // The same app restarted with maxConnections: 300 (nginx reconnects to the same socket).
    await server!.close();
    server = await serveSlow(300);
    const results = await Promise.all(Array.from({ length: concurrent }, (_, i) => get(port, `/busy/${i}`)));
    const tally: Record<string, number> = {};
    for (const r of results) tally[r] = (tally[r] ?? 0) + 1;
    t.diagnostic(`outcomes: ${JSON.stringify(tally)}`);
    for (const k of Object.keys(tally)) assert.ok(['200', '502', '503'].includes(k), `unexpected outcome ${k}`);
    assert.ok((tally['200'] ?? 0) >= 300, 'at least the connections allowed were served');
    assert.ok((tally['502'] ?? 0) + (tally['503'] ?? 0) > 0, 'some were refused');
    // The app is alive and serves normally once the storm is over.
    await sleep(300);
    assert.equal(await get(port, '/after'), 200);
    assert.equal(server!.activeRequests, 0);
  });
});
