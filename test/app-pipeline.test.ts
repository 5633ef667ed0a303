// The one request pipeline over real FastCGI: apps and routers share one dispatcher (mounts honour
// 'case sensitive routing', next() twice is reported in routes too, a rejection without a reason
// is an error everywhere), the chain's end runs the app's notFound/onError hooks, and the one
// error renderer answers by Accept.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type AppRequest,
  type AppResponse,
  type FcgiError,
  type NextFunction,
  Router,
  createApp,
  httpError,
  type App,
  type Handler,
} from '@fcgi/core';
import { nginxParams, request, withServer } from './helpers/http-harness.js';

function get(path: string, uri: string, extra: Record<string, string> = {}) {
  return request(path, nginxParams({ REQUEST_URI: uri, SCRIPT_NAME: uri.split('?')[0]!, ...extra }));
}

function serveApp(app: App, fn: (path: string) => Promise<void>) {
  return withServer(app as unknown as Handler, ({ path }) => fn(path));
}

describe('one dispatcher', () => {
  it("mounts honour 'case sensitive routing' as routes do", { timeout: 10_000 }, async () => {
    const app = createApp();
    app.set('case sensitive routing', true);
    app.use('/Admin', (_req, res) => res.send('admin'));
    app.get('/Page', (_req, res) => res.send('page'));
    await serveApp(app, async (path) => {
      assert.equal((await get(path, '/Admin/x')).body.toString(), 'admin');
      assert.equal((await get(path, '/admin/x')).status, 404);
      assert.equal((await get(path, '/Page')).body.toString(), 'page');
      assert.equal((await get(path, '/page')).status, 404);
    });
    const loose = createApp();
    loose.use('/Admin', (_req, res) => res.send('admin'));
    await serveApp(loose, async (path) => {
      assert.equal((await get(path, '/ADMIN/x')).body.toString(), 'admin', 'case-insensitive by default');
    });
  });

  it('next() called twice in a route handler is reported with its name and ignored', { timeout: 10_000 }, async () => {
    const app = createApp();
    app.get('/twice', function twiceOver(_req, _res, next) {
      next();
      next();
    });
    app.get('/twice', (_req, res) => void setImmediate(() => res.send('once')));
    await serveApp(app, async (path) => {
      const r = await get(path, '/twice');
      assert.equal(r.body.toString(), 'once');
      assert.match(
        r.stderr.toString(),
        /Z \[req \d+-\d+\] GET \/twice: next\(\) called more than once by twiceOver: ignored/,
      );
    });
  });

  it('a promise rejected without a reason is an error, in middleware and in routes alike', {
    timeout: 10_000,
  }, async () => {
    const app = createApp();
    app.use('/mw', () => Promise.reject(undefined));
    app.get('/route', () => Promise.reject(null));
    await serveApp(app, async (path) => {
      assert.equal((await get(path, '/mw')).status, 500);
      assert.equal((await get(path, '/route')).status, 500);
    });
  });

  it('middleware may change req.method for the routes after it (method-override)', { timeout: 10_000 }, async () => {
    const app = createApp();
    app.use((req, _res, next) => {
      const override = req.get('x-http-method-override');
      if (req.method === 'POST' && override) req.method = override.toUpperCase();
      next();
    });
    app.delete('/thing', (_req, res) => res.send('deleted'));
    await serveApp(app, async (path) => {
      const r = await get(path, '/thing', { REQUEST_METHOD: 'POST', HTTP_X_HTTP_METHOD_OVERRIDE: 'delete' });
      assert.equal(r.status, 200);
      assert.equal(r.body.toString(), 'deleted');
    });
  });

  it('res.format() inside a route passes its 406 on through req.next, after earlier middleware ran', {
    timeout: 10_000,
  }, async () => {
    const app = createApp();
    app.use((_req, _res, next) => next());
    app.get('/fmt', (_req, res) => {
      res.format({ 'application/json': () => res.json({ ok: true }) });
    });
    app.use((err: FcgiError, _req: AppRequest, res: AppResponse, _next: NextFunction) => {
      res.status(err.status).send(`${err.name} ${err.status}`);
    });
    await serveApp(app, async (path) => {
      const r = await get(path, '/fmt', { HTTP_ACCEPT: 'image/png' });
      assert.equal(r.status, 406);
      assert.equal(r.body.toString(), 'NotAcceptableError 406');
      assert.doesNotMatch(r.stderr.toString(), /called more than once/);
    });
  });

  it('a core Router mounted in an app: literal paths need no matcher', { timeout: 10_000 }, async () => {
    const app = createApp();
    const api = Router();
    api.get('/status', (req, res) => res.json({ baseUrl: req.baseUrl, url: req.url }));
    app.use('/api', api);
    await serveApp(app, async (path) => {
      assert.deepEqual(JSON.parse((await get(path, '/api/status?x=1')).body.toString()), {
        baseUrl: '/api',
        url: '/status?x=1',
      });
    });
  });
});

