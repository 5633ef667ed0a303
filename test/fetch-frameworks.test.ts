// Web-standard framework handlers served by serve() as they are, behind the built-in gateway and
// behind nginx: an itty-router router, React Router's createRequestHandler over a server build,
// and a SvelteKit app built once per run with vite (its Server class from the build output). Each
// gets the client's address from fetch's second argument, as the docs tell users to pass it.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createGateway, serve, type FetchApp, type Gateway, type Serving } from '@fcgi/core';
import { buildSvelteKitApp, ittyApp, reactRouterApp } from './fixtures/frameworks/fetch-apps.js';
import { ROOT, skipUnless } from './helpers/app-process.js';
import { clientFor, type Client } from './helpers/framework-checks.js';
import { NGINX, startNginx, type Nginx, type HttpResult } from './helpers/nginx.js';

const apps = new Map<string, FetchApp>([
  ['itty.test', ittyApp()],
  ['react-router.test', reactRouterApp()],
]);
/** Every app on one socket, chosen by the Host header. */
const app: FetchApp = {
  fetch(request, env) {
    const chosen = apps.get(new URL(request.url).hostname);
    return chosen ? chosen.fetch(request, env) : new Response('no such app\n', { status: 421 });
  },
};

const fronts = new Map<string, number>();
let dir = '';
let kitOut = '';
let serving: Serving | undefined;
let gateway: Gateway | undefined;
let nginx: Nginx | undefined;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fcgi-fetch-fw-'));
  // The SvelteKit build goes inside the repository: its server code imports @sveltejs/kit.
  kitOut = join(ROOT, '.tmp', `sveltekit-${process.pid}`);
  const kit = await buildSvelteKitApp(kitOut);
  console.log(`# SvelteKit: vite build took ${kit.seconds.toFixed(1)} s`);
  apps.set('sveltekit.test', kit.app);
  const socket = join(dir, 'app.sock');
  serving = await serve(app, { target: { path: socket }, onConnectionError: () => {} });
  gateway = createGateway({ to: socket, onStderr: () => {} });
  await new Promise<void>((resolve) => gateway!.server.listen(0, '127.0.0.1', resolve));
  fronts.set('the built-in gateway', (gateway.server.address() as { port: number }).port);
  if (NGINX) {
    nginx = await startNginx(socket);
    fronts.set('nginx', nginx.port);
  }
});

after(async () => {
  await nginx?.stop();
  await gateway?.close();
  await serving?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
  if (kitOut) await rm(kitOut, { recursive: true, force: true });
});

const text = (r: HttpResult) => r.body.toString('utf8');

function jsonOf(r: HttpResult, status = 200): unknown {
  assert.equal(r.status, status, `status ${r.status}: ${text(r).slice(0, 300)}`);
  assert.match(String(r.headers['content-type']), /^application\/json/);
  return JSON.parse(text(r));
}

function htmlOf(r: HttpResult, status = 200): string {
  assert.equal(r.status, status, `status ${r.status}: ${text(r).slice(0, 300)}`);
  assert.match(String(r.headers['content-type']), /^text\/html/);
  return text(r);
}

const postJson = (get: Client, path: string, body: string) =>
  get(path, { method: 'POST', body: Buffer.from(body), headers: { 'content-type': 'application/json' } });

/** A 500 that shows neither the error's message nor a stack. */
function hidden(r: HttpResult): void {
  assert.equal(r.status, 500);
  assert.doesNotMatch(text(r), /secret detail/);
  assert.doesNotMatch(text(r), /\n\s+at /);
}

const sent = { name: 'zoë', list: [1, 'two'] };

