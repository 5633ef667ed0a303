// Web-standard handlers served directly: serve({ fetch }) with a small fetch app and with Hono's app
// itself (no @hono/node-server), behind the built-in gateway and behind nginx: params, query, JSON,
// a 5 MB body streamed both ways, two Set-Cookie, redirect, a thrown error, and a client hanging up
// reaching request.signal. Hono's app passes the same checks as every framework of frameworks.test.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { createGateway, serve, type FetchApp, type Gateway, type Serving } from '@fcgi/core';
import { honoFetchApp } from './fixtures/frameworks/web-apps.js';
import { bigBody, bigStream } from './fixtures/frameworks/shared.js';
import { skipUnless } from './helpers/app-process.js';
import { FRAMEWORK_CHECKS, clientFor, type Client } from './helpers/framework-checks.js';
import { NGINX, startNginx, type Nginx } from './helpers/nginx.js';

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const json = (value: unknown, init?: ResponseInit) =>
  new Response(JSON.stringify(value), { ...init, headers: { 'content-type': 'application/json' } });

/** request.signal of each /hang request, by its ?id=, resolved when it aborts. */
const aborts = new Map<string, { started: Promise<void>; aborted: Promise<unknown> }>();

/** A small app written against Request/Response only. */
const webApp: FetchApp = {
  async fetch(request) {
    const url = new URL(request.url);
    const user = /^\/users\/([^/]+)$/.exec(url.pathname);
    if (user) return json({ id: user[1], sort: url.searchParams.get('sort'), href: url.href, method: request.method });
    switch (url.pathname) {
      case '/json':
        return json({ got: await request.json() });
      case '/echo':
        // The request's body streamed straight back as the answer.
        return new Response(request.body, { headers: { 'content-type': 'application/octet-stream' } });
      case '/hash': {
        const hash = createHash('sha256');
        let size = 0;
        for await (const chunk of request.body as unknown as AsyncIterable<Uint8Array>) {
          hash.update(chunk);
          size += chunk.length;
        }
        return json({ size, sha: hash.digest('hex') });
      }
      case '/big':
        return new Response(Readable.toWeb(bigStream()) as ReadableStream<Uint8Array>, {
          headers: { 'content-type': 'application/octet-stream' },
        });
      case '/cookies': {
        const headers = new Headers({ 'content-type': 'text/plain' });
        headers.append('set-cookie', 'a=1; Path=/; HttpOnly');
        headers.append('set-cookie', 'b=2; Expires=Wed, 21 Oct 2037 07:28:00 GMT; Path=/');
        return new Response(`seen=${request.headers.get('cookie')}`, { headers });
      }
      case '/go':
        return Response.redirect(new URL('/users/7', url), 302);
      case '/boom':
        throw new Error('secret detail of the failure');
      case '/hang': {
        const id = url.searchParams.get('id')!;
        let started!: () => void;
        const entry = {
          started: new Promise<void>((resolve) => (started = resolve)),
          aborted: new Promise((resolve) =>
            request.signal.addEventListener('abort', () => resolve(request.signal.reason)),
          ),
        };
        aborts.set(id, entry);
        let n = 0;
        const body = new ReadableStream<Uint8Array>({
          async pull(controller) {
            if (n++ === 1) started();
            await new Promise((resolve) => setTimeout(resolve, 20));
            controller.enqueue(Buffer.alloc(16 * 1024, 'x'));
          },
        });
        return new Response(body, { headers: { 'content-type': 'application/octet-stream' } });
      }
      default:
        return new Response('not found\n', { status: 404 });
    }
  },
};

const hono = honoFetchApp();
// A Hono app is a FetchApp as it is (what `serve(app)` in the README relies on).
const honoAsFetchApp: FetchApp = hono;
/** Both apps on one socket, chosen by the Host's first label. */
const app: FetchApp = {
  fetch: (request, env) =>
    new URL(request.url).hostname === 'hono.test' ? honoAsFetchApp.fetch(request, env) : webApp.fetch(request, env),
};

const fronts: { name: string; port: number }[] = [];
let dir = '';
let serving: Serving | undefined;
let gateway: Gateway | undefined;
let nginx: Nginx | undefined;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fcgi-fetch-'));
  const socket = join(dir, 'app.sock');
  serving = await serve(app, { target: { path: socket }, onConnectionError: () => {} });
  gateway = createGateway({ to: socket, onStderr: () => {} });
  await new Promise<void>((resolve) => gateway!.server.listen(0, '127.0.0.1', resolve));
  fronts.push({ name: 'the built-in gateway', port: (gateway.server.address() as { port: number }).port });
  if (NGINX) {
    nginx = await startNginx(socket);
    fronts.push({ name: 'nginx', port: nginx.port });
  }
});

after(async () => {
  await nginx?.stop();
  await gateway?.close();
  await serving?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Reads the first bytes of /hang, then hangs up. */
function hangUp(port: number, id: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port, path: `/hang?id=${id}`, headers: { host: 'web.test' } },
      (res) => {
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      },
    );
    req.setTimeout(10_000, () => req.destroy(new Error('/hang timed out')));
    req.on('error', (err) => (req.destroyed && err.message !== '/hang timed out' ? undefined : reject(err)));
    req.end();
  });
}