describe('the chain end: hooks and the one error renderer', () => {
  it('app.notFound() answers what nothing answered; app.onError() answers unhandled errors after they were logged', {
    timeout: 10_000,
  }, async () => {
    const app = createApp();
    app.get('/boom', () => {
      throw httpError(409, 'taken');
    });
    app.get('/async', async () => {
      throw new Error('async detail');
    });
    app.notFound((req, res) => res.status(404).json({ missing: req.originalUrl }));
    app.onError((err, _req, res) => {
      const e = err as FcgiError;
      res.status(e.status ?? 500).json({ code: e.code ?? 'unknown', message: e.message });
    });
    await serveApp(app, async (path) => {
      const missing = await get(path, '/nowhere?x=1');
      assert.equal(missing.status, 404);
      assert.deepEqual(JSON.parse(missing.body.toString()), { missing: '/nowhere?x=1' });
      const boom = await get(path, '/boom');
      assert.equal(boom.status, 409);
      assert.deepEqual(JSON.parse(boom.body.toString()), { code: 'HTTP_409', message: 'taken' });
      assert.match(
        boom.stderr.toString(),
        /Z \[req \d+-\d+\] GET \/boom: FcgiError: taken/,
        'logged before the hook ran',
      );
      const a = await get(path, '/async');
      assert.equal(a.status, 500);
      assert.equal(JSON.parse(a.body.toString()).message, 'async detail');
    });
  });

  it('a 405 goes through onError with its Allow header; a hook that fails falls back to the default answer', {
    timeout: 10_000,
  }, async () => {
    const app = createApp();
    app.get('/only-get', (_req, res) => res.send('got'));
    app.get('/fails', () => {
      throw new Error('first');
    });
    app.onError((err, req, res) => {
      if (req.path === '/fails') throw new Error('the hook itself failed');
      res.status((err as FcgiError).status).send(`hooked ${(err as FcgiError).status}`);
    });
    await serveApp(app, async (path) => {
      const r = await get(path, '/only-get', { REQUEST_METHOD: 'DELETE' });
      assert.equal(r.status, 405);
      assert.equal(r.headers.allow, 'GET, HEAD');
      assert.equal(r.body.toString(), 'hooked 405');
      const f = await get(path, '/fails');
      assert.equal(f.status, 500);
      assert.match(f.stderr.toString(), /the hook itself failed/);
    });
  });

  it('the default answer is HTML, JSON or plain text by Accept', { timeout: 10_000 }, async () => {
    const app = createApp();
    app.set('env', 'production');
    app.get('/teapot', () => {
      throw httpError(418, 'short and stout');
    });
    await serveApp(app, async (path) => {
      const html = await get(path, '/teapot', { HTTP_ACCEPT: 'text/html,application/xhtml+xml,*/*;q=0.8' });
      assert.equal(html.headers['content-type'], 'text/html; charset=utf-8');
      assert.match(html.body.toString(), /<pre>short and stout<\/pre>/);
      const json = await get(path, '/teapot', { HTTP_ACCEPT: 'application/json' });
      assert.equal(json.headers['content-type'], 'application/json; charset=utf-8');
      assert.deepEqual(JSON.parse(json.body.toString()), { error: { status: 418, message: 'short and stout' } });
      const text = await get(path, '/teapot', { HTTP_ACCEPT: 'text/plain' });
      assert.equal(text.body.toString(), 'short and stout\n');
      const any = await get(path, '/missing', { HTTP_ACCEPT: '*/*' });
      assert.equal(any.headers['content-type'], 'text/html; charset=utf-8', "an app's fallback is HTML, as Express's");
      assert.equal(any.headers['content-security-policy'], "default-src 'none'");
    });
  });
});
