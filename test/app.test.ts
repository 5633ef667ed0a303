// The app's middleware chain over real FastCGI: order, mounting, errors, async, next() twice, 404.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createApp, httpError, type App, type Handler } from '@fcgi/core';
import { nginxParams, request, withServer } from './helpers/http-harness.js';

function get(path: string, uri: string, extra: Record<string, string> = {}) {
  return request(path, nginxParams({ REQUEST_URI: uri, SCRIPT_NAME: uri.split('?')[0], ...extra }));
}

function serveApp(app: App, fn: (path: string) => Promise<void>, env?: string) {
  if (env) app.set('env', env);
  return withServer(app as unknown as Handler, ({ path }) => fn(path));
}

describe('app chain', () => {
  it('runs middleware in order and stops at the one that responds', { timeout: 10_000 }, async () => {
    const app = createApp();
    const seen: string[] = [];
    app.use((_req, _res, next) => {
      seen.push('a');
      next();
    });
    app.use((_req, res, next) => {
      seen.push('b');
      res.setHeader('X-B', '1');
      next();
    });
    app.use((_req, res) => {
      seen.push('c');
      res.end('done');
    });
    app.use(() => {
      seen.push('never');
    });
    await serveApp(app, async (path) => {
      const r = await get(path, '/x');
      assert.equal(r.status, 200);
      assert.equal(r.headers['x-b'], '1');
      assert.equal(r.body.toString(), 'done');
      assert.deepEqual(seen, ['a', 'b', 'c']);
    });
  });

  it('mounts under a prefix: url stripped inside, baseUrl/originalUrl set, both restored after', {
    timeout: 10_000,
  }, async () => {
    const app = createApp();
    const log: string[] = [];
    app.use('/api', (req, _res, next) => {
      log.push(`api ${req.url} ${req.baseUrl} ${req.originalUrl} ${req.path}`);
      next();
    });
    app.use('/API/v1/', (req, _res, next) => {
      log.push(`v1 ${req.url} ${req.baseUrl}`);
      next();
    });
    app.use('/apix', () => {
      log.push('apix must not match /api');
    });
    app.use((req, res) => {
      log.push(`end ${req.url} ${req.baseUrl}`);
      res.end('ok');
    });
    await serveApp(app, async (path) => {
      await get(path, '/api/v1/users?x=1');
      assert.deepEqual(log, [
        'api /v1/users?x=1 /api /api/v1/users?x=1 /v1/users',
        'v1 /users?x=1 /api/v1',
        'end /api/v1/users?x=1 ',
      ]);
      log.length = 0;
      await get(path, '/api?q=1');
      assert.equal(log[0], 'api /?q=1 /api /api?q=1 /');
    });
  });

  it('mounts sub-apps: req.app, mountpath, parent, and falls back to the parent chain', {
    timeout: 10_000,
  }, async () => {
    const app = createApp();
    const admin = createApp();
    admin.use('/users', (req, res) => {
      res.end(`users in ${req.app === admin} base=${req.baseUrl} mount=${admin.mountpath}`);
    });
    app.use('/admin', admin);
    app.use((req, res) => {
      res.end(`parent app=${req.app === app} url=${req.url}`);
    });
    assert.equal(admin.parent, app);
    await serveApp(app, async (path) => {
      assert.equal((await get(path, '/admin/users')).body.toString(), 'users in true base=/admin/users mount=/admin');
      assert.equal((await get(path, '/admin/other')).body.toString(), 'parent app=true url=/admin/other');
    });
  });

  it('next(err) skips to error middleware; an error handler can recover with next()', { timeout: 10_000 }, async () => {
    const app = createApp();
    const seen: string[] = [];
    app.use((_req, _res, next) => next(Object.assign(new Error('boom'), { status: 418 })));
    app.use(() => {
      seen.push('skipped');
    });
    app.use((err: Error, _req: unknown, _res: unknown, next: (e?: unknown) => void) => {
      seen.push(`e1 ${err.message}`);
      next(err);
    });
    // Error middleware is told apart by its four parameters, as in Express.
    app.use((_err: Error, req: { url: string }, res: { end(s: string): void }, _next: unknown) => {
      seen.push('e2');
      res.end(`handled ${req.url}`);
    });
    await serveApp(app, async (path) => {
      const r = await get(path, '/y');
      assert.equal(r.body.toString(), 'handled /y');
      assert.deepEqual(seen, ['e1 boom', 'e2']);
    });
  });

  it('an async handler that rejects becomes next(err); a sync throw too', { timeout: 10_000 }, async () => {
    const app = createApp();
    app.use('/async', async () => {
      await new Promise((r) => setTimeout(r, 5));
      throw new Error('async failure');
    });
    app.use('/sync', () => {
      throw new Error('sync failure');
    });
    app.use((err: Error, _req: unknown, res: { statusCode: number; end(s: string): void }, _next: unknown) => {
      res.statusCode = 500;
      res.end(`caught: ${err.message}`);
    });
    await serveApp(app, async (path) => {
      assert.equal((await get(path, '/async')).body.toString(), 'caught: async failure');
      assert.equal((await get(path, '/sync')).body.toString(), 'caught: sync failure');
    });
  });

  it('next() called twice runs the rest once and reports the bug on FCGI_STDERR', { timeout: 10_000 }, async () => {
    const app = createApp();
    let count = 0;
    app.use((_req, _res, next) => {
      next();
      next();
    });
    app.use((_req, res) => {
      count++;
      setTimeout(() => res.end('once'), 20);
    });
    await serveApp(app, async (path) => {
      const r = await get(path, '/twice');
      assert.equal(r.body.toString(), 'once');
      assert.equal(count, 1);
      assert.match(r.stderr.toString(), /next\(\) called more than once/);
    });
  });

  it('the default 404 names the method and path', { timeout: 10_000 }, async () => {
    const app = createApp();
    app.use('/only', (_req, res) => res.end('x'));
    await serveApp(app, async (path) => {
      const r = await get(path, '/missing/p%3Cb%3E?q=1');
      assert.equal(r.status, 404);
      assert.match(r.headers['content-type'] as string, /^text\/html/);
      assert.match(r.body.toString(), /Cannot GET \/missing\/p%3Cb%3E</);
    });
  });

  it('the default error handler: exposed 4xx message shown, others only outside production, always logged', {
    timeout: 10_000,
  }, async () => {
    for (const env of ['development', 'production']) {
      const app = createApp();
      app.use('/client', () => {
        throw httpError(400, 'bad input here');
      });
      app.use('/unmarked', () => {
        throw Object.assign(new Error('unmarked detail'), { status: 400 });
      });
      app.use('/server', () => {
        throw new Error('secret internals');
      });
      await serveApp(
        app,
        async (path) => {
          const c = await get(path, '/client');
          assert.equal(c.status, 400);
          assert.match(c.body.toString(), /bad input here/);
          assert.match(c.stderr.toString(), /bad input here/);
          // A 4xx not marked `expose: true` (as FcgiError and http-errors mark theirs) is shown only
          // outside production, as a 5xx is.
          const u = await get(path, '/unmarked');
          assert.equal(u.status, 400);
          if (env === 'production') assert.match(u.body.toString(), /<pre>400 Bad Request<\/pre>/);
          else assert.match(u.body.toString(), /unmarked detail/);
          const s = await get(path, '/server');
          assert.equal(s.status, 500);
          assert.match(s.stderr.toString(), /secret internals/);
          if (env === 'production') {
            assert.doesNotMatch(s.body.toString(), /secret internals/);
            assert.match(s.body.toString(), /Internal Server Error/);
          } else {
            assert.match(s.body.toString(), /secret internals/);
          }
        },
        env,
      );
    }
  });

  it('a long synchronous chain does not overflow the stack', { timeout: 20_000 }, async () => {
    const app = createApp();
    for (let i = 0; i < 20_000; i++) app.use((_req, _res, next) => next());
    app.use((_req, res) => res.end('deep'));
    await serveApp(app, async (path) => {
      assert.equal((await get(path, '/deep')).body.toString(), 'deep');
    });
  });

  it('settings, app.locals and res.locals', { timeout: 10_000 }, async () => {
    const app = createApp();
    app.set('title', 'T');
    app.enable('flag');
    assert.equal(app.set('title'), 'T');
    assert.equal(app.enabled('flag'), true);
    assert.equal(app.disabled('other'), true);
    app.locals.site = 'S';
    app.use((_req, res, next) => {
      res.locals.user = 'u';
      next();
    });
    app.use((req, res) => res.end(`${req.app.locals.site} ${res.locals.user} ${req.app.set('title')}`));
    await serveApp(app, async (path) => {
      assert.equal((await get(path, '/')).body.toString(), 'S u T');
    });
  });

  it('an app handed a plain core request upgrades it (a sub-handler of a bare server)', {
    timeout: 10_000,
  }, async () => {
    const app = createApp();
    app.use('/p', (req, res) => res.end(`${req.baseUrl}|${req.originalUrl}|${typeof req.params}`));
    await withServer(
      (req, res) => app(req, res),
      async ({ path }) => {
        assert.equal((await get(path, '/p/q')).body.toString(), '/p|/p/q|object');
      },
    );
  });
});
