// What importing the package installs on @fcgi/core's apps (inspected without serving; the
// behaviour over FastCGI is in test/router-app.test.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Application, createApp } from '@fcgi/core';
import './app.js';
import { Route } from './route.js';

const noop = () => {};

describe('app shortcuts', () => {
  it('app.get(name) with one argument reads a setting; with handlers it adds a route', () => {
    const app = createApp();
    app.set('title', 'shop');
    assert.equal(app.get('title'), 'shop');
    assert.equal(app.stack.length, 0, 'reading a setting adds nothing');
    assert.equal(app.get('/x', noop), app, 'chainable');
    assert.equal(app.stack.length, 1);
  });

  it('consecutive routes share one router; a route after other middleware starts another there', () => {
    const app = createApp();
    app.get('/a', noop).post('/b', noop).route('/c').put(noop);
    assert.equal(app.stack.length, 1);
    const first = app.stack[0]!.handle as unknown as { stack: unknown[] };
    assert.equal(first.stack.length, 3);
    app.use(noop);
    app.delete('/d', noop);
    assert.equal(app.stack.length, 3);
    assert.notEqual(app.stack[2]!.handle, app.stack[0]!.handle);
    assert.ok(app.route('/e') instanceof Route);
    assert.equal(app.stack.length, 3, 'still the last router');
  });

  it('never shadows what apps already have', () => {
    const app = createApp();
    assert.equal(app.bind, Function.prototype.bind);
    assert.equal(app.call, Function.prototype.call);
    assert.equal(typeof (Application.prototype as unknown as Record<string, unknown>).propfind, 'function');
    assert.equal(typeof app.param, 'function');
  });

  it('app.use() with a path pattern mounts through a router; plain prefixes stay the core\'s', () => {
    const app = createApp();
    const sub = createApp();
    app.use('/plain', noop);
    app.use('/repos/:owner', sub);
    app.use(/^\/v\d+/, noop);
    assert.equal(app.stack.length, 3);
    assert.equal(app.stack[0]!.handle, noop, 'the core mounted the plain prefix itself');
    assert.equal(typeof (app.stack[1]!.handle as unknown as { route?: unknown }).route, 'function', 'a router took the pattern');
    assert.equal(sub.mountpath, '/repos/:owner');
    assert.equal(sub.parent, app);
  });
});
