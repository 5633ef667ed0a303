// The port itself: test/fixtures/express-port/app.mjs, an ordinary Express 5 app, runs as it is on
// Express (node:http), and a copy of it whose only change is the import line (`express` ->
// `@fcgi/express`) runs on @fcgi over real FastCGI, behind nginx and behind the development gateway.
// Its unchanged `app.listen(port, callback)` line picks the mode. All three get the same requests
// in the same order (the app keeps state) and must give the same answers.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ROOT, skipUnless, stopChild } from './helpers/app-process.js';
import { viaExpress as viaHttp, type Answer, type Ask } from './helpers/express-diff.js';
import { NGINX, freePort, startNginx, type Nginx } from './helpers/nginx.js';

const FIXTURE = join(ROOT, 'test', 'fixtures', 'express-port');
const EXPRESS_IMPORT = "import express from 'express';";
const PORTED_IMPORT = "import express from '@fcgi/express';";
const LISTENING = 'Corner Shop listening on port';
const T = { timeout: 60_000 };

/**
 * Headers that the app decides. Left out: what node:http, nginx or the gateway add (Date,
 * Connection, Keep-Alive, Transfer-Encoding, Server), and X-Powered-By, which only Express sends
 * (docs/express.md, "Porting from Express").
 */
const COMPARED = new Set([
  'content-type',
  'content-length',
  'location',
  'set-cookie',
  'content-range',
  'content-disposition',
  'accept-ranges',
  'cache-control',
  'etag',
  'last-modified',
  'vary',
  'x-content-type-options',
]);

