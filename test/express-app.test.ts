// An unmodified Express 5 app handed to createFcgiServer(): Express swaps the prototypes of our
// req/res for its own (built on node:http's) and runs its router, body parser, res.json,
// res.cookie, res.sendFile, res.redirect, express.static, error middleware and 404, driven over
// raw FastCGI and through a real nginx.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import express, { type ErrorRequestHandler } from 'express';
import { createFcgiServer, type FcgiServer, type Handler } from '@fcgi/core';
import { nginxParams, request } from './helpers/http-harness.js';
import { skipUnless } from './helpers/app-process.js';
import { NGINX, fetchRaw, startNginx, type Nginx } from './helpers/nginx.js';

const T = { timeout: 15_000 };
const HELLO = 'hello from a static file\n';
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** An ordinary Express app, written as for app.listen(): nothing in it knows about FastCGI. */
function buildApp(root: string): express.Express {
  const app = express();
  const api = express.Router();
  api.use(express.json());
  api.get('/items', (req, res) => {
    res.json({ items: ['a', 'b'], q: req.query.q ?? null });
  });
  api.post('/items', (req, res) => {
    res.status(201).location(`/api/items/${req.body.name}`).json({ created: req.body });
  });
  api.get('/items/:id', (req, res) => {
    res.json({ id: req.params.id, baseUrl: req.baseUrl, originalUrl: req.originalUrl, path: req.path });
  });
  app.use('/api', api);
  app.get('/who', (req, res) => {
    res.json({
      ip: req.ip,
      protocol: req.protocol,
      secure: req.secure,
      hostname: req.hostname,
      port: req.socket.remotePort,
    });
  });
  app.get('/login', (_req, res) => {
    res.cookie('sid', 'abc123', { httpOnly: true, maxAge: 60_000 }).cookie('theme', 'dark').send('logged in');
  });
  app.get('/file', (_req, res, next) => {
    res.sendFile(join(root, 'public', 'hello.txt'), (err) => err && next(err));
  });
  app.get('/big', (_req, res) => res.sendFile(join(root, 'big.bin')));
  app.get('/old', (_req, res) => res.redirect('/new'));
  app.get('/boom', () => {
    throw new Error('sync boom');
  });
  app.get('/async-fail', async () => {
    throw Object.assign(new Error('async nope'), { status: 418 });
  });
  app.use('/static', express.static(join(root, 'public')));
  const onError: ErrorRequestHandler = (err, _req, res, _next) => {
    res.status(err.status ?? 500).json({ error: err.message, handledBy: 'error middleware' });
  };
  app.use(onError);
  return app;
}

interface Fixture {
  dir: string;
  big: Buffer;
  server: FcgiServer;
  socket: string;
}

async function startFixture(): Promise<Fixture> {
  const dir = await mkdtemp(join(tmpdir(), 'fcgi-express-'));
  await mkdir(join(dir, 'public'));
  await writeFile(join(dir, 'public', 'hello.txt'), HELLO);
  const big = randomBytes(1024 * 1024 + 123);
  await writeFile(join(dir, 'big.bin'), big);
  // Express's app is a (req, res) function: that is all createFcgiServer needs.
  const server = createFcgiServer(buildApp(dir) as unknown as Handler, { onConnectionError: () => {} });
  const socket = join(dir, 'app.sock');
  await server.listenOn({ kind: 'unix', path: socket });
  return { dir, big, server, socket };
}

async function stopFixture(f: Fixture | undefined): Promise<void> {
  if (!f) return;
  await f.server.close();
  await rm(f.dir, { recursive: true, force: true });
}

