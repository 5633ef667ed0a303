// @fcgi/router behind a real nginx (Debian's package and stock fastcgi_params, kept-alive upstream
// connections): the app in this process on a unix socket. nginx passes the raw request target as
// REQUEST_URI, so percent-escapes reach the router as the client sent them.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  createApp,
  createFcgiServer,
  type AppRequest,
  type AppResponse,
  type FcgiServer,
  type NextFunction,
} from '@fcgi/core';
import { Router, patterns } from '@fcgi/router';
import { skipUnless } from './helpers/app-process.js';
import { NGINX, fetchRaw, startNginx, type Nginx } from './helpers/nginx.js';

const skip = skipUnless(NGINX, 'nginx');

function buildApp() {
  const app = createApp({ matcher: patterns });
  const repos = Router({ mergeParams: true });
  repos.get('/issues/:number', (req, res) => {
    res.json({ route: 'issue', params: req.params, baseUrl: req.baseUrl, url: req.url });
  });
  repos.post('/issues', (req, res) => {
    res.status(201).json({ route: 'create', params: req.params });
  });
  app.use('/repos/:owner/:repo', repos);
  app.get('/users/:name', (req, res) => res.json({ route: 'user', name: req.params.name }));
  app.get('/raw/*path', (req, res) => res.json({ route: 'raw', path: req.params.path }));
  app.use((err: { status?: number; message: string }, _req: AppRequest, res: AppResponse, _next: NextFunction) => {
    res.status(err.status ?? 500).json({ error: err.message });
  });
  return app;
}

describe('@fcgi/router behind nginx', { skip, timeout: 120_000 }, () => {
  let dir: string | undefined;
  let server: FcgiServer | undefined;
  let nginx: Nginx | undefined;
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const get = (path: string, method = 'GET') => fetchRaw(nginx!.port, path, { agent, method });
  const json = (body: Buffer) => JSON.parse(body.toString('utf8'));

  before(
    async () => {
      dir = await mkdtemp(join(tmpdir(), 'fcgi-router-nginx-'));
      server = createFcgiServer(buildApp(), { onConnectionError: () => {} });
      const socket = join(dir, 'app.sock');
      await server.listenOn({ kind: 'unix', path: socket });
      nginx = await startNginx(socket);
    },
    { timeout: 30_000 },
  );
  after(
    async () => {
      agent.destroy();
      await nginx?.stop();
      await Promise.race([server?.close(), new Promise((r) => setTimeout(r, 5000))]);
      if (dir) await rm(dir, { recursive: true, force: true });
    },
    { timeout: 20_000 },
  );

  it('a mounted router with mergeParams: params from both levels, baseUrl and url', { timeout: 10_000 }, async () => {
    const r = await get('/repos/nodejs/node/issues/42?state=open');
    assert.equal(r.status, 200);
    assert.deepEqual(json(r.body), {
      route: 'issue',
      params: { owner: 'nodejs', repo: 'node', number: '42' },
      baseUrl: '/repos/nodejs/node',
      url: '/issues/42?state=open',
    });
    const c = await get('/repos/nodejs/node/issues', 'POST');
    assert.equal(c.status, 201);
    assert.deepEqual(json(c.body).params, { owner: 'nodejs', repo: 'node' });
  });

  it('params decoded from the raw target nginx forwards: UTF-8, %2F, splat segments', { timeout: 10_000 }, async () => {
    assert.equal(json((await get('/users/Zo%C3%AB')).body).name, 'Zoë');
    assert.equal(json((await get('/users/a%2Fb')).body).name, 'a/b');
    assert.deepEqual(json((await get('/raw/x/%7Ey/z%20z')).body).path, ['x', '~y', 'z z']);
  });

  it("an escape that is not UTF-8 is a 400 through the app's error handler; the connection stays usable", {
    timeout: 10_000,
  }, async () => {
    const r = await get('/users/%FF');
    assert.equal(r.status, 400);
    assert.match(json(r.body).error, /Failed to decode param/);
    assert.equal((await get('/users/ok')).status, 200);
  });

  it('405 with Allow, OPTIONS with Allow, HEAD served by GET', { timeout: 10_000 }, async () => {
    const wrong = await get('/repos/nodejs/node/issues/1', 'DELETE');
    assert.equal(wrong.status, 405);
    assert.equal(wrong.headers.allow, 'GET, HEAD');
    const options = await get('/repos/nodejs/node/issues', 'OPTIONS');
    assert.equal(options.status, 200);
    assert.equal(options.headers.allow, 'POST');
    assert.equal(options.body.toString(), 'POST');
    const head = await get('/users/x', 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(head.body.length, 0);
    assert.equal((await get('/nothing/here')).status, 404);
  });

  it('nginx logged no upstream errors', { timeout: 5_000 }, () => {
    const bad = nginx!
      .errorLog()
      .split('\n')
      .filter((l) => /upstream sent|upstream prematurely|upstream timed out|connect\(\) (to|failed)/.test(l));
    assert.deepEqual(bad, []);
  });
});
