// Express's extension points on createApp(), against Express 5 itself: helpers added to
// app.request / app.response (as apps and plugins add them), a mounted sub-app's own helpers while
// inside it and its parent's back after, the app as an EventEmitter with 'mount', mountpath,
// parent and path().
import { it } from 'node:test';
import assert from 'node:assert/strict';
import express from 'express';
import { createApp } from '@fcgi/core';
import { assertSameAnswers, type MakeApp } from './helpers/express-parity.js';

function build(app: any, makeApp: MakeApp): void {
  // What a plugin does: a response helper, a request method and a request getter.
  app.response.sendOk = function (this: any, data: unknown) {
    return this.status(200).json({ ok: true, data });
  };
  app.request.isMobile = function (this: any) {
    return /Mobile/.test(this.get('user-agent') ?? '');
  };
  Object.defineProperty(app.request, 'lang', {
    configurable: true,
    get(this: any) {
      return this.acceptsLanguages('fr', 'en') || 'en';
    },
  });

  const events: unknown[] = [];
  const sub = makeApp();
  sub.on('mount', (parent: unknown) => events.push(['mount', parent === app, sub.parent === app]));
  sub.once('custom', (x: unknown) => events.push(['custom', x]));
  // The sub-app's own version wins inside it; the parent's other helpers are inherited.
  sub.response.sendOk = function (this: any, data: unknown) {
    return this.json({ sub: true, data });
  };
  sub.response.subOnly = function (this: any) {
    return this.send('sub only');
  };
  sub.get('/ok', (req: any, res: any) => res.sendOk({ mobile: req.isMobile(), lang: req.lang }));
  sub.get('/only', (_req: any, res: any) => res.subOnly());
  sub.get('/through', (_req: any, _res: any, next: any) => next());
  app.use('/sub', sub);
  sub.emit('custom', 1);
  sub.emit('custom', 2);

  app.get('/ok', (req: any, res: any) => res.sendOk({ mobile: req.isMobile(), lang: req.lang }));
  // After the sub-app passed the request on: the parent's helpers, not the sub-app's.
  app.get('/sub/through', (req: any, res: any) =>
    res.sendOk({ subOnly: typeof res.subOnly, isMobile: typeof req.isMobile, url: req.url }),
  );
  app.get('/info', (_req: any, res: any) => {
    const fresh = makeApp();
    res.json({
      events,
      mountpath: sub.mountpath,
      path: sub.path(),
      topPath: app.path(),
      // Another app's objects are its own: the helpers above are not there.
      freshHasHelper: typeof fresh.response.sendOk,
      freshRequestGet: typeof fresh.request.get,
      listeners: sub.listenerCount('mount'),
    });
  });
}

it('app.request / app.response helpers, sub-apps and mount events answer as Express 5', { timeout: 20_000 }, () =>
  assertSameAnswers(build, [
    ['GET', '/ok', { 'user-agent': 'Mozilla/5.0 (iPhone) Mobile', 'accept-language': 'fr;q=0.9, en;q=0.5' }],
    ['GET', '/ok', { 'user-agent': 'curl/8' }],
    ['GET', '/sub/ok', { 'user-agent': 'Mobile' }],
    ['GET', '/sub/only'],
    ['GET', '/sub/through', { 'user-agent': 'Mobile' }],
    ['GET', '/info'],
  ]),
);

it('a helper added after requests were served, and on a replaced app.response, is seen', { timeout: 20_000 }, () =>
  assertSameAnswers(
    (app) => {
      // A replaced app.response (built on the old one) is what responses inherit from.
      app.response = Object.create(app.response);
      app.response.replaced = function (this: any) {
        return this.status(202).json({ replaced: true });
      };
      app.get('/replaced', (_req: any, res: any) => res.replaced());
      app.get('/late', (_req: any, res: any) => res.late());
      app.get('/add', (_req: any, res: any) => {
        app.response.late = function (this: any) {
          return this.type('text').send('late helper');
        };
        res.send('added');
      });
    },
    [
      ['GET', '/replaced'],
      ['GET', '/add'],
      ['GET', '/late'],
    ],
  ),
);

it('each app has its own request and response objects (no helper leaks between apps)', () => {
  for (const make of [() => express() as any, () => createApp() as any]) {
    const a = make();
    const b = make();
    assert.notEqual(a.request, b.request);
    assert.notEqual(a.response, b.response);
    a.response.only = () => 'a';
    assert.equal(b.response.only, undefined);
    assert.equal(typeof a.request.get, 'function');
    assert.equal(typeof a.response.json, 'function');
    assert.equal(typeof a.on, 'function');
  }
});
