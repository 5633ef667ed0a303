// Views: one app (ejs and pug loaded by their extension, nunjucks through its own `view` class, an
// engine given to app.engine(), layouts and includes, locals from app, response and render, sub-apps,
// several roots, 'view cache' on and off, the errors) built on Express 5 over node:http and on
// createApp() over FastCGI; each answer's status, Content-Type, ETag and body must be the same. Each
// app renders its own copy of test/fixtures/views, whose path is replaced by <views> in bodies.
import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import express from 'express';
import nunjucks from 'nunjucks';
import { createApp, createFcgiServer, type FcgiServer, type Handler, type ViewEngine } from '@fcgi/core';
import { skipUnless } from './helpers/app-process.js';
import { nginxParams, request, withServer } from './helpers/http-harness.js';
import { NGINX, fetchRaw, startNginx } from './helpers/nginx.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/views/', import.meta.url));
const T = { timeout: 30_000 };

/** `{{name}}` replaced by options.name: an engine in Express's convention, read asynchronously. */
const tpl: ViewEngine = (path, options, callback) => {
  readFile(path, 'utf8').then(
    (src) =>
      callback(
        null,
        src.replace(/\{\{(\w+)\}\}/g, (_m, k: string) => String(options[k])),
      ),
    (err: Error) => callback(err),
  );
};

const items = ['one', '<two>'];

/** Routes and settings, the same calls on an Express app and on ours (`make` makes sub-apps). */
function build(app: any, make: () => any, views: string): void {
  app.set('views', views);
  app.set('view engine', 'ejs');
  app.locals.appName = 'Shop & Co';
  app.locals.who = 'app';
  app.engine('tpl', tpl);
  app.engine('.boom', () => {
    throw new Error('engine exploded');
  });
  app.use((_req: any, res: any, next: any) => {
    res.locals.user = 'ana <x>';
    res.locals.who = 'res';
    next();
  });
  app.get('/ejs', (_req: any, res: any) => res.render('page', { title: 'Hello <b>', who: 'render', items }));
  app.get('/ejs-res-who', (_req: any, res: any) => res.render('page', { title: 'T', items }));
  app.get('/ejs-app-who', (_req: any, res: any) => {
    delete res.locals.who;
    res.render('page', { title: 'T', items: [] });
  });
  app.get('/ejs-status', (_req: any, res: any) => res.status(201).render('page.ejs', { title: 'Made', items }));
  app.get('/blog', (_req: any, res: any) => res.render('blog'));
  app.get('/pug', (_req: any, res: any) => res.render('page.pug', { title: 'Pug page', items }));
  app.get('/tpl', (_req: any, res: any) => res.render('hello.tpl', { name: 'Zoë' }));
  app.get('/callback', (_req: any, res: any, next: any) =>
    res.render('page', { title: 'cb', items }, (err: Error | null, html?: string) =>
      err ? next(err) : res.type('txt').send(`${html!.length}\n${html!.toUpperCase()}`),
    ),
  );
  app.get('/callback-error', (_req: any, res: any) =>
    res.render('nope', (err: Error | null) => res.status(299).type('txt').send(`callback got: ${err?.message}`)),
  );
  app.get('/app-render', (req: any, res: any, next: any) =>
    req.app.render('page', { title: 'mail', user: 'nobody', items }, (err: Error | null, html?: string) =>
      err ? next(err) : res.type('txt').send(html),
    ),
  );
  app.get('/missing', (_req: any, res: any) => res.render('nope'));
  app.get('/missing-index', (_req: any, res: any) => res.render('partials'));
  app.get('/throws', (_req: any, res: any) => res.render('boom.boom'));
  app.get('/template-error', (_req: any, res: any) => res.render('page', { title: 'no items' }));
  app.get('/no-module', (_req: any, res: any) => res.render('x.nosuchengine'));
  app.get('/not-an-engine', (_req: any, res: any) => res.render('data.fs'));

  // A sub-app: its own views and locals, the parent's engines.
  const sub = make();
  sub.set('views', views);
  sub.get('/tpl', (_req: any, res: any) => res.render('hello.tpl', { name: 'sub' }));
  sub.get('/no-engine', (_req: any, res: any) => res.render('page'));
  app.use('/sub', sub);
  const plain = make(); // no 'view engine' (an empty one does not count) and a name without extension
  plain.set('view engine', '');
  plain.get('/page', (_req: any, res: any) => res.render('page'));
  app.use('/plain', plain);
  const bare = make(); // default views: ./views of the working directory
  bare.get('/page', (_req: any, res: any) => res.render('page.ejs'));
  app.use('/bare', bare);

  const multi = make();
  multi.set('views', [views, join(views, 'extra')]);
  multi.set('view engine', '.ejs');
  multi.locals.appName = 'multi';
  multi.get('/extra', (_req: any, res: any) => res.render('only-extra', { who: 'second' }));
  multi.get('/first', (_req: any, res: any) => res.render('page', { title: 'first root', who: 'x', items }));
  multi.get('/ghost', (_req: any, res: any) => res.render('ghost'));
  app.use('/multi', multi);

  for (const [mount, cache] of [
    ['/cached', true],
    ['/fresh', false],
  ] as const) {
    const c = make();
    c.set('views', views);
    c.set('view engine', 'ejs');
    c.set('view cache', cache);
    c.get('/changing', (_req: any, res: any) => res.render('changing'));
    // ejs turns its cache on from settings['view cache'] whatever `cache` says: so in both.
    c.get('/uncached', (_req: any, res: any) => res.render('changing', { cache: false }));
    app.use(mount, c);
  }

  const njk = make();
  nunjucks.configure(join(views, 'njk'), { express: njk, autoescape: true });
  njk.set('view engine', 'njk');
  njk.get('/page', (_req: any, res: any) => res.render('page', { title: 'Nunjucks <3' }));
  njk.get('/missing', (_req: any, res: any) => res.render('nope'));
  app.use('/njk', njk);

  app.use((err: any, _req: any, res: any, _next: any) => {
    // The first line only: Node's "Cannot find module" goes on with a require stack of the caller.
    const message = String(err.message).split('\n')[0];
    res
      .status(500)
      .type('txt')
      .send(`${err.name} ${err.code ?? '-'} view:${Boolean(err.view)}: ${message}`);
  });
}

