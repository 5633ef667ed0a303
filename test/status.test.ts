// status() over real FastCGI (a FcgiClient on a unix socket): ping, the text and JSON pages, counts
// that follow the requests made (in flight, served, connections), methods, custom paths, and use as
// a whole handler. The pool-wide page under serve({ workers }) is in workers.test.ts.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  FcgiClient,
  createApp,
  createFcgiServer,
  status,
  type FcgiServer,
  type Handler,
  type StatusReport,
} from '@fcgi/core';

let dir = '';
const servers: FcgiServer[] = [];
const clients: FcgiClient[] = [];
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fcgi-status-'));
});
after(async () => {
  for (const c of clients) await c.close();
  for (const s of servers) await s.close();
  await rm(dir, { recursive: true, force: true });
});

async function start(name: string, handler: Handler) {
  const server = createFcgiServer(handler);
  servers.push(server);
  const path = join(dir, `${name}.sock`);
  await server.listen(path);
  const client = new FcgiClient({ target: path });
  clients.push(client);
  const get = async (uri: string, method = 'GET', headers: Record<string, string> = {}) => {
    const params: Record<string, string> = { REQUEST_METHOD: method, REQUEST_URI: uri, SERVER_PROTOCOL: 'HTTP/1.1' };
    for (const [k, v] of Object.entries(headers)) params[`HTTP_${k.toUpperCase().replaceAll('-', '_')}`] = v;
    const res = await client.request({ params });
    return { status: res.status, headers: res.headers, text: await res.text() };
  };
  const report = async (uri = '/status?json') => JSON.parse((await get(uri)).text) as StatusReport;
  return { server, get, report };
}

describe('status()', { timeout: 30_000 }, () => {
  it('/ping answers pong; the page comes as text, or JSON with ?json or Accept', { timeout: 10_000 }, async () => {
    const app = createApp();
    app.use(status());
    const { get } = await start('basic', app);
    const ping = await get('/ping');
    assert.equal(ping.status, 200);
    assert.equal(ping.text, 'pong');
    assert.equal(ping.headers['content-type'], 'text/plain; charset=utf-8');
    assert.equal(ping.headers['cache-control'], 'no-store');

    const text = await get('/status');
    assert.equal(text.headers['content-type'], 'text/plain; charset=utf-8');
    assert.match(text.text, /^mode: +single\n/);
    assert.match(text.text, /\naccepted requests: +\d+\n/);
    assert.match(text.text, new RegExp(`\\npid: +${process.pid}\\n`));

    const viaQuery = await get('/status?json');
    assert.equal(viaQuery.headers['content-type'], 'application/json; charset=utf-8');
    const viaAccept = await get('/status', 'GET', { Accept: 'application/json' });
    assert.equal(viaAccept.headers['content-type'], 'application/json; charset=utf-8');
    const r = JSON.parse(viaAccept.text) as StatusReport;
    assert.equal(r.mode, 'single');
    assert.equal(r.pid, process.pid);
    assert.equal(r.workers.length, 1);
  });

  it('the counts follow the requests: served, in flight, connections', { timeout: 10_000 }, async () => {
    const app = createApp();
    app.use(status());
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    app.use('/hold', (_req, res) => void held.then(() => res.end('released\n')));
    app.use('/quick', (_req, res) => res.end('quick\n'));
    const { get, report } = await start('counts', app);

    const before = await report();
    assert.equal(before.active, 1, 'the status request itself');
    for (let i = 0; i < 5; i++) await get('/quick');
    const after5 = await report();
    assert.equal(after5.requests - before.requests, 6, 'five requests and this status request');

    const holding = get('/hold');
    const during = await (async () => {
      for (let i = 0; i < 100; i++) {
        const r = await report();
        if (r.active >= 2) return r;
        await new Promise((res) => setTimeout(res, 10));
      }
      throw new Error('the held request never showed as active');
    })();
    assert.equal(during.active, 2, 'the held request and the status request');
    assert.ok(during.connections >= 2, `two requests at once need two connections: ${during.connections}`);
    release();
    assert.equal((await holding).text, 'released\n');
    const done = await report();
    assert.equal(done.active, 1);
  });

  it('other methods get 405; custom paths; paths it does not own go on to the next handler', {
    timeout: 10_000,
  }, async () => {
    const app = createApp();
    app.use(status({ path: '/fpm-status', pingPath: '/alive', pingResponse: 'ok' }));
    app.use((_req, res) => {
      res.statusCode = 418;
      res.end('next\n');
    });
    const { get } = await start('paths', app);
    const post = await get('/fpm-status', 'POST');
    assert.equal(post.status, 405);
    assert.equal(post.headers.allow, 'GET, HEAD');
    assert.equal((await get('/alive')).text, 'ok');
    assert.match((await get('/fpm-status')).text, /accepted requests/);
    const other = await get('/status');
    assert.equal(other.status, 418, '/status is not its path here');
    assert.equal(other.text, 'next\n');
  });

  it('as a whole handler: its own paths, and 404 for the rest', { timeout: 10_000 }, async () => {
    const { get } = await start('handler', status());
    assert.equal((await get('/ping')).text, 'pong');
    const missing = await get('/elsewhere');
    assert.equal(missing.status, 404);
  });
});
