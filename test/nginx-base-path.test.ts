// An app under a sub-directory behind a real nginx, both ways docs/deploy/nginx.md gives ("Under a
// sub-directory"): its `location /sub/` block with fastcgi_split_path_info (read from the page and
// used as it is), and nginx's stock params with `basePath: '/sub'` given to the app. A createApp()
// app and an unmodified Express app, each: routes see the path below /sub, req.baseUrl is /sub, a
// redirect built from it stays inside, the 404 is the app's. Then the page's table of what nginx
// sends ("How the app sees its URL"), row by row.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import express from 'express';
import { createApp, createFcgiServer, type BasePath, type FcgiServer } from '@fcgi/core';
import { ROOT, skipUnless } from './helpers/app-process.js';
import { fetchRaw, NGINX, startNginx, type Nginx } from './helpers/nginx.js';

const PAGE = 'docs/deploy/nginx.md';
const page = readFileSync(join(ROOT, PAGE), 'utf8');

/** The page's nginx block for the sub-directory: the first ```nginx block after its heading. */
function subDirectoryBlock(): string {
  const at = page.indexOf('## Under a sub-directory');
  assert.ok(at >= 0, `${PAGE} has no "Under a sub-directory" section`);
  const m = /```nginx\n([\s\S]*?)```/.exec(page.slice(at));
  assert.ok(m, `${PAGE}: no nginx block under "Under a sub-directory"`);
  assert.match(m[1]!, /fastcgi_pass app;/, 'the block passes to the upstream named app, as the test nginx has it');
  return m[1]!;
}

/** What a route saw. */
interface Seen {
  app: string;
  url: string;
  baseUrl: string;
  originalUrl: string;
  path: string;
  environ: Record<string, string>;
}

type Req = { url: string; baseUrl: string; originalUrl: string; path: string; environ: Record<string, string> };
const seen = (app: string, req: Req): Seen => ({
  app,
  url: req.url,
  baseUrl: req.baseUrl,
  originalUrl: req.originalUrl,
  path: req.path,
  environ: req.environ,
});

function fcgiApp() {
  const app = createApp();
  app.get('/echo', (req, res) => res.json(seen('createApp', req)));
  app.get('/login', (req, res) => res.redirect(`${req.baseUrl}/echo`));
  return app;
}

function expressApp() {
  const app = express();
  app.get('/echo', (req, res) => {
    res.json(seen('express', req as unknown as Req));
  });
  app.get('/login', (req, res) => {
    res.redirect(`${req.baseUrl}/echo`);
  });
  return app;
}

/** One server for both apps, the app named by the X-App header. */
function bothApps(basePath: BasePath): FcgiServer {
  const apps = { createApp: fcgiApp(), express: expressApp() };
  return createFcgiServer(
    (req, res) => {
      const which = req.headers['x-app'] === 'express' ? apps.express : apps.createApp;
      (which as unknown as (q: typeof req, s: typeof res) => void)(req, res);
    },
    { basePath },
  );
}

describe(`${PAGE}: an app under /sub behind nginx`, { skip: skipUnless(NGINX, 'nginx'), timeout: 60_000 }, () => {
  let dir = '';
  const servers: FcgiServer[] = [];
  /** nginx with the page's `location /sub/` block (the app's base found from its params). */
  let split: Nginx | undefined;
  /** nginx with its stock params only, the app given basePath '/sub'. */
  let stock: Nginx | undefined;

  before(
    async () => {
      dir = await mkdtemp(join(tmpdir(), 'fcgi-nginx-base-'));
      const auto = bothApps('auto');
      const fixed = bothApps('/sub');
      servers.push(auto, fixed);
      await auto.listen(join(dir, 'auto.sock'));
      await fixed.listen(join(dir, 'fixed.sock'));
      split = await startNginx(join(dir, 'auto.sock'), { locations: subDirectoryBlock() });
      stock = await startNginx(join(dir, 'fixed.sock'));
    },
    { timeout: 30_000 },
  );
  after(
    async () => {
      await split?.stop();
      await stock?.stop();
      for (const s of servers) await s.close();
      if (dir) await rm(dir, { recursive: true, force: true });
    },
    { timeout: 20_000 },
  );

  const ways = [
    { how: "the page's location /sub/ with fastcgi_split_path_info", front: () => split! },
    { how: "nginx's stock params and basePath: '/sub'", front: () => stock! },
  ];

  for (const { how, front } of ways) {
    for (const app of ['createApp', 'express']) {
      const get = (path: string) => fetchRaw(front().port, path, { headers: { 'X-App': app } });

      it(`${how}, ${app}: the route sees the path below /sub; req.baseUrl is /sub`, async () => {
        const r = await get('/sub/echo?q=1');
        assert.equal(r.status, 200, r.body.toString());
        const s = JSON.parse(r.body.toString()) as Seen;
        assert.deepEqual(
          { app: s.app, url: s.url, baseUrl: s.baseUrl, originalUrl: s.originalUrl, path: s.path },
          { app, url: '/echo?q=1', baseUrl: '/sub', originalUrl: '/sub/echo?q=1', path: '/echo' },
        );
      });

      it(`${how}, ${app}: a redirect built from req.baseUrl stays under /sub; an unknown path is the app's 404`, async () => {
        const r = await get('/sub/login');
        assert.equal(r.status, 302, r.body.toString());
        assert.equal(r.headers.location, '/sub/echo');
        const missing = await get('/sub/no/such/page');
        assert.equal(missing.status, 404);
        assert.match(missing.body.toString(), /Cannot GET \/sub\/no\/such\/page/);
      });
    }
  }

  it("basePath '/sub' takes the prefix only at a segment's end: /subway is the app's own /subway", async () => {
    const r = await fetchRaw(stock!.port, '/subway');
    assert.equal(r.status, 404);
    assert.match(r.body.toString(), /Cannot GET \/subway/);
  });

  it(`${PAGE}'s table "How the app sees its URL": what nginx sends, and what the app makes of it`, async () => {
    const at = page.indexOf('## How the app sees its URL');
    assert.ok(at >= 0);
    const rows = page
      .slice(at)
      .split('\n')
      .filter((l) => /^\| `\//.test(l));
    assert.equal(rows.length, 2, `the table's rows:\n${rows.join('\n')}`);
    for (const row of rows) {
      const cells = row
        .split('|')
        .slice(1, -1)
        .map((c) => c.trim());
      const request = /^`([^`]+)`/.exec(cells[0]!)![1]!;
      const want = cells.slice(1).map((c) => (c === '(none)' ? undefined : /^`([^`]*)`$/.exec(c)![1]));
      const r = await fetchRaw(split!.port, request);
      assert.equal(r.status, 200, `${request}: ${r.body.toString()}`);
      const s = JSON.parse(r.body.toString()) as Seen;
      const e = s.environ;
      assert.deepEqual([e.SCRIPT_NAME, e.PATH_INFO || undefined, e.REQUEST_URI], want, row);
      // What the page says after the table: the whole URL at location /, the part below /sub with the split.
      const base = request.startsWith('/sub/') ? '/sub' : '';
      assert.deepEqual([s.baseUrl, s.url], [base, request.slice(base.length)], row);
    }
  });
});
