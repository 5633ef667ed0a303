// A Next.js 16 app (test/fixtures/nextjs-app/: App Router, plus one Pages Router page and API
// route) run by its custom server on @fcgi's serve(), unmodified, behind the built-in gateway and
// behind a real nginx, held to the same checks as the same server on node:http: a prerendered
// page, server-rendered pages reading a header, a cookie and the query, a route handler with a JSON
// body, a cookie and a header, a Pages API route, a redirect, the 404 page, public/ and build
// assets, gzip, a 5 MiB stream, parallel requests and clients that hang up. `next build` runs once
// for the whole file, into a fresh directory under the gitignored .tmp/.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cp, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { Agent } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { createGateway, type Gateway } from '@fcgi/core';
import {
  ROOT,
  exited,
  skipUnless,
  startApp,
  stopChild,
  waitForListener,
  type AppProcess,
} from './helpers/app-process.js';
import {
  NGINX,
  fetchRaw,
  freePort,
  startNginx,
  type HttpOptions,
  type HttpResult,
  type Nginx,
} from './helpers/nginx.js';
import { collectOutput } from './helpers/process-tree.js';

const FIXTURE = join(ROOT, 'test/fixtures/nextjs-app');
const SERVER = 'test/fixtures/nextjs-app/server.mjs';
const NEXT_BIN = join(ROOT, 'node_modules/next/dist/bin/next');
const BUILD_MS = 300_000;
const env = { NEXT_TELEMETRY_DISABLED: '1' };

/** What app/api/big/route.js streams: 5 MiB, byte i is i % 251. */
function bigBody(): Buffer {
  const b = Buffer.alloc(5 * 1024 * 1024);
  for (let i = 0; i < b.length; i++) b[i] = i % 251;
  return b;
}
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/**
 * Copies the app (not the server) to `dir`, a fresh directory under .tmp/ (so Turbopack finds the
 * workspace's next through the repository's lockfile, and nothing is written into test/), and
 * builds it there; resolves with the directory and how long the build took.
 */
