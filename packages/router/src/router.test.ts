// The router's API and its dispatch details beyond the conformance cases: used on its own (no
// next), OPTIONS/405 choices, state restored on the way out, index rebuilt as routes are added,
// absolute-form URLs, argument checks.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { allowedMethods } from '@fcgi/core';
import { FakeResponse, type FakeRequest } from './conformance/runner.js';
import { Router } from './index.js';

interface Outcome {
  res: FakeResponse;
  req: FakeRequest;
  /** What came out of the router, when a next was given and called. */
  out?: { err: unknown };
}

/** One request; with `withNext`, a next that records what falls out of the router. */
function run(
  router: unknown,
  method: string,
  url: string,
  withNext = true,
  extra: Partial<FakeRequest> = {},
): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const req: FakeRequest = { method, url, headers: {}, trace: [], ...extra };
    const timer = setTimeout(() => reject(new Error(`${method} ${url}: nothing happened`)), 2000);
    const res = new FakeResponse(() => {
      clearTimeout(timer);
      resolve({ res, req });
    });
    const next = (err?: unknown) => {
      clearTimeout(timer);
      resolve({ res, req, out: { err } });
    };
    const fn = router as (req: unknown, res: unknown, next?: unknown) => void;
    if (withNext) fn(req, res, next);
    else fn(req, res);
  });
}

const answer = (label: string) => (_req: unknown, res: FakeResponse) => {
  res.end(label);
};

describe('Router()', () => {
  it('is callable with or without new, and routers are functions with the router methods', () => {
    const a = Router();
    const b = new Router({ strict: true });
    assert.equal(typeof a, 'function');
    assert.ok(a instanceof Router);
    assert.ok(b instanceof Router);
    assert.equal(b.strict, true);
    assert.equal(a.methodNotAllowed, true);
    assert.equal(a.length, 3, 'three parameters: not taken for an error handler when mounted');
    assert.equal(
      typeof (a as unknown as Record<string, unknown>).propfind,
      'function',
      "every node:http method, as Express's",
    );
    assert.equal(a.bind, Function.prototype.bind, 'bind stays a function method');
  });

  it('checks its arguments', () => {
    const r = Router();
    assert.throws(() => r.use(), TypeError);
    assert.throws(() => r.use('/x', 42 as never), TypeError);
    assert.throws(() => r.get('/x'), /handler is required/);
    assert.throws(() => r.param('', () => {}), TypeError);
    assert.throws(() => r.param('id', 'nope' as never), TypeError);
    assert.throws(() => r.get('/:', answer('x')), /Missing parameter name/);
  });

  it('exposes its stack and routes (path, methods, allowed methods)', () => {
    const r = Router();
    r.route('/items/:id').get(answer('g')).delete(answer('d'));
    r.use('/mw', answer('m'));
    const [routeLayer, mwLayer] = r.stack;
    assert.equal(routeLayer!.route!.path, '/items/:id');
    assert.deepEqual(routeLayer!.route!.allowed(), ['GET', 'DELETE', 'HEAD']);
    assert.ok(routeLayer!.route!.handles('HEAD'));
    assert.equal(mwLayer!.route, undefined);
  });
});

describe('a router used on its own (no next)', () => {
  it('answers 404, OPTIONS and 405 itself', { timeout: 5000 }, async () => {
    const r = Router();
    r.get('/items', answer('list'));
    r.post('/items', answer('create'));
    const missing = await run(r, 'GET', '/none?q=1', false);
    assert.equal(missing.res.statusCode, 404);
    assert.match(
      missing.res.body,
      /<pre>Cannot GET \/none<\/pre>/,
      'the one error renderer: HTML when the client states no preference',
    );
    const plain = await run(r, 'GET', '/none', false, { headers: { accept: 'text/plain' } });
    assert.equal(plain.res.body, 'Cannot GET /none\n');
    const json = await run(r, 'GET', '/none', false, { headers: { accept: 'application/json' } });
    assert.deepEqual(JSON.parse(json.res.body), { error: { status: 404, message: 'Cannot GET /none' } });
    const options = await run(r, 'OPTIONS', '/items', false);
    assert.equal(options.res.statusCode, 200);
    assert.equal(options.res.headers.allow, 'GET, HEAD, POST');
    const wrong = await run(r, 'DELETE', '/items', false);
    assert.equal(wrong.res.statusCode, 405);
    assert.equal(wrong.res.headers.allow, 'GET, HEAD, POST');
    assert.match(wrong.res.body, /Method Not Allowed/);
    const head = await run(Router().post('/only', answer('p')), 'HEAD', '/only', false);
    assert.equal(head.res.statusCode, 405);
    assert.equal(head.res.body, '', 'no body for HEAD');
  });

  it('answers an error with its status (message shown for an exposed 4xx)', { timeout: 5000 }, async () => {
    const r = Router();
    r.get('/e', () => {
      throw Object.assign(new Error('nope'), { status: 422, expose: true });
    });
    r.get('/crash', async () => Promise.reject(undefined));
    const e = await run(r, 'GET', '/e', false);
    assert.equal(e.res.statusCode, 422);
    assert.match(e.res.body, /<pre>nope<\/pre>/);
    const c = await run(r, 'GET', '/crash', false);
    assert.equal(c.res.statusCode, 500, 'a promise rejected without a reason is still an error');
  });

  it('methodNotAllowed: false gives 404 for a wrong method; OPTIONS is still answered', { timeout: 5000 }, async () => {
    const r = Router({ methodNotAllowed: false });
    r.get('/x', answer('x'));
    assert.equal((await run(r, 'PUT', '/x', false)).res.statusCode, 404);
    assert.equal((await run(r, 'OPTIONS', '/x', false)).res.headers.allow, 'GET, HEAD');
  });
});

