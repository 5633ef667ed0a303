// @fcgi/router end to end over real FastCGI: an app with app.get/route/param and mounted routers,
// served by serve(app) behind the built-in HTTP gateway, driven by a real HTTP client.
import assert from 'node:assert/strict';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { createApp, serve, type AppRequest, type AppResponse, type NextFunction, type Serving } from '@fcgi/core';
import { Router, patterns } from '@fcgi/router';

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  json: any;
}

/** One exchange with the raw `path` (no URL normalisation, so malformed escapes get through). */
function http(base: string, method: string, path: string): Promise<Reply> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: hostname, port, method, path, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
    });
    req.setTimeout(5_000, () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

/** Answers with what routing produced. */
const echo = (name: string) => (req: AppRequest, res: AppResponse) => {
  res.json({
    name,
    params: req.params,
    url: req.url,
    baseUrl: req.baseUrl,
    originalUrl: req.originalUrl,
    trace: (req as { trace?: string[] }).trace ?? [],
  });
};
const trace = (label: string) => (req: AppRequest, _res: AppResponse, next: NextFunction) => {
  ((req as { trace?: string[] }).trace ??= []).push(label);
  next();
};

function buildApp() {
  const app = createApp({ matcher: patterns });
  app.set('answer', 42);
  app.param('user', (req, _res, next, value: string) => {
    trace(`param:${value}`)(req, _res, () => {});
    req.params.user = value.toLowerCase();
    next();
  });
  app.get('/users/:user', trace('first'), (_req, _res, next) => next('route'), echo('skipped'));
  app.get('/users/:user', echo('user'));
  app.use(trace('between'));
  app.post('/users', echo('create-user'));
  app.route('/items/:id').get(echo('item')).put(echo('put-item'));
  app.get('/files/*path', echo('files'));
  app.get('/posts{/:slug}', echo('posts'));
  app.get('/fail', async () => {
    throw Object.assign(new Error('teapot'), { status: 418 });
  });

  const v1 = Router({ mergeParams: true });
  v1.get('/orgs/:org', echo('org'));
  v1.use('/admin', (_req, _res, next) => next('router'));
  const api = Router();
  api.use('/v1/:tenant', v1);
  api.get('/v1/:tenant/admin', echo('after-router-exit'));
  app.use('/api', api);

  // Two routers sharing a path: the second serves POST, so the first must not answer 405.
  const reads = Router();
  reads.get('/shared', echo('read'));
  const writes = Router();
  writes.post('/shared', echo('write'));
  app.use(reads, writes);

  app.use((err: any, _req: AppRequest, res: AppResponse, _next: NextFunction) => {
    res.status(err.status ?? 500).json({ error: err.message });
  });
  return app;
}

describe('@fcgi/router through serve() and the HTTP gateway', { timeout: 60_000 }, () => {
  let serving: Serving & { mode: 'gateway' };
  const call = (method: string, path: string) => http(serving.url, method, path);

  before(async () => {
    const s = await serve(buildApp(), { port: 0, announce: false });
    assert.equal(s.mode, 'gateway');
    serving = s as Serving & { mode: 'gateway' };
  });
  after(async () => {
    await serving?.close();
  });

  it("app.get with params, param callbacks, next('route'), and app.get(name) as a setting", {
    timeout: 10_000,
  }, async () => {
    const r = await call('GET', '/users/ANN?tab=1');
    assert.equal(r.status, 200);
    assert.equal(r.json.name, 'user');
    assert.deepEqual(r.json.params, { user: 'ann' });
    assert.deepEqual(r.json.trace, ['param:ANN', 'first']);
    assert.equal(r.json.url, '/users/ANN?tab=1');
    assert.equal(buildApp().get('answer'), 42);
  });

  it('keeps the order of app.use() and routes added around it', { timeout: 10_000 }, async () => {
    const r = await call('POST', '/users');
    assert.equal(r.json.name, 'create-user');
    assert.deepEqual(r.json.trace, ['between'], 'middleware added between routes runs between them');
  });

  it('decodes params (UTF-8, encoded slash), splats and optional parts', { timeout: 10_000 }, async () => {
    const a = await call('GET', '/items/caf%C3%A9%2Fx');
    assert.deepEqual(a.json.params, { id: 'café/x' });
    const b = await call('GET', '/files/a/b%20c/d.txt');
    assert.deepEqual(b.json.params, { path: ['a', 'b c', 'd.txt'] });
    assert.deepEqual((await call('GET', '/posts')).json.params, {});
    assert.deepEqual((await call('GET', '/posts/hello')).json.params, { slug: 'hello' });
  });

  it('a malformed escape in a param is a 400, not a crash', { timeout: 10_000 }, async () => {
    const r = await call('GET', '/items/%E0%A4%A');
    assert.equal(r.status, 400);
    assert.match(r.json.error, /Failed to decode param/);
    assert.equal((await call('GET', '/items/1')).status, 200, 'the app still serves');
  });

  it('HEAD runs GET without a body; OPTIONS lists methods; a wrong method is 405 with Allow', {
    timeout: 10_000,
  }, async () => {
    const head = await call('HEAD', '/items/1');
    assert.equal(head.status, 200);
    assert.equal(head.text, '');
    assert.match(String(head.headers['content-type']), /application\/json/);
    const options = await call('OPTIONS', '/items/1');
    assert.equal(options.status, 200);
    assert.equal(options.headers.allow, 'GET, HEAD, PUT');
    assert.equal(options.text, 'GET, HEAD, PUT');
    const wrong = await call('DELETE', '/items/1');
    assert.equal(wrong.status, 405);
    assert.equal(wrong.headers.allow, 'GET, HEAD, PUT');
    assert.equal((await call('GET', '/nowhere')).status, 404);
  });

  it('a later router serving the method wins over 405; the union goes in Allow', { timeout: 10_000 }, async () => {
    assert.equal((await call('POST', '/shared')).json.name, 'write');
    assert.equal((await call('GET', '/shared')).json.name, 'read');
    const wrong = await call('PATCH', '/shared');
    assert.equal(wrong.status, 405);
    assert.equal(wrong.headers.allow, 'GET, HEAD, POST');
  });

  it("mounted routers: baseUrl, relative url, mergeParams, and next('router')", { timeout: 10_000 }, async () => {
    const r = await call('GET', '/api/v1/acme/orgs/github?x=1');
    assert.equal(r.json.name, 'org');
    assert.equal(r.json.baseUrl, '/api/v1/acme');
    assert.equal(r.json.url, '/orgs/github?x=1');
    assert.equal(r.json.originalUrl, '/api/v1/acme/orgs/github?x=1');
    assert.deepEqual(r.json.params, { tenant: 'acme', org: 'github' });
    const exit = await call('GET', '/api/v1/acme/admin');
    assert.equal(exit.json.name, 'after-router-exit');
    assert.equal(exit.json.baseUrl, '/api');
    assert.equal(exit.json.url, '/v1/acme/admin');
  });

  it("async handler rejections reach the app's error middleware", { timeout: 10_000 }, async () => {
    const r = await call('GET', '/fail');
    assert.equal(r.status, 418);
    assert.deepEqual(r.json, { error: 'teapot' });
  });
});

describe('app routing settings', { timeout: 30_000 }, () => {
  it("'case sensitive routing' and 'strict routing' are read when the app's router is made", {
    timeout: 10_000,
  }, async () => {
    const app = createApp({ matcher: patterns });
    app.set('case sensitive routing', true);
    app.set('strict routing', true);
    app.get('/Exact/', echo('exact'));
    const s = (await serve(app, { port: 0, announce: false })) as Serving & { mode: 'gateway' };
    try {
      assert.equal((await http(s.url, 'GET', '/Exact/')).status, 200);
      assert.equal((await http(s.url, 'GET', '/exact/')).status, 404);
      assert.equal((await http(s.url, 'GET', '/Exact')).status, 404);
    } finally {
      await s.close();
    }
  });
});
