// SIGTERM and SIGINT, as mod_fcgid, lighttpd, systemd and a terminal send them to an app that serve()
// started: it stops accepting at once, lets the requests in flight finish, then exits 0; past
// gracefulTimeout it exits 1 with the rest cut; with handleSignals: false Node's default applies.
import assert from 'node:assert/strict';
import { existsSync, watch } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FcgiClient } from '@fcgi/core';
import { signalPid, skipUnless } from './helpers/app-process.js';
import { getJson, startAppChild, startNginxFront, until, type AppChild, type NginxFront } from './helpers/lifecycle.js';
import { NGINX } from './helpers/nginx.js';

let dir = '';
const apps: AppChild[] = [];
const clients: FcgiClient[] = [];
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fcgi-lc-signals-'));
});
after(async () => {
  for (const c of clients) await c.close();
  for (const a of apps) await a.kill();
  await rm(dir, { recursive: true, force: true });
});

async function app(
  name: string,
  options: Record<string, unknown> = {},
): Promise<{ app: AppChild; socket: string; client: FcgiClient }> {
  const socket = join(dir, `${name}.sock`);
  const a = await startAppChild({ listen: socket, options });
  apps.push(a);
  const client = new FcgiClient({ target: socket });
  clients.push(client);
  return { app: a, socket, client };
}

function fcgiGet(client: FcgiClient, uri: string) {
  return client.request({ params: { REQUEST_METHOD: 'GET', REQUEST_URI: uri, SERVER_PROTOCOL: 'HTTP/1.1' } });
}

describe('SIGTERM during a burst, through a real nginx', { skip: skipUnless(NGINX, 'nginx'), timeout: 60_000 }, () => {
  let nginx: NginxFront | undefined;
  after(async () => {
    await nginx?.stop();
  });

  it('every request in flight completes; requests after it are refused (502) at once; exit code 0', {
    timeout: 40_000,
  }, async () => {
    const { app: a, socket } = await app('burst');
    nginx = await startNginxFront([`unix:${socket}`]);
    const port = nginx.port;
    assert.equal((await getJson(port, '/echo')).status, 200);

    const N = 24;
    let finished = 0;
    const burst = Array.from({ length: N }, () =>
      getJson<{ pid: number; waited: number }>(port, '/slow?ms=1500').finally(() => finished++),
    );
    // The status request itself is one of the requests in flight.
    await until(
      async () => ((await getJson<{ active: number }>(port, '/status?json')).body.active ?? 0) >= N + 1,
      10_000,
      'the burst in flight',
    );

    const sentAt = Date.now();
    signalPid(a.pid, 'SIGTERM');
    await until(() => !existsSync(socket), 3000, 'the listening socket to go');
    const late = await getJson(port, '/echo');
    assert.equal(late.status, 502, 'a request after SIGTERM is refused');
    assert.equal(finished, 0, 'while the burst is still being served');

    const results = await Promise.all(burst);
    for (const r of results) {
      assert.equal(r.status, 200, r.raw);
      assert.equal(r.body.waited, 1500);
      assert.equal(r.body.pid, a.pid);
    }
    const end = await a.exit;
    assert.deepEqual(end, { code: 0, signal: null });
    assert.ok(Date.now() - sentAt < 5000, 'well within the grace period');
    assert.doesNotMatch(nginx.errorLog(), /upstream prematurely closed|reset by peer|upstream timed out/);
    assert.doesNotMatch(a.stderr(), /uncaught|gracefulTimeout/);
  });
});

describe('signals without a web server (a FastCGI client on the socket)', { timeout: 60_000 }, () => {
  it('SIGINT: the request in flight completes, then exit 0', { timeout: 20_000 }, async () => {
    const { app: a, client } = await app('sigint');
    const pending = fcgiGet(client, '/slow?ms=600');
    await new Promise((r) => setTimeout(r, 200));
    signalPid(a.pid, 'SIGINT');
    const res = await pending;
    assert.equal(res.status, 200);
    assert.deepEqual(JSON.parse(await res.text()), { pid: a.pid, waited: 600 });
    assert.deepEqual(await a.exit, { code: 0, signal: null });
  });

  it('an idle app exits at once on SIGTERM', { timeout: 20_000 }, async () => {
    const { app: a } = await app('idle');
    const t0 = Date.now();
    signalPid(a.pid, 'SIGTERM');
    assert.deepEqual(await a.exit, { code: 0, signal: null });
    assert.ok(Date.now() - t0 < 2000, `exited after ${Date.now() - t0} ms`);
  });

  it('SIGTERM the moment the socket appears (a web server stopping an app it just started): exit 0', {
    timeout: 30_000,
  }, async () => {
    // The handlers are installed before the socket listens. They were installed after it, and a
    // SIGTERM in between killed the process by Node's default (signal SIGTERM, no drain). The last
    // round is the primary of serve({ workers }).
    for (let i = 0; i < 3; i++) {
      const name = `early-${i}.sock`;
      const socket = join(dir, name);
      let pid: number | undefined;
      let seen = false;
      const watcher = watch(dir, (_event, file) => {
        if (file === name && !seen && existsSync(socket)) {
          seen = true;
          signalPid(pid, 'SIGTERM');
        }
      });
      try {
        const a = await startAppChild({ listen: socket, waitFor: false, options: i === 2 ? { workers: 2 } : {} });
        apps.push(a);
        pid = a.pid;
        assert.deepEqual(await a.exit, { code: 0, signal: null }, a.stderr());
        assert.ok(seen, 'the socket appeared');
      } finally {
        watcher.close();
      }
    }
  });

  it('gracefulTimeout: a request longer than it is cut, and the exit code is 1', { timeout: 20_000 }, async () => {
    const { app: a, client } = await app('grace', { gracefulTimeout: 400 });
    const pending = fcgiGet(client, '/slow?ms=10000').then(
      async (res) => ({ ok: true, status: res.status, text: await res.text().catch((e: Error) => e.message) }),
      (err: Error) => ({ ok: false, status: 0, text: err.message }),
    );
    await new Promise((r) => setTimeout(r, 200));
    const t0 = Date.now();
    signalPid(a.pid, 'SIGTERM');
    const end = await a.exit;
    const took = Date.now() - t0;
    assert.deepEqual(end, { code: 1, signal: null });
    assert.ok(took >= 350 && took < 3000, `exited ${took} ms after SIGTERM`);
    assert.match(
      a.stderr(),
      /requests still in flight after gracefulTimeout \(400 ms\): exiting now \(1 request\(s\) cut\)/,
    );
    const r = await pending;
    assert.equal(r.ok && r.status === 200 && r.text.includes('waited'), false, 'the long request did not complete');
  });

  it('handleSignals: false leaves SIGTERM to Node: the process dies by the signal', { timeout: 20_000 }, async () => {
    const { app: a } = await app('nosignals', { handleSignals: false });
    signalPid(a.pid, 'SIGTERM');
    assert.deepEqual(await a.exit, { code: null, signal: 'SIGTERM' });
  });
});