for (const frontName of ['the built-in gateway', 'nginx']) {
  const skip = frontName === 'nginx' ? skipUnless(NGINX, 'nginx') : false;
  const client = (host: string): Client => clientFor(fronts.get(frontName)!, host);

  describe(`itty-router's router.fetch behind ${frontName}`, { skip, timeout: 60_000 }, () => {
    it('route params and query', async () => {
      assert.deepEqual(jsonOf(await client('itty.test')('/users/42?sort=asc&x=1')), { id: '42', sort: 'asc' });
    });
    it("a JSON body, and the client's address from fetch's second argument", async () => {
      const r = await postJson(client('itty.test'), '/json', JSON.stringify(sent));
      assert.deepEqual(jsonOf(r), { got: sent, client: '127.0.0.1' });
    });
    it("a body that is not JSON: the app's StatusError as its 400", async () => {
      const r = await postJson(client('itty.test'), '/json', '{nope');
      assert.deepEqual(jsonOf(r, 400), { status: 400, error: 'the body is not JSON' });
    });
    it('error(418) answered as itty writes it', async () => {
      assert.deepEqual(jsonOf(await client('itty.test')('/teapot'), 418), { status: 418, error: 'short and stout' });
    });
    it("a thrown error: itty's own 500", async () => {
      const r = await client('itty.test')('/boom');
      assert.equal(r.status, 500);
      assert.doesNotMatch(text(r), /\n\s+at /);
    });
    it("an unknown path: itty's 404", async () => {
      assert.deepEqual(jsonOf(await client('itty.test')('/nowhere'), 404), { status: 404, error: 'Not Found' });
    });
  });

  describe(`React Router's createRequestHandler behind ${frontName}`, { skip, timeout: 60_000 }, () => {
    it('a server-rendered page with its loader data and the load context', async () => {
      const html = htmlOf(await client('react-router.test')('/hello/Zo%C3%AB'));
      assert.match(html, /^<!DOCTYPE html><html lang="en">/);
      assert.match(html, /<h1>Hello Zoë<\/h1>/);
      assert.match(html, /<p id="client">127\.0\.0\.1<\/p>/);
    });
    it("a resource route's loader: params and query", async () => {
      const r = await client('react-router.test')('/api/users/7?sort=desc');
      assert.deepEqual(jsonOf(r), { id: '7', sort: 'desc' });
    });
    it("a resource route's action: a JSON body in, 201 and JSON out", async () => {
      const r = await postJson(client('react-router.test'), '/api/echo', JSON.stringify(sent));
      assert.deepEqual(jsonOf(r, 201), { got: sent, client: '127.0.0.1' });
    });
    it('a loader that throws: a 500 without the message (production mode)', async () => {
      hidden(await client('react-router.test')('/api/boom'));
    });
    it("an unknown path: a 404 rendered by the root's error boundary", async () => {
      assert.match(htmlOf(await client('react-router.test')('/nowhere'), 404), /<h1>404 Not Found<\/h1>/);
    });
  });

  describe(`a SvelteKit app's Server behind ${frontName}`, { skip, timeout: 60_000 }, () => {
    it('a page rendered on the server with its load data and getClientAddress()', async () => {
      const html = htmlOf(await client('sveltekit.test')('/?name=Zo%C3%AB'));
      assert.match(html, /<h1>Hello Zoë<\/h1>/);
      assert.match(html, /<p id="client">127\.0\.0\.1<\/p>/);
    });
    it('a +server.js endpoint: GET with a query', async () => {
      assert.deepEqual(jsonOf(await client('sveltekit.test')('/api/greet?name=kit')), { hello: 'kit' });
    });
    it('a +server.js endpoint: a JSON body in, 201 and JSON out', async () => {
      const r = await postJson(client('sveltekit.test'), '/api/greet', JSON.stringify(sent));
      assert.deepEqual(jsonOf(r, 201), { got: sent, client: '127.0.0.1' });
    });
    it("a body that is not JSON: the endpoint's error(400)", async () => {
      const r = await postJson(client('sveltekit.test'), '/api/greet', '{nope');
      assert.equal(r.status, 400);
      assert.match(text(r), /the body is not JSON/);
    });
    it("an unknown path: SvelteKit's 404 page", async () => {
      assert.match(htmlOf(await client('sveltekit.test')('/nowhere'), 404), /Not Found/);
    });
  });
}
