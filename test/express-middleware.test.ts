// npm middleware written for Express/Connect, inside our createApp(): cors, helmet, morgan,
// compression, cookie-parser, express-session and multer, over real HTTP and FastCGI: behind the
// built-in gateway (serve()) and behind a real nginx, the same checks for both.
import assert from 'node:assert/strict';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import compression from 'compression';
import cookieParser from 'cookie-parser';
import cors from 'cors';
import session from 'express-session';
import helmet from 'helmet';
import morgan from 'morgan';
import multer from 'multer';
import { createApp, createFcgiServer, serve, type FcgiServer, type Middleware, type Serving } from '@fcgi/core';
import { skipUnless } from './helpers/app-process.js';
import { NGINX, fetchRaw, startNginx, type Nginx } from './helpers/nginx.js';

const T = { timeout: 15_000 };
const BIG_TEXT = 'All work and no play makes Jack a dull boy.\n'.repeat(500); // 22 kB, compresses well
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * npm middleware is typed for Express's Request/Response (or node:http's); ours stand in for
 * those at run time but are other types, so the compiler needs a cast. Nothing else is adapted.
 */
const npm = (fn: unknown) => fn as Middleware;

function buildApp(log: string[]) {
  const app = createApp();
  app.use(
    npm(
      morgan(':method :url :status :res[content-length] :response-time ms', {
        stream: { write: (line: string) => void log.push(line) },
      }),
    ),
  );
  app.use(npm(helmet()));
  app.use('/cors', npm(cors({ origin: 'http://allowed.test', credentials: true, methods: ['GET', 'PUT'] })));
  app.use(npm(compression({ threshold: 1024 })));
  app.use(npm(cookieParser('cookie-secret')));
  app.use(
    npm(
      session({ secret: 'session-secret', resave: false, saveUninitialized: false, store: new session.MemoryStore() }),
    ),
  );
  const upload = multer({ storage: multer.memoryStorage(), limits: { fileSize: 1024 * 1024 } });
  app.use('/upload', npm(upload.fields([{ name: 'doc', maxCount: 1 }, { name: 'title' }])));

  app.use('/cors/data', (_req, res) => res.end('cors data'));
  app.use('/text', (req, res) => {
    res.setHeader('Content-Type', 'text/plain; charset=utf-8');
    res.end(req.url.includes('small') ? 'small' : BIG_TEXT);
  });
  app.use('/streamed', (_req, res) => {
    res.setHeader('Content-Type', 'text/plain; charset=utf-8');
    for (let i = 0; i < 5; i++) res.write(BIG_TEXT.slice(0, 4000));
    res.end();
  });
  app.use('/cookies', (req, res) => {
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({ cookies: { ...req.cookies }, signed: { ...req.signedCookies } }));
  });
  app.use('/count', (req, res) => {
    const s = (req as unknown as { session: { n?: number } }).session;
    s.n = (s.n ?? 0) + 1;
    res.end(String(s.n));
  });
  app.use('/upload', (req, res) => {
    const r = req as unknown as { files: Record<string, Express.Multer.File[]>; body: Record<string, unknown> };
    const doc = r.files.doc![0]!;
    res.setHeader('Content-Type', 'application/json');
    res.end(
      JSON.stringify({
        body: { ...r.body },
        file: {
          field: doc.fieldname,
          name: doc.originalname,
          type: doc.mimetype,
          size: doc.size,
          sha: sha256(doc.buffer),
        },
      }),
    );
  });
  return app;
}

interface Transport {
  name: string;
  skip?: string | false;
  /** Starts the app; resolves with the base URL and a stop function. */
  start(app: ReturnType<typeof buildApp>): Promise<{ base: string; stop(): Promise<void> }>;
}

const transports: Transport[] = [
  {
    name: 'the built-in gateway (serve())',
    async start(app) {
      const s: Serving = await serve(app, { port: 0, announce: false });
      assert.equal(s.mode, 'gateway');
      return { base: (s as Serving & { mode: 'gateway' }).url, stop: () => s.close() };
    },
  },
  {
    name: 'nginx',
    skip: skipUnless(NGINX, 'nginx'),
    async start(app) {
      const dir = await mkdtemp(join(tmpdir(), 'fcgi-mw-'));
      const server: FcgiServer = createFcgiServer(app, { onConnectionError: () => {} });
      let nginx: Nginx | undefined;
      const stop = async () => {
        await nginx?.stop();
        await server.close();
        await rm(dir, { recursive: true, force: true });
      };
      try {
        await server.listenOn({ kind: 'unix', path: join(dir, 'app.sock') });
        nginx = await startNginx(join(dir, 'app.sock'));
      } catch (e) {
        await stop();
        throw e;
      }
      return { base: `http://127.0.0.1:${nginx.port}`, stop };
    },
  },
];

