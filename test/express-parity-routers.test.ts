// Router edges on createApp() against Express 5 itself: a req.method changed by middleware
// (the method-override package) reaching the routes after it, an OPTIONS answer that cannot be
// sent (headers already out) passed on as an error, and a req.url that is empty, only a query, or
// missing, which ends a router as Express's does.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import methodOverride from 'method-override';
import { patterns } from '@fcgi/router';
import { answersOf, assertSameAnswers, type MakeApp, type MakeRouter } from './helpers/express-parity.js';

function overrideApps(app: any, makeApp: MakeApp, makeRouter: MakeRouter): void {
  const said = (what: string) => (req: any, res: any) =>
    res.json({ what, method: req.method, originalMethod: req.originalMethod ?? null, url: req.url });
  app.use(methodOverride('X-HTTP-Method-Override'));
  app.use(methodOverride((req: any) => req.query._method));
  app.get('/item', said('get'));
  app.delete('/item', said('delete'));
  app.put('/item', said('put'));
  app.route('/items/:id').get(said('get one')).patch(said('patch one'));
  // A router of its own with the override inside it, routes before and after.
  const r = makeRouter();
  r.get('/thing', said('router get'));
  r.use(methodOverride('X-Method'));
  r.delete('/thing', said('router delete'));
  app.use('/r', r);
  // Express's own test: a middleware that changes POST into DELETE.
  const alter = makeApp();
  alter.use((req: any, res: any, next: any) => {
    if (req.method !== 'POST') return next();
    req.method = 'DELETE';
    res.setHeader('X-Method-Altered', '1');
    next();
  });
  alter.delete('/', (_req: any, res: any) => res.end('deleted everything'));
  app.use('/alter', alter);
}

it('a req.method changed by method-override is seen by the routes after it', { timeout: 30_000 }, () =>
  assertSameAnswers(
    overrideApps,
    [
      ['POST', '/item', { 'x-http-method-override': 'DELETE' }],
      ['POST', '/item', { 'x-http-method-override': 'put' }],
      ['POST', '/item?_method=PUT'],
      ['GET', '/item', { 'x-http-method-override': 'DELETE' }],
      ['POST', '/items/42', { 'x-http-method-override': 'PATCH' }],
      ['POST', '/items/42?_method=GET'],
      ['POST', '/r/thing', { 'x-method': 'DELETE' }],
      ['POST', '/alter'],
      ['DELETE', '/alter'],
    ],
    { matcher: patterns },
  ),
);

function optionsApps(app: any, _makeApp: MakeApp, makeRouter: MakeRouter): void {
  app.use((req: any, res: any, next: any) => {
    if (req.get('x-flush')) {
      res.setHeader('X-Early', '1');
      res.flushHeaders();
    }
    next();
  });
  const sub = makeRouter();
  sub.get('/opt', (_req: any, res: any) => res.send('got'));
  sub.post('/opt', (_req: any, res: any) => res.send('posted'));
  app.use(sub);
  app.use((err: any, _req: any, res: any, _next: any) => {
    res.end(`error middleware: ${err.code} / ${err.message} / ${err.status ?? err.statusCode ?? 'no status'}`);
  });
}

it('OPTIONS: the Allow answer, and an error passed on when it cannot be sent', { timeout: 20_000 }, async () => {
  const answers = await answersOf(optionsApps, [
    ['OPTIONS', '/opt'],
    ['OPTIONS', '/opt', { 'x-flush': '1' }],
  ]);
  assert.deepEqual(answers[0]!.ours, answers[0]!.express);
  // Express's error is Node's (no status); ours is a 500 FcgiError with the same code and message.
  const express = answers[1]!.express;
  assert.equal(
    express.body,
    'error middleware: ERR_HTTP_HEADERS_SENT / Cannot set headers after they are sent to the client / no status',
  );
  assert.deepEqual(answers[1]!.ours, {
    ...express,
    body: 'error middleware: ERR_HTTP_HEADERS_SENT / Cannot set headers after they are sent to the client / 500',
  });
});

function urlApps(app: any, _makeApp: MakeApp, makeRouter: MakeRouter): void {
  const inner = makeRouter();
  inner.use((req: any, _res: any, next: any) => {
    const to = req.get('x-url');
    if (to === 'missing') delete req.url;
    else req.url = to;
    next();
  });
  inner.use((_req: any, res: any) => res.send('inner reached'));
  app.use('/m', inner);
  app.use((req: any, res: any) => res.json({ url: req.url, originalUrl: req.originalUrl, baseUrl: req.baseUrl }));
}

it('an empty or query-only req.url ends the router; the parent goes on with its own path', { timeout: 20_000 }, () =>
  assertSameAnswers(urlApps, [
    ['GET', '/m/x', { 'x-url': '' }],
    ['GET', '/m/x?a=1', { 'x-url': '?only=query' }],
    ['GET', '/m/x', { 'x-url': '/y' }],
  ]),
);

it('a missing req.url ends the chain with a 404, not a crash', { timeout: 20_000 }, async () => {
  const answers = await answersOf(
    (app) => {
      app.use((req: any, _res: any, next: any) => {
        delete req.url;
        next();
      });
      app.use((_req: any, res: any) => res.send('reached'));
    },
    [['GET', '/x']],
  );
  // The 404 page's wording is each framework's own (docs/express.md); the status is the same.
  assert.equal(answers[0]!.express.status, 404);
  assert.equal(answers[0]!.ours.status, 404);
  assert.doesNotMatch(answers[0]!.ours.body, /reached/);
});