describe('an unmodified Express 5 app over raw FastCGI', { timeout: 60_000 }, () => {
  let f: Fixture | undefined;
  before(async () => {
    f = await startFixture();
  });
  after(() => stopFixture(f));
  const get = (uri: string, extra: Record<string, string> = {}, body?: Buffer) =>
    request(f!.socket, nginxParams({ REQUEST_URI: uri, QUERY_STRING: uri.split('?')[1] ?? '', ...extra }), body);

  it('express.Router + res.json: Express answered (X-Powered-By, ETag), params and mount paths', T, async () => {
    const r = await get('/api/items?q=x');
    assert.equal(r.appStatus, 0);
    assert.equal(r.status, 200);
    assert.equal(r.headers['x-powered-by'], 'Express');
    assert.equal(r.headers['content-type'], 'application/json; charset=utf-8');
    assert.match(String(r.headers.etag), /^W\/"/);
    assert.deepEqual(JSON.parse(r.body.toString()), { items: ['a', 'b'], q: 'x' });
    const one = await get('/api/items/42');
    assert.deepEqual(JSON.parse(one.body.toString()), {
      id: '42',
      baseUrl: '/api',
      originalUrl: '/api/items/42',
      path: '/items/42',
    });
  });

  it('express.json() parses a POST body; res.status(201).location()', T, async () => {
    const body = Buffer.from(JSON.stringify({ name: 'pen', n: 2 }));
    const r = await get(
      '/api/items',
      { REQUEST_METHOD: 'POST', CONTENT_TYPE: 'application/json', CONTENT_LENGTH: String(body.length) },
      body,
    );
    assert.equal(r.status, 201);
    assert.equal(r.headers.location, '/api/items/pen');
    assert.deepEqual(JSON.parse(r.body.toString()), { created: { name: 'pen', n: 2 } });
  });

  it('req.ip, req.protocol, req.secure, req.hostname read the socket stand-in and the params', T, async () => {
    const plain = JSON.parse((await get('/who', { REMOTE_ADDR: '127.0.0.9', REMOTE_PORT: '50001' })).body.toString());
    assert.deepEqual(plain, { ip: '127.0.0.9', protocol: 'http', secure: false, hostname: 'localhost', port: 50001 });
    const tls = JSON.parse((await get('/who', { HTTPS: 'on', REQUEST_SCHEME: 'https' })).body.toString());
    assert.equal(tls.protocol, 'https');
    assert.equal(tls.secure, true);
  });

  it('res.cookie: one Set-Cookie line per cookie', T, async () => {
    const r = await get('/login');
    const cookies = ([] as string[]).concat(r.headers['set-cookie'] ?? []);
    assert.equal(cookies.length, 2);
    assert.match(cookies[0]!, /^sid=abc123; Max-Age=60; Path=\/; Expires=.+; HttpOnly$/);
    assert.equal(cookies[1], 'theme=dark; Path=/');
    assert.equal(r.body.toString(), 'logged in');
  });

  it('res.sendFile: the file with its type, length and validators; If-None-Match gives 304', T, async () => {
    const r = await get('/file');
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), HELLO);
    assert.equal(r.headers['content-length'], String(HELLO.length));
    assert.equal(r.headers['content-type'], 'text/plain; charset=utf-8');
    assert.ok(r.headers['last-modified']);
    const cached = await get('/file', { HTTP_IF_NONE_MATCH: String(r.headers.etag) });
    assert.equal(cached.status, 304);
    assert.equal(cached.body.length, 0);
  });

  it('res.sendFile of 1 MiB streams through (pipe and drain) byte for byte', T, async () => {
    const r = await get('/big');
    assert.equal(r.appStatus, 0);
    assert.equal(r.headers['content-length'], String(f!.big.length));
    assert.equal(sha256(r.body), sha256(f!.big));
  });

  it('express.static: a file, a byte range (206), HEAD without a body', T, async () => {
    const whole = await get('/static/hello.txt');
    assert.equal(whole.body.toString(), HELLO);
    const range = await get('/static/hello.txt', { HTTP_RANGE: 'bytes=0-4' });
    assert.equal(range.status, 206);
    assert.equal(range.headers['content-range'], `bytes 0-4/${HELLO.length}`);
    assert.equal(range.body.toString(), 'hello');
    const head = await get('/static/hello.txt', { REQUEST_METHOD: 'HEAD' });
    assert.equal(head.headers['content-length'], String(HELLO.length));
    assert.equal(head.body.length, 0);
  });

  it('res.redirect: 302, Location and the short body', T, async () => {
    const r = await get('/old');
    assert.equal(r.status, 302);
    assert.equal(r.headers.location, '/new');
    assert.equal(r.body.toString(), 'Found. Redirecting to /new');
  });

  it('errors thrown (sync) or rejected (async) reach the error middleware', T, async () => {
    const sync = await get('/boom');
    assert.equal(sync.status, 500);
    assert.deepEqual(JSON.parse(sync.body.toString()), { error: 'sync boom', handledBy: 'error middleware' });
    const rejected = await get('/async-fail');
    assert.equal(rejected.status, 418);
    assert.equal(JSON.parse(rejected.body.toString()).error, 'async nope');
  });

  it("no route: Express's own 404 page", T, async () => {
    const r = await get('/nowhere');
    assert.equal(r.status, 404);
    assert.match(r.body.toString(), /Cannot GET \/nowhere/);
    assert.equal(r.headers['content-security-policy'], "default-src 'none'");
    assert.equal(r.appStatus, 0);
  });
});