for (const transport of transports) {
  describe(`npm middleware in createApp(), behind ${transport.name}`, {
    skip: transport.skip ?? false,
    timeout: 90_000,
  }, () => {
    const log: string[] = [];
    let base = '';
    let stop: (() => Promise<void>) | undefined;
    before(
      async () => {
        ({ base, stop } = await transport.start(buildApp(log)));
      },
      { timeout: 30_000 },
    );
    after(() => stop?.(), { timeout: 20_000 });
    const port = () => Number(new URL(base).port);

    it('cors: headers on a simple request; a preflight answered 204 without reaching the handler', T, async () => {
      const simple = await fetch(`${base}/cors/data`, { headers: { Origin: 'http://allowed.test' } });
      assert.equal(await simple.text(), 'cors data');
      assert.equal(simple.headers.get('access-control-allow-origin'), 'http://allowed.test');
      assert.equal(simple.headers.get('access-control-allow-credentials'), 'true');
      assert.match(simple.headers.get('vary') ?? '', /Origin/);
      const pre = await fetch(`${base}/cors/data`, {
        method: 'OPTIONS',
        headers: { Origin: 'http://allowed.test', 'Access-Control-Request-Method': 'PUT' },
      });
      assert.equal(pre.status, 204);
      assert.equal(pre.headers.get('access-control-allow-methods'), 'GET,PUT');
      assert.equal(await pre.text(), '');
    });

    it('helmet: its security headers on every response', T, async () => {
      const r = await fetch(`${base}/text?small`);
      await r.text();
      assert.match(r.headers.get('content-security-policy') ?? '', /default-src 'self'/);
      assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
      assert.equal(r.headers.get('x-frame-options'), 'SAMEORIGIN');
      assert.equal(r.headers.get('cross-origin-opener-policy'), 'same-origin');
      assert.match(r.headers.get('strict-transport-security') ?? '', /max-age=\d+/);
    });

    it(
      'morgan: one log line with method, url, status, length and a response time (it wraps res.writeHead)',
      T,
      async () => {
        const r = await fetch(`${base}/text?small&morgan=${transport.name.length}`);
        assert.equal(await r.text(), 'small');
        let line: string | undefined;
        for (let i = 0; i < 50 && !line; i++) {
          line = log.find((l) => l.includes(`morgan=${transport.name.length}`));
          if (!line) await sleep(10);
        }
        assert.match(line ?? '', /^GET \/text\?small&morgan=\d+ 200 5 \d+\.\d{3} ms\n$/);
      },
    );

    it('compression: gzip when asked and the body is large; identity when not asked or small', T, async () => {
      const gz = await fetchRaw(port(), '/text', { headers: { 'Accept-Encoding': 'gzip' } });
      assert.equal(gz.status, 200);
      assert.equal(gz.headers['content-encoding'], 'gzip');
      assert.match(String(gz.headers.vary), /Accept-Encoding/);
      assert.ok(gz.body.length < BIG_TEXT.length / 10, `compressed to ${gz.body.length} bytes`);
      assert.equal(gunzipSync(gz.body).toString(), BIG_TEXT);
      const streamed = await fetchRaw(port(), '/streamed', { headers: { 'Accept-Encoding': 'gzip' } });
      assert.equal(streamed.headers['content-encoding'], 'gzip');
      assert.equal(gunzipSync(streamed.body).toString(), BIG_TEXT.slice(0, 4000).repeat(5));
      const plain = await fetchRaw(port(), '/text');
      assert.equal(plain.headers['content-encoding'], undefined);
      assert.equal(plain.body.toString(), BIG_TEXT);
      const small = await fetchRaw(port(), '/text?small', { headers: { 'Accept-Encoding': 'gzip' } });
      assert.equal(small.headers['content-encoding'], undefined);
      assert.equal(small.body.toString(), 'small');
      // fetch decodes it on its own, as a browser would.
      assert.equal(await (await fetch(`${base}/text`, { headers: { 'Accept-Encoding': 'gzip' } })).text(), BIG_TEXT);
    });

    it('cookie-parser: req.cookies, and req.signedCookies checked with its secret', T, async () => {
      const mac = (v: string) => createHmac('sha256', 'cookie-secret').update(v).digest('base64').replace(/=+$/, '');
      const good = encodeURIComponent(`s:alice.${mac('alice')}`);
      const bad = encodeURIComponent(`s:mallory.${mac('alice')}`);
      const r = await fetch(`${base}/cookies`, {
        headers: { Cookie: `plain=1; j=${encodeURIComponent('j:{"a":2}')}; user=${good}; forged=${bad}` },
      });
      assert.deepEqual(await r.json(), {
        cookies: { plain: '1', j: { a: 2 } },
        signed: { user: 'alice', forged: false },
      });
    });

    it('express-session (memory store): a counter kept across requests by the session cookie', T, async () => {
      const first = await fetch(`${base}/count`);
      assert.equal(await first.text(), '1');
      const setCookie = first.headers.getSetCookie();
      assert.equal(setCookie.length, 1);
      assert.match(setCookie[0]!, /^connect\.sid=s%3A[^;]+; Path=\/; HttpOnly$/);
      const cookie = setCookie[0]!.split(';')[0]!;
      assert.equal(await (await fetch(`${base}/count`, { headers: { Cookie: cookie } })).text(), '2');
      assert.equal(await (await fetch(`${base}/count`, { headers: { Cookie: cookie } })).text(), '3');
      assert.equal(await (await fetch(`${base}/count`)).text(), '1', 'no cookie, a new session');
    });

    it('multer (memory storage): a multipart upload with a file and fields', T, async () => {
      const bytes = randomBytes(200_000);
      const form = new FormData();
      form.append('title', 'report');
      form.append('tags', 'a');
      form.append('tags', 'b');
      form.append('doc', new Blob([bytes], { type: 'application/pdf' }), 'report.pdf');
      const r = await fetch(`${base}/upload`, { method: 'POST', body: form });
      assert.equal(r.status, 200);
      assert.deepEqual(await r.json(), {
        body: { title: 'report', tags: ['a', 'b'] },
        file: { field: 'doc', name: 'report.pdf', type: 'application/pdf', size: bytes.length, sha: sha256(bytes) },
      });
    });
  });
}