const form = (body: string): Pick<Ask, 'headers' | 'body'> => ({
  headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
  body: Buffer.from(body),
});
const jsonBody = (body: string, headers: Record<string, string> = {}): Pick<Ask, 'headers' | 'body'> => ({
  headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
  body: Buffer.from(body),
});
const html = { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' };
const wantJson = { accept: 'application/json' };

/**
 * Headers of one answer left out of the comparison, with the deliberate difference that explains
 * them (each listed in docs/express.md, "Porting from Express").
 */
const DIFFERS = new Map<string, { headers: string[]; why: string }>([
  [
    '/prices.txt',
    {
      headers: ['accept-ranges', 'cache-control', 'content-type', 'etag', 'last-modified'],
      why: "a 416 from static files reaches the error handler without the file's headers (send leaves them, so Express labels the error page text/plain)",
    },
  ],
]);

/** What a visitor and an API client do, in order: later answers depend on earlier writes. */
const ASKS: Ask[] = [
  { uri: '/', headers: html },
  { uri: '/about', headers: html },
  { method: 'HEAD', uri: '/about', headers: html },
  { uri: '/old-about' },
  { uri: '/style.css' },
  { uri: '/style.css', headers: { range: 'bytes=0-9' } },
  { uri: '/prices.txt', headers: { range: 'bytes=500-600' } },
  { uri: '/price-list' },
  { uri: '/items', headers: html },
  { uri: '/items', headers: wantJson },
  { uri: '/items/1', headers: html },
  { uri: '/items/1', headers: wantJson },
  { uri: '/items/99', headers: html },
  { uri: '/items/99', headers: wantJson },
  // A form creates an item; the flash cookie and the redirect come from app.response helpers.
  { method: 'POST', uri: '/items', ...form('name=Kiwi&price=7') },
  { uri: '/items/3', headers: { ...html, cookie: 'flash=created' } },
  // method-override: the form's hidden _method turns the POST into PUT, then DELETE.
  { method: 'POST', uri: '/items/3', ...form('_method=PUT&name=Golden+Kiwi&price=8') },
  { uri: '/items/3', headers: wantJson },
  {
    method: 'POST',
    uri: '/items/1',
    ...jsonBody('{"name":"Red Apples","price":5}', { 'x-http-method-override': 'PUT' }),
  },
  { method: 'POST', uri: '/items/3', ...form('_method=DELETE') },
  { uri: '/items/3', headers: html },
  { method: 'DELETE', uri: '/items/2' },
  // JSONP with the app's `jsonp callback name`, a hostile callback name, and none.
  { uri: '/api/items?cb=render' },
  { uri: '/api/items?cb=alert(document.cookie)//' },
  { uri: '/api/items' },
  { method: 'POST', uri: '/api/items', ...jsonBody('{"name":"Plums","price":5}') },
  { method: 'POST', uri: '/api/items', ...jsonBody('{}') },
  { uri: '/', headers: html },
  { uri: '/boom', headers: html },
  { uri: '/boom', headers: wantJson },
  { uri: '/no/such/page', headers: html },
];

/** The answer reduced to status, the compared header lines (sorted) and body. */
function compared(ask: Ask, a: Answer): Answer {
  const skip = DIFFERS.get(ask.uri)?.headers ?? [];
  const headers = a.headers
    .map((line) => {
      const colon = line.indexOf(':');
      return `${line.slice(0, colon).toLowerCase()}:${line.slice(colon + 1)}`;
    })
    .filter((line) => {
      const name = line.slice(0, line.indexOf(':'));
      return COMPARED.has(name) && !skip.includes(name);
    })
    .sort();
  return { status: a.status, headers, body: a.body };
}

interface Running {
  child: ChildProcess;
  stdout(): string;
  stop(): Promise<void>;
}

/** Runs `file` with plain node (the fixture is JavaScript) until its listen callback has printed. */
async function run(file: string, env: NodeJS.ProcessEnv): Promise<Running> {
  const child = spawn(process.execPath, [file], {
    cwd: ROOT,
    env: { ...process.env, NODE_ENV: undefined, FCGI_LISTEN: undefined, PORT: undefined, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => {
    if (out.length < 100_000) out += s;
  });
  child.stderr!.setEncoding('utf8').on('data', (s: string) => {
    if (err.length < 100_000) err += s;
  });
  const running: Running = { child, stdout: () => out, stop: () => stopChild(child) };
  const deadline = Date.now() + 20_000;
  while (!out.includes(LISTENING)) {
    if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) {
      await running.stop();
      throw new Error(`${file} did not call its listen callback; stdout:\n${out}\nstderr:\n${err}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return running;
}

async function askAll(port: number): Promise<Answer[]> {
  const answers: Answer[] = [];
  for (const ask of ASKS) answers.push(compared(ask, await viaHttp(port, ask)));
  return answers;
}

function assertSame(got: Answer[], want: Answer[], where: string): void {
  const wrong: string[] = [];
  ASKS.forEach((ask, i) => {
    try {
      assert.deepEqual(got[i], want[i]);
    } catch (e) {
      wrong.push(
        `${where}: ${ask.method ?? 'GET'} ${ask.uri} ${JSON.stringify(ask.headers ?? {})}\n${(e as Error).message}`,
      );
    }
  });
  assert.deepEqual(wrong, [], wrong.join('\n\n'));
}

describe('an Express 5 app ported by its import line', { skip: skipUnless(NGINX, 'nginx') }, () => {
  let dir = '';
  let ported = '';
  let onExpress: Answer[] = [];
  const started: Running[] = [];

  before(async () => {
    // Under the repository (the gitignored .tmp/), so that the copy resolves @fcgi/express, ejs,
    // pug and method-override from the workspace's node_modules as the fixture resolves express.
    mkdirSync(join(ROOT, '.tmp'), { recursive: true });
    dir = mkdtempSync(join(ROOT, '.tmp', 'express-port-'));
    cpSync(FIXTURE, dir, { recursive: true, preserveTimestamps: true });
    ported = join(dir, 'app.mjs');
    const source = readFileSync(ported, 'utf8');
    assert.equal(source.split(EXPRESS_IMPORT).length, 2, 'the fixture imports express once, on its own line');
    writeFileSync(ported, source.replace(EXPRESS_IMPORT, PORTED_IMPORT));

    const port = await freePort();
    const express = await run(join(FIXTURE, 'app.mjs'), { PORT: String(port) });
    started.push(express);
    try {
      onExpress = await askAll(port);
    } finally {
      await express.stop();
    }
    // What Express answers is what the app means: pages, a range, redirects, 404s, errors.
    assert.deepEqual(
      onExpress.map((a) => a.status),
      [
        200, 200, 200, 301, 200, 206, 416, 200, 200, 200, 200, 200, 404, 404, 303, 200, 303, 200, 200, 200, 404, 200,
        200, 200, 200, 201, 400, 200, 500, 500, 404,
      ],
    );
    const body = (uri: string, i = 0) =>
      onExpress.filter((_, k) => ASKS[k]!.uri === uri && ASKS[k]!.method === undefined)[i]!.body;
    assert.match(body('/about'), /<title>About us [^<]+ Corner Shop<\/title>.*<h1>About Corner Shop<\/h1>/);
    assert.match(body('/items/3', 1), /"name":"Golden Kiwi","price":8/);
    assert.match(body('/items/3', 2), /No item 3/);
    assert.match(body('/api/items?cb=render'), /^\/\*\*\/ typeof render === 'function' && render\(\[/);
  }, T);

  after(async () => {
    for (const r of started) await r.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the copy differs from the fixture by the import line only', () => {
    const a = readFileSync(join(FIXTURE, 'app.mjs'), 'utf8').split('\n');
    const b = readFileSync(ported, 'utf8').split('\n');
    assert.equal(a.length, b.length);
    const changed = a.map((line, i) => (line === b[i] ? null : `${line} -> ${b[i]}`)).filter(Boolean);
    assert.deepEqual(changed, [`${EXPRESS_IMPORT} -> ${PORTED_IMPORT}`]);
  });

  it(
    'behind nginx (FCGI_LISTEN): app.listen(port, cb) serves FastCGI there and calls back; same answers',
    T,
    async () => {
      const socketDir = mkdtempSync(join(dir, 'sock-'));
      const socket = join(socketDir, 'app.sock');
      // PORT is set as a host would leave it: FCGI_LISTEN comes first, the port is not used.
      const app = await run(ported, { FCGI_LISTEN: socket, PORT: String(await freePort()) });
      started.push(app);
      let nginx: Nginx | undefined;
      try {
        nginx = await startNginx(socket);
        assertSame(await askAll(nginx.port), onExpress, 'behind nginx');
        assert.equal(nginx.errorLog().includes('FastCGI sent in stderr'), false, nginx.errorLog());
      } finally {
        await nginx?.stop();
        await app.stop();
      }
    },
  );

  it('started by hand: app.listen(port, cb) serves the development gateway on that port; same answers', T, async () => {
    const port = await freePort();
    const app = await run(ported, { PORT: String(port) });
    started.push(app);
    try {
      assert.match(app.stdout(), new RegExp(`serving on http://127\\.0\\.0\\.1:${port} \\(development gateway`));
      assert.ok(app.stdout().includes(`${LISTENING} ${port}`));
      assertSame(await askAll(port), onExpress, 'behind the gateway');
    } finally {
      await app.stop();
    }
  });
});
