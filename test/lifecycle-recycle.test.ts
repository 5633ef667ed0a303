// maxRequestsPerProcess and idleTimeout on a plain app process, set through the environment as a
// host would set them (FcgidInitialEnv, systemd Environment=): recycling after N requests (the Nth
// completes, then exit 0) and exiting after a quiet spell (postponed by every request).
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FcgiClient } from '@fcgi/core';
import { startAppChild, type AppChild } from './helpers/lifecycle.js';

let dir = '';
const apps: AppChild[] = [];
const clients: FcgiClient[] = [];
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fcgi-lc-recycle-'));
});
after(async () => {
  for (const c of clients) await c.close();
  for (const a of apps) await a.kill();
  await rm(dir, { recursive: true, force: true });
});

async function start(name: string, env: Record<string, string>) {
  const socket = join(dir, `${name}.sock`);
  const app = await startAppChild({ listen: socket, env });
  apps.push(app);
  const client = new FcgiClient({ target: socket });
  clients.push(client);
  const get = async (uri: string) => {
    const res = await client.request({
      params: { REQUEST_METHOD: 'GET', REQUEST_URI: uri, SERVER_PROTOCOL: 'HTTP/1.1' },
    });
    return { status: res.status, body: JSON.parse(await res.text()) as { pid: number } };
  };
  return { app, get };
}

describe('recycling and idle exit', { timeout: 60_000 }, () => {
  it('FCGI_MAX_REQUESTS_PER_PROCESS=3: three requests are served, then the process exits 0 and refuses more', {
    timeout: 20_000,
  }, async () => {
    const { app, get } = await start('max', { FCGI_MAX_REQUESTS_PER_PROCESS: '3' });
    for (let i = 0; i < 2; i++) assert.equal((await get('/echo')).status, 200);
    assert.equal(app.child.exitCode, null, 'alive after two');
    // The third takes a while: it is in flight when the recycling starts, and completes.
    const third = await get('/slow?ms=300');
    assert.equal(third.status, 200);
    assert.equal(third.body.pid, app.pid);
    assert.deepEqual(await app.exit, { code: 0, signal: null });
    await assert.rejects(get('/echo'), 'nothing listens any more');
  });

  it('FCGI_IDLE_TIMEOUT=500: requests keep it alive; 500 ms after the last one it exits 0', {
    timeout: 20_000,
  }, async () => {
    const { app, get } = await start('idle', { FCGI_IDLE_TIMEOUT: '500' });
    for (let i = 0; i < 6; i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, 250));
      assert.equal((await get('/echo')).status, 200);
      assert.equal(app.child.exitCode, null, 'alive while requests come every 250 ms');
    }
    const last = Date.now();
    assert.deepEqual(await app.exit, { code: 0, signal: null });
    const quiet = Date.now() - last;
    assert.ok(quiet >= 450 && quiet < 3000, `exited ${quiet} ms after the last request`);
  });
});