describe('an unmodified Express 5 app through nginx', { skip: skipUnless(NGINX, 'nginx'), timeout: 90_000 }, () => {
  let f: Fixture | undefined;
  let nginx: Nginx | undefined;
  before(
    async () => {
      f = await startFixture();
      nginx = await startNginx(f.socket);
    },
    { timeout: 30_000 },
  );
  after(
    async () => {
      await nginx?.stop();
      await stopFixture(f);
    },
    { timeout: 20_000 },
  );
  const fetch = (path: string, options: Parameters<typeof fetchRaw>[2] = {}) => fetchRaw(nginx!.port, path, options);

  it('router + res.json, express.json() POST, req.ip/protocol', T, async () => {
    const list = await fetch('/api/items?q=n');
    assert.equal(list.status, 200);
    assert.equal(list.headers['x-powered-by'], 'Express');
    assert.deepEqual(JSON.parse(list.body.toString()), { items: ['a', 'b'], q: 'n' });
    const body = Buffer.from(JSON.stringify({ name: 'cup' }));
    const made = await fetch('/api/items', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Content-Length': body.length },
      body,
    });
    assert.equal(made.status, 201);
    assert.deepEqual(JSON.parse(made.body.toString()), { created: { name: 'cup' } });
    const who = JSON.parse((await fetch('/who')).body.toString());
    assert.equal(who.ip, '127.0.0.1');
    assert.equal(who.protocol, 'http');
    assert.equal(typeof who.port, 'number');
  });

  it('res.cookie, res.redirect, 404 and the error middleware', T, async () => {
    const login = await fetch('/login');
    assert.equal(([] as string[]).concat(login.headers['set-cookie'] ?? []).length, 2);
    const old = await fetch('/old');
    assert.equal(old.status, 302);
    assert.equal(old.headers.location, '/new');
    const missing = await fetch('/nowhere');
    assert.equal(missing.status, 404);
    assert.match(missing.body.toString(), /Cannot GET \/nowhere/);
    const boom = await fetch('/boom');
    assert.equal(boom.status, 500);
    assert.equal(JSON.parse(boom.body.toString()).handledBy, 'error middleware');
  });

  it('res.sendFile (1 MiB) and express.static with a Range, byte for byte', T, async () => {
    const big = await fetch('/big');
    assert.equal(big.status, 200);
    assert.equal(Number(big.headers['content-length']), f!.big.length);
    assert.equal(sha256(big.body), sha256(f!.big));
    const range = await fetch('/static/hello.txt', { headers: { Range: 'bytes=6-9' } });
    assert.equal(range.status, 206);
    assert.equal(range.body.toString(), 'from');
    assert.equal(
      nginx!
        .errorLog()
        .split('\n')
        .filter((l) => /upstream/.test(l)).length,
      0,
      nginx!.errorLog(),
    );
  });
});
