// The app's own routing (installed by importing @fcgi/router) over real FastCGI behind the
// built-in gateway: param callbacks shared by the app's routers, path patterns in app.use(),
// OPTIONS/405 decided at the end of the whole chain (sub-apps included), and how to opt out.
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { describe, it } from 'node:test';
import {
  createApp,
  serve,
  type App,
  type AppRequest,
  type AppResponse,
  type NextFunction,
  type Serving,
} from '@fcgi/core';
import { allowedMethods } from '@fcgi/core';
import { Router, patterns } from '@fcgi/router';

function call(base: string, method: string, path: string): Promise<{ status: number; allow?: string; text: string }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: hostname, port, method, path, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, allow: res.headers.allow, text: Buffer.concat(chunks).toString() }),
      );
    });
    req.setTimeout(5_000, () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

async function withApp(app: App, fn: (url: string) => Promise<void>): Promise<void> {
  const s = (await serve(app, { port: 0, announce: false })) as Serving & { mode: 'gateway' };
  try {
    await fn(s.url);
  } finally {
    await s.close();
  }
}

const say = (text: string) => (_req: AppRequest, res: AppResponse) => res.send(text);

describe('app routing over FastCGI', { timeout: 60_000 }, () => {
  it("app.param runs once per value across the app's routers", { timeout: 10_000 }, async () => {
    const app = createApp({ matcher: patterns });
    let calls = 0;
    app.param('id', (_req, _res, next) => {
      calls++;
      next();
    });
    app.get('/things/:id', (_req, _res, next) => next());
    app.use((_req, _res, next) => next());
    app.get('/things/:id', (req, res) => res.send(`thing ${req.params.id}`));
    await withApp(app, async (url) => {
      assert.equal((await call(url, 'GET', '/things/9')).text, 'thing 9');
      assert.equal(calls, 1, 'as in Express, where the app has one router');
    });
  });

  it('app.use() with :params and RegExps mounts like Express; sub-apps see their mount', {
    timeout: 10_000,
  }, async () => {
    const app = createApp({ matcher: patterns });
    const repos = Router({ mergeParams: true });
    repos.get('/issues', (req, res) => res.json({ params: req.params, baseUrl: req.baseUrl, url: req.url }));
    app.use('/repos/:owner/:repo', repos);
    const admin = createApp({ matcher: patterns });
    admin.get('/stats', (req, res) => res.json({ baseUrl: req.baseUrl, url: req.url, mountpath: admin.mountpath }));
    app.use('/tenants/:tenant', admin);
    app.use(/^\/v\d+/, (req, res) => res.json({ baseUrl: req.baseUrl, url: req.url }));
    await withApp(app, async (url) => {
      assert.deepEqual(JSON.parse((await call(url, 'GET', '/repos/nodejs/node/issues?x=1')).text), {
        params: { owner: 'nodejs', repo: 'node' },
        baseUrl: '/repos/nodejs/node',
        url: '/issues?x=1',
      });
      assert.deepEqual(JSON.parse((await call(url, 'GET', '/tenants/acme/stats')).text), {
        baseUrl: '/tenants/acme',
        url: '/stats',
        mountpath: '/tenants/:tenant',
      });
      assert.deepEqual(JSON.parse((await call(url, 'GET', '/v2/ping')).text), { baseUrl: '/v2', url: '/ping' });
    });
  });

  it("405 is decided at the end of the top app: a sub-app's routes, then the parent's", {
    timeout: 10_000,
  }, async () => {
    const app = createApp({ matcher: patterns });
    const sub = createApp({ matcher: patterns });
    sub.get('/thing', say('sub get'));
    app.use(sub);
    app.post('/thing', say('parent post'));
    await withApp(app, async (url) => {
      assert.equal((await call(url, 'POST', '/thing')).text, 'parent post', 'the sub-app did not answer 405');
      const put = await call(url, 'PUT', '/thing');
      assert.equal(put.status, 405);
      assert.equal(put.allow, 'GET, HEAD, POST');
      const options = await call(url, 'OPTIONS', '/thing');
      assert.equal(options.status, 200);
      assert.equal(options.text, 'GET, HEAD, POST');
    });
  });

  it("a catch-all 404 handler answers first unless allowedMethods() stands before it; 'method not allowed' off", {
    timeout: 10_000,
  }, async () => {
    const custom = (withAllowed: boolean) => {
      const app = createApp({ matcher: patterns });
      app.get('/x', say('x'));
      if (withAllowed) app.use(allowedMethods());
      app.use((_req: AppRequest, res: AppResponse) => res.status(404).send('custom 404'));
      return app;
    };
    await withApp(custom(false), async (url) => {
      assert.deepEqual(await call(url, 'POST', '/x'), { status: 404, allow: undefined, text: 'custom 404' });
    });
    await withApp(custom(true), async (url) => {
      const r = await call(url, 'POST', '/x');
      assert.equal(r.status, 405);
      assert.equal(r.allow, 'GET, HEAD');
    });
    const off = createApp({ matcher: patterns });
    off.set('method not allowed', false);
    off.get('/x', say('x'));
    await withApp(off, async (url) => {
      assert.equal((await call(url, 'POST', '/x')).status, 404);
      assert.equal((await call(url, 'OPTIONS', '/x')).allow, 'GET, HEAD', 'OPTIONS is still answered');
    });
  });

  it('errors from routes reach app error middleware added after them', { timeout: 10_000 }, async () => {
    const app = createApp({ matcher: patterns });
    app.get('/boom', () => {
      throw Object.assign(new Error('bad input'), { status: 400 });
    });
    app.use((err: Error & { status: number }, _req: AppRequest, res: AppResponse, _next: NextFunction) =>
      res.status(err.status).send(`caught ${err.message}`),
    );
    await withApp(app, async (url) => {
      assert.deepEqual(await call(url, 'GET', '/boom'), { status: 400, allow: undefined, text: 'caught bad input' });
    });
  });
});
