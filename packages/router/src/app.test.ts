// An app's routes and mounts go into its one stack, run by the core's dispatcher: literal paths
// need nothing more; patterns need a matcher (this package's `patterns`), and without one they are
// refused when added, never matched as text. (Behaviour over FastCGI: test/router-app.test.ts.)
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Application, Route, Router as CoreRouter, createApp, inject } from '@fcgi/core';
import { Router, patterns } from './index.js';

const noop = () => {};

describe('app routes', () => {
  it('app.get(name) with one argument reads a setting; with handlers it adds a route', () => {
    const app = createApp();
    app.set('title', 'shop');
    assert.equal(app.get('title'), 'shop');
    assert.equal(app.router, undefined, 'reading a setting adds nothing');
    assert.equal(app.get('/x', noop), app, 'chainable');
    assert.equal(app.router!.stack.length, 1);
  });

  it('middleware and routes share one stack, in the order they were added', () => {
    const app = createApp();
    app.get('/a', noop).post('/b', noop).route('/c').put(noop);
    app.use(noop);
    app.delete('/d', noop);
    const stack = app.router!.stack;
    assert.deepEqual(
      stack.map((l) => (l.route ? `route ${String(l.path)}` : 'use')),
      ['route /a', 'route /b', 'route /c', 'use', 'route /d'],
    );
    assert.ok(app.route('/e') instanceof Route);
  });

  it('never shadows what apps already have', () => {
    const app = createApp();
    assert.equal(app.bind, Function.prototype.bind);
    assert.equal(app.call, Function.prototype.call);
    assert.equal(typeof (Application.prototype as unknown as Record<string, unknown>).propfind, 'function');
    assert.equal(typeof app.param, 'function');
  });

  it('a pattern without a pattern matcher is refused when added, with what to do', () => {
    const app = createApp();
    for (const add of [
      () => app.get('/users/:id', noop),
      () => app.use('/repos/:owner', noop),
      () => app.route('/files/*rest'),
      () => CoreRouter().get('/x{/y}', noop),
    ]) {
      assert.throws(
        add,
        (e: unknown) =>
          e instanceof TypeError && /is a path pattern/.test(e.message) && /@fcgi\/router/.test(e.message),
      );
    }
    // Literal paths and RegExps need no matcher.
    app.get('/plain', noop);
    app.use(/^\/v\d+/, noop);
  });

  it('with `patterns`, app.use() mounts at a pattern, and sub-apps learn where', async () => {
    const app = createApp({ matcher: patterns });
    const sub = createApp();
    sub.use((req, res) => res.json({ baseUrl: req.baseUrl, url: req.url, params: req.params }));
    app.use('/repos/:owner', sub);
    assert.equal(sub.mountpath, '/repos/:owner');
    assert.equal(sub.parent, app);
    const r = await inject(app, 'http://localhost/repos/ada/issues?x=1');
    assert.equal(r.status, 200);
    assert.deepEqual(await r.json(), { baseUrl: '/repos/ada', url: '/issues?x=1', params: {} });
  });

  it("Router() from this package is the core's Router with `patterns`", () => {
    const r = Router();
    assert.ok(r instanceof CoreRouter);
    assert.equal(r.matcher, patterns);
    r.get('/users/:id', noop);
    assert.equal(CoreRouter().matcher.name, 'literal paths');
  });
});