describe('dispatch details', () => {
  it('restores params, baseUrl and next on the way out; sets originalUrl once', { timeout: 5000 }, async () => {
    const inner = Router();
    inner.use('/:id', (req: { params: object }, _res: unknown, next: () => void) => next());
    const outer = Router();
    outer.use('/api', inner);
    const parentNext = () => {};
    const o = await run(outer, 'GET', '/api/7?x', true, {
      params: { keep: 1 },
      baseUrl: '/base',
      next: parentNext as never,
    });
    assert.deepEqual(o.out, { err: undefined });
    assert.deepEqual(o.req.params, { keep: 1 });
    assert.equal(o.req.baseUrl, '/base');
    assert.equal(o.req.next, parentNext);
    assert.equal(o.req.url, '/api/7?x');
    assert.equal(o.req.originalUrl, '/api/7?x');
  });

  it('finds routes added after requests were served (the index is rebuilt)', { timeout: 5000 }, async () => {
    const r = Router();
    r.get('/a', answer('a'));
    assert.equal((await run(r, 'GET', '/b')).out?.err, undefined);
    r.get('/b', answer('b'));
    assert.equal((await run(r, 'GET', '/b')).res.body, 'b');
    const route = r.route('/c');
    assert.equal((await run(r, 'GET', '/c')).out !== undefined, true);
    route.get(answer('c'));
    assert.equal((await run(r, 'GET', '/c')).res.body, 'c', 'methods added to an indexed route count');
  });

  it("keeps an absolute-form URL's scheme and host in req.url when mounting", { timeout: 5000 }, async () => {
    const inner = Router();
    inner.get('/x', (req: FakeRequest, res: FakeResponse) => res.end(`${req.url} ${req.baseUrl}`));
    const outer = Router();
    outer.use('/api', inner);
    assert.equal((await run(outer, 'GET', 'http://example.com/api/x?y=1')).res.body, 'http://example.com/x?y=1 /api');
  });

  it('a pending error skips routes and non-error middleware, reaching error middleware under a path', {
    timeout: 5000,
  }, async () => {
    const r = Router();
    const seen: string[] = [];
    r.use((_req: unknown, _res: unknown, next: (e?: unknown) => void) => next(new Error('early')));
    r.get('/x', () => seen.push('route'));
    r.use('/x', () => seen.push('middleware'));
    r.use('/other', (_e: unknown, _q: unknown, _s: unknown, next: () => void) => {
      seen.push('wrong path');
      next();
    });
    r.use('/x', (e: Error, _q: unknown, res: FakeResponse, _n: unknown) => res.end(`handled ${e.message}`));
    assert.equal((await run(r, 'GET', '/x')).res.body, 'handled early');
    assert.deepEqual(seen, []);
  });

  it("next('router') from a route handler leaves the router without an error", { timeout: 5000 }, async () => {
    const r = Router();
    r.get('/x', (_req: unknown, _res: unknown, next: (e?: unknown) => void) => next('router'));
    r.get('/x', answer('never'));
    assert.deepEqual((await run(r, 'GET', '/x')).out, { err: undefined });
  });
});

describe('allowedMethods()', () => {
  it('answers what routers noted, or passes a 405 error on with { throw: true }', { timeout: 5000 }, async () => {
    const r = Router();
    r.get('/x', answer('x'));
    const chain = (throwIt: boolean) => (req: FakeRequest, res: FakeResponse, next: (e?: unknown) => void) =>
      r(req as never, res as never, (err?: unknown) =>
        err ? next(err) : allowedMethods({ throw: throwIt })(req, res, next),
      );
    const answered = await run(chain(false), 'POST', '/x');
    assert.equal(answered.res.statusCode, 405);
    const thrown = await run(chain(true), 'POST', '/x');
    const err = thrown.out?.err as { status: number; headers: Record<string, string> };
    assert.equal(err.status, 405);
    assert.deepEqual(err.headers, { Allow: 'GET, HEAD' });
    assert.equal(
      (await run(chain(true), 'OPTIONS', '/x')).res.headers.allow,
      'GET, HEAD',
      'OPTIONS is answered either way',
    );
    assert.deepEqual((await run(chain(true), 'GET', '/none')).out, { err: undefined }, 'nothing noted: next()');
  });
});
