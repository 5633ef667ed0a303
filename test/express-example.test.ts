// examples/express-app.ts (an ordinary Express 5 app, served with serve(app)) run as a child
// process on FCGI_LISTEN, behind a real nginx: its router, JSON bodies, cookies, redirects,
// static files, error handler and 404 as a browser would see them.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ROOT, skipUnless, startApp, type AppProcess } from './helpers/app-process.js';
import { NGINX, fetchRaw, startNginx, type Nginx } from './helpers/nginx.js';

const T = { timeout: 15_000 };

describe('examples/express-app.ts behind nginx', { skip: skipUnless(NGINX, 'nginx'), timeout: 120_000 }, () => {
  let app: AppProcess | undefined;
  let nginx: Nginx | undefined;
  before(
    async () => {
      app = await startApp('examples/express-app.ts');
      nginx = await startNginx(app.socket);
    },
    { timeout: 40_000 },
  );
  after(
    async () => {
      await nginx?.stop();
      await app?.stop();
    },
    { timeout: 20_000 },
  );
  const get = (path: string, options: Parameters<typeof fetchRaw>[2] = {}) => fetchRaw(nginx!.port, path, options);
  const postJson = (path: string, value: unknown) => {
    const body = Buffer.from(JSON.stringify(value));
    return get(path, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Content-Length': body.length },
      body,
    });
  };

  it('the home page, from Express (X-Powered-By)', T, async () => {
    const r = await get('/');
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'text/html; charset=utf-8');
    assert.equal(r.headers['x-powered-by'], 'Express');
    assert.match(r.body.toString(), /An Express 5 app, served by @fcgi/);
  });

  it('the notes API: POST JSON (201 + Location), list, one, 404 and 400', T, async () => {
    const made = await postJson('/api/notes', { text: 'buy milk' });
    assert.equal(made.status, 201);
    assert.equal(made.headers.location, '/api/notes/1');
    assert.deepEqual(JSON.parse(made.body.toString()), { id: 1, text: 'buy milk' });
    assert.deepEqual(JSON.parse((await get('/api/notes')).body.toString()), [{ id: 1, text: 'buy milk' }]);
    assert.deepEqual(JSON.parse((await get('/api/notes/1')).body.toString()), { id: 1, text: 'buy milk' });
    const missing = await get('/api/notes/99');
    assert.equal(missing.status, 404);
    assert.deepEqual(JSON.parse(missing.body.toString()), { error: 'no route for GET /api/notes/99' });
    assert.equal((await postJson('/api/notes', { text: '' })).status, 400);
    const malformed = await get('/api/notes', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Content-Length': 5 },
      body: Buffer.from('{oops'),
    });
    assert.equal(malformed.status, 400, 'express.json() rejects it and the error handler answers');
  });

  it('whoami: req.ip and req.protocol from the web server; a cookie counter; a 301', T, async () => {
    const who = JSON.parse(
      (await get('/whoami', { headers: { 'User-Agent': 'express-example-test' } })).body.toString(),
    );
    assert.deepEqual(who, {
      ip: '127.0.0.1',
      protocol: 'http',
      secure: false,
      hostname: '127.0.0.1',
      userAgent: 'express-example-test',
    });
    const first = await get('/visit');
    assert.equal(first.body.toString(), 'visit number 1\n');
    const cookie = String(first.headers['set-cookie']).split(';')[0]!;
    assert.equal(cookie, 'visits=1');
    assert.equal((await get('/visit', { headers: { Cookie: cookie } })).body.toString(), 'visit number 2\n');
    const moved = await get('/old-home');
    assert.equal(moved.status, 301);
    assert.equal(moved.headers.location, '/');
  });

  it('express.static serves the source; the error handler answers a thrown error with 500', T, async () => {
    const source = await get('/source/express-app.ts');
    assert.equal(source.status, 200);
    assert.equal(source.body.toString(), await readFile(join(ROOT, 'examples', 'express-app.ts'), 'utf8'));
    const fail = await get('/fail');
    assert.equal(fail.status, 500);
    assert.deepEqual(JSON.parse(fail.body.toString()), { error: 'internal error' });
    assert.match(app!.stderr(), /GET \/fail: Error: something broke/);
  });
});