const bounded = <T>(p: Promise<T>, ms: number, what: string): Promise<T> =>
  Promise.race([
    p,
    new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms).unref()),
  ]);

for (const frontName of ['the built-in gateway', 'nginx']) {
  const skip = frontName === 'nginx' ? skipUnless(NGINX, 'nginx') : false;
  describe(`a fetch app served by serve({ fetch }) behind ${frontName}`, { skip, timeout: 120_000 }, () => {
    let get: Client;
    let port = 0;
    before(() => {
      port = fronts.find((f) => f.name === frontName)!.port;
      get = clientFor(port, 'web.test');
    });

    it('route params, query, method and the URL the client asked for', async () => {
      const r = await get('/users/42?sort=name&x=%20y');
      assert.equal(r.status, 200);
      assert.deepEqual(JSON.parse(r.body.toString()), {
        id: '42',
        sort: 'name',
        href: 'http://web.test/users/42?sort=name&x=%20y',
        method: 'GET',
      });
    });

    it('a JSON body', async () => {
      const sent = { name: 'zoë', list: [1, 'two'] };
      const r = await get('/json', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: Buffer.from(JSON.stringify(sent)),
      });
      assert.equal(r.status, 200);
      assert.match(String(r.headers['content-type']), /^application\/json/);
      assert.deepEqual(JSON.parse(r.body.toString()), { got: sent });
    });

    it('a 5 MB body streamed in, hashed by the app as it arrives', async () => {
      const body = randomBytes(5 * 1024 * 1024);
      const hashed = await get('/hash', {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/octet-stream' },
      });
      assert.equal(hashed.status, 200);
      assert.deepEqual(JSON.parse(hashed.body.toString()), { size: body.length, sha: sha256(body) });
    });

    // Behind nginx, answering a 5 MB body while it still arrives stalls (a (req, res) handler piping
    // req to res stalls the same way: seen, not a fetch-handler matter); the gateway carries both
    // ways at once.
    const echoSkip = frontName === 'nginx' ? 'behind nginx a full-duplex 5 MB echo stalls for any handler' : false;
    it('a 5 MB body streamed back as it arrives (echo), checked by hash', { skip: echoSkip }, async () => {
      const body = randomBytes(5 * 1024 * 1024);
      const echoed = await get('/echo', {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/octet-stream' },
      });
      assert.equal(echoed.status, 200);
      assert.equal(echoed.body.length, body.length);
      assert.equal(sha256(echoed.body), sha256(body));
    });

    it('a 5 MB streamed answer arrives whole', async () => {
      const r = await get('/big');
      assert.equal(r.status, 200);
      assert.equal(r.body.length, 5 * 1024 * 1024);
      assert.equal(sha256(r.body), sha256(bigBody()));
    });

    it('two Set-Cookie headers kept apart; the Cookie header read', async () => {
      const r = await get('/cookies', { headers: { cookie: 'seen=1; other=2' } });
      assert.equal(r.status, 200);
      assert.deepEqual(r.headers['set-cookie'], [
        'a=1; Path=/; HttpOnly',
        'b=2; Expires=Wed, 21 Oct 2037 07:28:00 GMT; Path=/',
      ]);
      assert.equal(r.body.toString(), 'seen=seen=1; other=2');
    });

    it('a redirect', async () => {
      const r = await get('/go');
      assert.equal(r.status, 302);
      assert.equal(r.headers.location, 'http://web.test/users/7');
    });

    it('a thrown error is a 500 without its message or stack (the production default)', async () => {
      const r = await get('/boom');
      assert.equal(r.status, 500);
      const text = r.body.toString();
      assert.doesNotMatch(text, /secret detail/);
      assert.doesNotMatch(text, /\n\s+at /);
    });

    it('a 404 of the app', async () => {
      const r = await get('/nowhere');
      assert.equal(r.status, 404);
      assert.equal(r.body.toString(), 'not found\n');
    });

    it('a client hanging up mid-answer aborts request.signal', async () => {
      const id = `${frontName === 'nginx' ? 'nginx' : 'gateway'}-${Date.now()}`;
      await hangUp(port, id);
      const entry = aborts.get(id);
      assert.ok(entry, 'the request reached the app');
      await bounded(entry.started, 5_000, 'the answer started');
      const reason = await bounded(entry.aborted, 10_000, 'request.signal');
      assert.ok(reason instanceof Error, `the abort reason is an Error: ${String(reason)}`);
    });
  });

  describe(`Hono's app.fetch served by serve() directly behind ${frontName}`, { skip, timeout: 120_000 }, () => {
    for (const check of FRAMEWORK_CHECKS) {
      it(check.name, { timeout: 30_000 }, async () => {
        await check.run(clientFor(fronts.find((f) => f.name === frontName)!.port, 'hono.test'));
      });
    }
  });
}