const cases = [
  '/ejs',
  '/ejs-res-who',
  '/ejs-app-who',
  '/ejs-status',
  '/blog',
  '/pug',
  '/tpl',
  '/callback',
  '/callback-error',
  '/app-render',
  '/missing',
  '/missing-index',
  '/throws',
  '/template-error',
  '/no-module',
  '/not-an-engine',
  '/sub/tpl',
  '/sub/no-engine',
  '/plain/page',
  '/bare/page',
  '/multi/extra',
  '/multi/first',
  '/multi/ghost',
  '/njk/page',
  '/njk/missing',
  '/cached/changing',
  '/fresh/changing',
];

interface Answer {
  status: number;
  type: string | undefined;
  etag: string | undefined;
  body: string;
}

/** Status, Content-Type, ETag (when the body does not name the views path) and body with <views>. */
function answer(views: string, status: number, headers: Record<string, unknown>, body: Buffer): Answer {
  const text = body.toString('utf8');
  const etag = headers.etag as string | undefined;
  return {
    status,
    type: headers['content-type'] as string | undefined,
    etag: text.includes(views) ? 'varies with the path' : etag,
    body: text.split(views).join('<views>'),
  };
}

async function tempViews(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'fcgi-views-'));
  await cp(FIXTURES, dir, { recursive: true });
  return dir;
}

