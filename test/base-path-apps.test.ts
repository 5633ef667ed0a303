// An Express app and a createApp() app under a base (a user's sub-directory behind Apache): the
// params are what mod_fcgid sends for /~alice/shop/... with the .htaccess rewrite to app.fcgi/$1.
// Routes, mounted routers, req.baseUrl / originalUrl, redirects built from the base, the 404.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import express from 'express';
import { createApp, inject, type AppRequest, type AppResponse, type Handler } from '@fcgi/core';

const BASE = '/~alice/shop';

/** GET `path` below the base, with the params mod_fcgid sends (PATH_INFO = the decoded rest). */
function get(app: unknown, path: string, basePath?: false) {
  // Both kinds of app are handlers inject() takes (a core Handler, a node:http listener).
  const handler = app as Handler;
  const q = path.indexOf('?');
  const pathInfo = decodeURIComponent(q < 0 ? path : path.slice(0, q));
  const environ = { SCRIPT_NAME: `${BASE}/app.fcgi`, PATH_INFO: pathInfo, SERVER_SOFTWARE: 'Apache/2.4' };
  return basePath === false
    ? inject(handler, `${BASE}${path}`, { environ: { SCRIPT_NAME: `${BASE}${pathInfo}` } })
    : inject(handler, `${BASE}${path}`, { environ });
}

type Seen = { url: string; baseUrl: string; originalUrl: string; path: string };
const seen = (req: { url: string; baseUrl: string; originalUrl: string; path: string }): Seen => ({
  url: req.url,
  baseUrl: req.baseUrl,
  originalUrl: req.originalUrl,
  path: req.path,
});

function expressApp() {
  const app = express();
  const api = express.Router();
  api.get('/items/:id', (req, res) => {
    res.json({ ...seen(req), id: req.params.id });
  });
  app.use('/api', api);
  app.get('/', (req, res) => {
    res.json(seen(req));
  });
  app.get('/login', (req, res) => {
    res.redirect(`${req.baseUrl}/`);
  });
  return app;
}

function fcgiApp() {
  const app = createApp();
  const api = createApp();
  api.get('/items/7', (req: AppRequest, res: AppResponse) => {
    res.json({ ...seen(req), id: '7' });
  });
  app.use('/api', api);
  app.get('/', (req: AppRequest, res: AppResponse) => {
    res.json(seen(req));
  });
  app.get('/login', (req: AppRequest, res: AppResponse) => {
    res.redirect(`${req.baseUrl}/`);
  });
  return app;
}

for (const [name, make] of [
  ['Express 5 given to serve()', expressApp],
  ['createApp()', fcgiApp],
] as const) {
  describe(`${name} under ${BASE}/`, () => {
    it('routes see the path below the base; baseUrl and originalUrl say where it sits', async () => {
      const app = make();
      let r = await get(app, '/?x=1');
      assert.equal(r.status, 200);
      assert.deepEqual(await r.json(), { url: '/?x=1', baseUrl: BASE, originalUrl: `${BASE}/?x=1`, path: '/' });
      r = await get(app, '/api/items/7');
      assert.equal(r.status, 200);
      assert.deepEqual(await r.json(), {
        url: '/items/7',
        baseUrl: `${BASE}/api`,
        originalUrl: `${BASE}/api/items/7`,
        path: '/items/7',
        id: '7',
      });
    });

    it('a redirect built from req.baseUrl stays inside the base', async () => {
      const r = await get(make(), '/login');
      assert.equal(r.status, 302);
      assert.equal(r.headers.get('location'), `${BASE}/`);
    });

    it('an unknown path is the 404 of the app', async () => {
      const r = await get(make(), '/nope');
      assert.equal(r.status, 404);
    });

    it('the whole URL when nginx sends no PATH_INFO (the route does not match)', async () => {
      const r = await get(make(), '/', false);
      assert.equal(r.status, 404);
    });
  });
}