async function buildApp(dir: string): Promise<{ dir: string; ms: number }> {
  for (const part of ['app', 'pages', 'public', 'next.config.mjs'])
    await cp(join(FIXTURE, part), join(dir, part), { recursive: true });
  const started = Date.now();
  const child = spawn(process.execPath, [NEXT_BIN, 'build'], {
    cwd: dir,
    env: { ...process.env, ...env, NODE_ENV: 'production' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = collectOutput(child);
  if (!(await exited(child, BUILD_MS))) {
    await stopChild(child);
    throw new Error(`next build did not finish in ${BUILD_MS} ms:\n${output()}`);
  }
  if (child.exitCode !== 0)
    throw new Error(`next build failed (exit ${child.exitCode ?? child.signalCode}):\n${output()}`);
  return { dir, ms: Date.now() - started };
}

/** The same server file on node:http (NEXT_HTTP_PORT): the reference every check must pass on too. */
async function startReference(dir: string): Promise<{ port: number; child: ChildProcess; stderr: () => string }> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', SERVER], {
    cwd: ROOT,
    env: { ...process.env, ...env, NEXT_APP_DIR: dir, NEXT_HTTP_PORT: String(port), FCGI_LISTEN: '' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const stderr = collectOutput(child);
  try {
    await waitForListener(port, 60_000, () =>
      child.exitCode !== null || child.signalCode !== null ? `the reference exited: ${stderr()}` : null,
    );
  } catch (e) {
    await stopChild(child);
    throw e;
  }
  return { port, child, stderr };
}

interface Front {
  port: number;
  /** The process running Next (the @fcgi app, or the node:http reference). */
  child: ChildProcess;
}

let buildDir = '';
let built: { dir: string; ms: number } | undefined;
let app: AppProcess | undefined;
let reference: Awaited<ReturnType<typeof startReference>> | undefined;
let gateway: Gateway | undefined;
let nginx: Nginx | undefined;
const fronts = new Map<string, Front>();

before(
  async () => {
    await mkdir(join(ROOT, '.tmp'), { recursive: true });
    buildDir = await mkdtemp(join(ROOT, '.tmp', 'nextjs-'));
    built = await buildApp(buildDir);
    [app, reference] = await Promise.all([
      startApp(SERVER, { startMs: 60_000, env: { ...env, NEXT_APP_DIR: built.dir } }),
      startReference(built.dir),
    ]);
    fronts.set('node:http (reference)', { port: reference.port, child: reference.child });
    gateway = createGateway({ to: app.socket, onStderr: () => {} });
    const port = await new Promise<number>((resolve) =>
      gateway!.server.listen(0, '127.0.0.1', () => resolve((gateway!.server.address() as { port: number }).port)),
    );
    fronts.set('the built-in gateway', { port, child: app.child });
    if (NGINX) {
      nginx = await startNginx(app.socket);
      fronts.set('nginx', { port: nginx.port, child: app.child });
    }
  },
  { timeout: BUILD_MS + 120_000 },
);

after(async () => {
  await nginx?.stop();
  await gateway?.close();
  await app?.stop();
  if (reference) await stopChild(reference.child);
  if (buildDir) await rm(buildDir, { recursive: true, force: true });
});

function ok(r: HttpResult, status = 200): HttpResult {
  assert.equal(r.status, status, `status ${r.status}: ${r.body.toString().slice(0, 300)}`);
  return r;
}

/** React puts `<!-- -->` between adjacent text parts: `agent=<!-- -->x` reads as `agent=x`. */
const text = (r: HttpResult) => r.body.toString('utf8').replaceAll('<!-- -->', '');

interface Check {
  name: string;
  run(get: (path: string, options?: HttpOptions) => Promise<HttpResult>, front: Front): Promise<void>;
}

const CHECKS: readonly Check[] = [
  {
    name: 'the prerendered page comes from the build, and a 304 for its ETag',
    async run(get) {
      const r = ok(await get('/'));
      assert.match(String(r.headers['content-type']), /^text\/html/);
      assert.equal(r.headers['x-nextjs-cache'], 'HIT');
      assert.match(text(r), /<h1>Prerendered home<\/h1>/);
      const etag = String(r.headers.etag);
      const again = ok(await get('/', { headers: { 'if-none-match': etag } }), 304);
      assert.equal(again.body.length, 0);
    },
  },
  {
    name: 'the server-rendered page reads a request header, a cookie and the query',
    async run(get) {
      const r = ok(
        await get('/ssr?q=caf%C3%A9+au+lait', { headers: { 'x-agent': 'probe/1', cookie: 'other=1; flavour=lemon' } }),
      );
      assert.match(String(r.headers['cache-control']), /no-store/);
      const html = text(r);
      assert.match(html, /<p id="agent">agent=probe\/1<\/p>/);
      assert.match(html, /<p id="cookie">flavour=lemon<\/p>/);
      assert.match(html, /<p id="query">q=café au lait<\/p>/);
    },
  },
  {
    name: 'the server-rendered page gzipped when asked (Next compresses itself)',
    async run(get) {
      const r = ok(await get('/ssr?q=zipped', { headers: { 'accept-encoding': 'gzip' } }));
      assert.equal(r.headers['content-encoding'], 'gzip');
      assert.match(gunzipSync(r.body).toString('utf8').replaceAll('<!-- -->', ''), /<p id="query">q=zipped<\/p>/);
    },
  },
  {
    name: 'the route handler reads a JSON POST body, sets a cookie and a header',
    async run(get) {
      const sent = { name: 'zoë', n: 2, list: [1, 'two'] };
      const r = ok(
        await get('/api/echo', {
          method: 'POST',
          body: Buffer.from(JSON.stringify(sent)),
          headers: { 'content-type': 'application/json', 'x-agent': 'poster' },
        }),
      );
      assert.match(String(r.headers['content-type']), /^application\/json/);
      assert.deepEqual(JSON.parse(r.body.toString('utf8')), { got: sent, method: 'POST', agent: 'poster' });
      assert.deepEqual(r.headers['set-cookie'], ['visited=yes; Path=/; HttpOnly']);
      assert.equal(r.headers['x-fixture'], 'echo');
    },
  },
  {
    name: 'Pages Router: getServerSideProps reads a header, a cookie and the query',
    async run(get) {
      const r = ok(await get('/legacy-ssr?q=old', { headers: { 'x-agent': 'gssp', cookie: 'flavour=mint' } }));
      const html = text(r);
      assert.match(html, /<p id="agent">agent=gssp<\/p>/);
      assert.match(html, /<p id="cookie">flavour=mint<\/p>/);
      assert.match(html, /<p id="query">q=old<\/p>/);
    },
  },
  {
    name: "Pages Router: an API route on Next's Node helpers (parsed body, req.cookies, res.status().json())",
    async run(get) {
      const r = ok(
        await get('/api/legacy?id=7', {
          method: 'POST',
          body: Buffer.from('{"x":[1,2]}'),
          headers: { 'content-type': 'application/json', cookie: 'flavour=mint' },
        }),
        201,
      );
      assert.match(String(r.headers['content-type']), /^application\/json/);
      assert.deepEqual(JSON.parse(r.body.toString('utf8')), { got: { x: [1, 2] }, id: '7', flavour: 'mint' });
      assert.deepEqual(r.headers['set-cookie'], ['a=1; Path=/; HttpOnly', 'b=2; Path=/']);
      assert.equal(r.headers['x-fixture'], 'legacy');
      const wrong = ok(await get('/api/legacy'), 405);
      assert.equal(wrong.headers.allow, 'POST');
    },
  },
  {
    name: "a redirect from next.config's redirects()",
    async run(get) {
      const r = ok(await get('/old-home'), 307);
      assert.equal(r.headers.location, '/ssr?from=old');
    },
  },
  {
    name: "an unknown path is the app's 404 page",
    async run(get) {
      const r = ok(await get('/no/such/page'), 404);
      assert.match(String(r.headers['content-type']), /^text\/html/);
      assert.match(text(r), /Nothing here \(fixture 404\)/);
    },
  },
  {
    name: 'a file from public/ (and a range of it) and a script of the build',
    async run(get) {
      const r = ok(await get('/hello.txt'));
      assert.match(String(r.headers['content-type']), /^text\/plain/);
      assert.equal(r.body.toString(), 'hello from public/\n');
      const part = ok(await get('/hello.txt', { headers: { range: 'bytes=6-9' } }), 206);
      assert.equal(part.headers['content-range'], 'bytes 6-9/19');
      assert.equal(part.body.toString(), 'from');
      const script = /\/_next\/static\/[^"]+\.js/.exec(text(ok(await get('/'))))?.[0];
      assert.ok(script, 'the home page names a script');
      const js = ok(await get(script));
      assert.match(String(js.headers['content-type']), /javascript/);
      assert.ok(js.body.length > 100, `${script}: ${js.body.length} bytes`);
    },
  },
  {
    name: 'a 5 MiB streamed answer arrives whole',
    async run(get) {
      const r = ok(await get('/api/big', { timeoutMs: 60_000 }));
      assert.match(String(r.headers['content-type']), /^application\/octet-stream/);
      assert.equal(r.body.length, 5 * 1024 * 1024);
      assert.equal(sha256(r.body), BIG_SHA);
    },
  },
  {
    name: '24 parallel server-rendered pages on kept-alive connections',
    async run(get) {
      const agent = new Agent({ keepAlive: true, maxSockets: 6 });
      try {
        const ids = Array.from({ length: 24 }, (_, i) => `p${i}`);
        const answers = await Promise.all(ids.map((id) => get(`/ssr?q=${id}`, { agent, headers: { 'x-agent': id } })));
        answers.forEach((r, i) => {
          const html = text(ok(r));
          assert.match(html, new RegExp(`<p id="query">q=${ids[i]}</p>`));
          assert.match(html, new RegExp(`<p id="agent">agent=${ids[i]}</p>`));
        });
      } finally {
        agent.destroy();
      }
    },
  },
  {
    name: 'clients hanging up mid-download and mid-upload do not take the server down',
    async run(get, front) {
      // Reads the first bytes of the 5 MiB answer, then hangs up.
      await hangUp(front.port, 'GET /api/big HTTP/1.1\r\nHost: localhost\r\n\r\n', true);
      // Promises a 100 kB JSON body, sends 5 bytes, hangs up.
      await hangUp(
        front.port,
        'POST /api/echo HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"a":',
        false,
      );
      const r = ok(await get('/ssr?q=still-here'));
      assert.match(text(r), /<p id="query">q=still-here<\/p>/);
      assert.equal(front.child.exitCode, null);
      assert.equal(front.child.signalCode, null);
    },
  },
];
const BIG_SHA = sha256(bigBody());

/** Sends `head` on a fresh connection, waits for the first response bytes (or a moment), then destroys it. */
function hangUp(port: number, head: string, waitForBytes: boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    const done = () => {
      clearTimeout(timer);
      s.destroy();
      // Let the front end notice and pass the abort on before the next request.
      setTimeout(resolve, 200);
    };
    const timer = setTimeout(
      () => (waitForBytes ? reject(new Error('no response bytes in 20 s')) : done()),
      waitForBytes ? 20_000 : 300,
    );
    s.once('error', reject);
    s.once('connect', () => s.write(head));
    if (waitForBytes) s.once('data', done);
  });
}

const FRONT_NAMES = ['node:http (reference)', 'the built-in gateway', 'nginx'];

describe('Next.js custom server', { timeout: BUILD_MS + 300_000 }, () => {
  it('next build ran once for this file', (t) => {
    assert.ok(built, 'built');
    t.diagnostic(`next build: ${(built.ms / 1000).toFixed(1)} s`);
  });
  for (const name of FRONT_NAMES) {
    describe(`behind ${name}`, { skip: name === 'nginx' ? skipUnless(NGINX, 'nginx') : false }, () => {
      for (const check of CHECKS) {
        it(check.name, { timeout: 90_000 }, async () => {
          const front = fronts.get(name)!;
          await check.run((path, options = {}) => fetchRaw(front.port, path, options), front);
        });
      }
    });
  }
});
