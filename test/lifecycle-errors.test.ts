// Errors outside any request, in an app serve() started: an unhandled rejection is logged and the
// process serves on; an uncaught exception is logged, the requests in flight finish, and the
// process exits 1 (the web server or supervisor starts a fresh one). handleErrors: false is Node's
// own behaviour: the process dies at once, taking the requests in flight with it.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FcgiClient } from '@fcgi/core';
import { startAppChild, until, type AppChild } from './helpers/lifecycle.js';

let dir = '';
const apps: AppChild[] = [];
const clients: FcgiClient[] = [];
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fcgi-lc-errors-'));
});
after(async () => {
  for (const c of clients) await c.close();
  for (const a of apps) await a.kill();
  await rm(dir, { recursive: true, force: true });
});

async function start(name: string, options: Record<string, unknown> = {}) {
  const socket = join(dir, `${name}.sock`);
  const app = await startAppChild({ listen: socket, options });
  apps.push(app);
  const client = new FcgiClient({ target: socket });
  clients.push(client);
  const get = async (uri: string) => {
    const res = await client.request({
      params: { REQUEST_METHOD: 'GET', REQUEST_URI: uri, SERVER_PROTOCOL: 'HTTP/1.1' },
    });
    return { status: res.status, body: JSON.parse(await res.text()) as { pid: number; waited?: number } };
  };
  return { app, get };
}

describe('errors outside requests', { timeout: 60_000 }, () => {
  it('default: an unhandled rejection is logged and the same process serves on', { timeout: 20_000 }, async () => {
    const { app, get } = await start('reject');
    assert.equal((await get('/reject-later')).status, 200);
    await until(() => app.stderr().includes('unhandled promise rejection'), 5000, 'the log line');
    assert.match(
      app.stderr(),
      /fcgi: unhandled promise rejection \(serving on\): Error: lifecycle-app: rejected, nobody handles it/,
    );
    for (let i = 0; i < 3; i++) {
      const r = await get('/echo');
      assert.equal(r.status, 200);
      assert.equal(r.body.pid, app.pid);
    }
    assert.equal(app.child.exitCode, null, 'still running');
  });

  it('default: an uncaught exception is logged, the request in flight completes, then exit 1', {
    timeout: 20_000,
  }, async () => {
    const { app, get } = await start('throw');
    const slow = get('/slow?ms=800');
    await new Promise((r) => setTimeout(r, 150));
    assert.equal((await get('/throw-later')).status, 200);
    const r = await slow;
    assert.equal(r.status, 200, 'the request in flight when the exception came completed');
    assert.equal(r.body.waited, 800);
    assert.deepEqual(await app.exit, { code: 1, signal: null });
    assert.match(
      app.stderr(),
      /fcgi: uncaught exception \(finishing the requests in flight, then exiting\): Error: lifecycle-app: thrown outside any request/,
    );
  });

  it('handleErrors: false: an unhandled rejection kills the process at once, with the request in flight', {
    timeout: 20_000,
  }, async () => {
    const { app, get } = await start('node-default', { handleErrors: false });
    const slow = get('/slow?ms=3000').then(
      () => 'completed',
      (e: Error) => `failed: ${e.message}`,
    );
    await new Promise((r) => setTimeout(r, 150));
    await get('/reject-later').catch(() => undefined);
    const end = await app.exit;
    assert.equal(end.code, 1, 'Node exits 1 on an unhandled rejection');
    assert.match(await slow, /^failed/);
    assert.doesNotMatch(app.stderr(), /fcgi: unhandled promise rejection/);
  });

  it('handleErrors: false: an uncaught exception kills it too', { timeout: 20_000 }, async () => {
    const { app, get } = await start('node-default-throw', { handleErrors: false });
    assert.equal((await get('/throw-later')).status, 200);
    const end = await app.exit;
    assert.equal(end.code, 1);
    assert.match(app.stderr(), /lifecycle-app: thrown outside any request/);
    assert.doesNotMatch(app.stderr(), /fcgi: uncaught exception/);
  });
});