describe('views: the same app on Express 5 and on createApp()', () => {
  let server: Server;
  let port = 0;
  let exViews = '';
  let ourViews = '';
  before(async () => {
    exViews = await tempViews();
    ourViews = await tempViews();
    const ex = express();
    ex.disable('x-powered-by');
    build(ex, () => express(), exViews);
    server = ex.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await rm(exViews, { recursive: true, force: true });
    await rm(ourViews, { recursive: true, force: true });
  });

  const viaExpress = async (method: string, uri: string) => {
    const r = await fetchRaw(port, uri, { method });
    return answer(exViews, r.status, r.headers, r.body);
  };

  it('every render: status, type, ETag, body; the cache kept or dropped as the setting says', T, async () => {
    const app = createApp();
    build(app, () => createApp(), ourViews);
    await withServer(app as unknown as Handler, async ({ path }) => {
      const viaFcgi = async (method: string, uri: string) => {
        const r = await request(path, nginxParams({ REQUEST_METHOD: method, REQUEST_URI: uri, SCRIPT_NAME: uri }));
        return answer(ourViews, r.status, r.headers, r.body);
      };
      const compare = async (method: string, uri: string, step: string) => {
        const want = await viaExpress(method, uri);
        const got = await viaFcgi(method, uri);
        assert.deepEqual(got, want, `${step}: ${method} ${uri}`);
        return got;
      };
      for (const uri of cases) await compare('GET', uri, 'first pass');
      for (const uri of ['/ejs', '/pug', '/throws']) await compare('HEAD', uri, 'HEAD');

      // What the comparison stands on, stated once: locals in Express's order, escaping, layouts.
      const page = await viaFcgi('GET', '/ejs');
      assert.equal(page.status, 200);
      assert.equal(page.type, 'text/html; charset=utf-8');
      assert.match(page.body, /<title>Hello &lt;b&gt;<\/title>/);
      assert.match(page.body, /app: Shop &amp; Co, user: ana &lt;x&gt;, who: render/);
      assert.match(page.body, /<li>&lt;two&gt;<\/li>/);
      assert.match((await viaFcgi('GET', '/ejs-res-who')).body, /who: res/);
      assert.match((await viaFcgi('GET', '/ejs-app-who')).body, /who: app/);
      assert.match(
        (await viaFcgi('GET', '/pug')).body,
        /<span class="user">ana &lt;x&gt;<\/span><\/nav><h1>Pug page<\/h1>/,
      );
      assert.match(
        (await viaFcgi('GET', '/njk/page')).body,
        /<h1>Nunjucks &lt;3<\/h1><p>ana &lt;x&gt; \/ res \/ <\/p>/,
      );
      assert.equal(
        (await viaFcgi('GET', '/missing')).body,
        'Error - view:true: Failed to lookup view "nope" in views directory "<views>"',
      );
      assert.match((await viaFcgi('GET', '/multi/ghost')).body, /directories "<views>" or "<views>\/extra"/);

      // The template changes: the cached app keeps what it compiled; the other reads it again.
      for (const dir of [exViews, ourViews]) await writeFile(join(dir, 'changing.ejs'), '<p>version two</p>\n');
      for (const uri of ['/cached/changing', '/cached/uncached', '/fresh/changing'])
        await compare('GET', uri, 'changed');
      assert.match((await viaFcgi('GET', '/cached/changing')).body, /version one/);
      assert.match((await viaFcgi('GET', '/fresh/changing')).body, /version two/);
      // Gone: the cached view is still found, the uncached lookup fails.
      for (const dir of [exViews, ourViews]) await rm(join(dir, 'changing.ejs'));
      for (const uri of ['/cached/changing', '/fresh/changing']) await compare('GET', uri, 'deleted');
      assert.equal((await viaFcgi('GET', '/cached/changing')).status, 200);
      assert.equal((await viaFcgi('GET', '/fresh/changing')).status, 500);
    });
  });

  it('behind nginx: a page with a layout and includes, as Express renders it', {
    ...T,
    skip: skipUnless(NGINX, 'nginx'),
  }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fcgi-views-nginx-'));
    const views = await tempViews();
    const app = createApp();
    build(app, () => createApp(), views);
    const fcgi: FcgiServer = createFcgiServer(app as unknown as Handler, { onConnectionError: () => {} });
    const nginx = await fcgi
      .listenOn({ kind: 'unix', path: join(dir, 'app.sock') })
      .then(() => startNginx(join(dir, 'app.sock')));
    try {
      for (const uri of ['/ejs', '/pug', '/njk/page', '/missing']) {
        const r = await fetchRaw(nginx.port, uri);
        const got = answer(views, r.status, r.headers, r.body);
        const want = await viaExpress('GET', uri);
        assert.deepEqual(got, { ...want, body: want.body }, uri);
      }
    } finally {
      await nginx.stop();
      await fcgi.close();
      await rm(dir, { recursive: true, force: true });
      await rm(views, { recursive: true, force: true });
    }
  });
});
