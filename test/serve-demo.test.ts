// `npm start`: scripts/run.mjs demo ends with `node --import tsx examples/demo.ts`. Run as that
// child with nothing from a host (no socket on fd 0, no FCGI_LISTEN, no CGI variables) and PORT set,
// serve() puts the built-in gateway in front and the demo answers its pages over real HTTP.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { ROOT, exited, stopChild } from './helpers/app-process.js';
import { freePort } from './helpers/nginx.js';

/** The environment without anything that would make serve() choose FastCGI or CGI. */
function plainEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  for (const k of ['FCGI_LISTEN', 'GATEWAY_INTERFACE', 'REQUEST_METHOD', 'FCGI_WEB_SERVER_ADDRS']) delete env[k];
  return env;
}

function http(port: number, method: string, path: string, body?: string, type?: string) {
  return new Promise<{ status: number; type: string; body: string }>((resolve, reject) => {
    const headers: Record<string, string> = type ? { 'Content-Type': type } : {};
    const req = request({ host: '127.0.0.1', port, method, path, headers, timeout: 10_000 }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (s: string) => (text += s));
      res.on('end', () => resolve({ status: res.statusCode!, type: String(res.headers['content-type']), body: text }));
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.on('error', reject);
    req.end(body);
  });
}

describe('the demo as `npm start` runs it: serve() with the development gateway', { timeout: 60_000 }, () => {
  let child: ChildProcess | undefined;
  let port = 0;
  let out = '';
  let err = '';

  before(
    async () => {
      // The README's `npm start` is `node scripts/run.mjs demo`; after install and build its last step is this.
      const run = readFileSync(join(ROOT, 'scripts/run.mjs'), 'utf8');
      assert.match(run, /run\(process\.execPath, \['--import', 'tsx', 'examples\/demo\.ts'\]\)/);
      assert.match(readFileSync(join(ROOT, 'package.json'), 'utf8'), /"start": "node scripts\/run\.mjs demo"/);
      port = await freePort();
      child = spawn(process.execPath, ['--import', 'tsx', 'examples/demo.ts'], {
        cwd: ROOT,
        env: plainEnv({ PORT: String(port) }),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout!.setEncoding('utf8').on('data', (s: string) => (out += s));
      child.stderr!.setEncoding('utf8').on('data', (s: string) => (err = (err + s).slice(-100_000)));
      const deadline = Date.now() + 20_000;
      while (!out.includes('serving on') && child.exitCode === null && Date.now() < deadline) await sleep(50);
    },
    { timeout: 30_000 },
  );
  after(
    async () => {
      if (child) await stopChild(child);
    },
    { timeout: 10_000 },
  );

  it('prints `serving on http://127.0.0.1:<PORT>`', { timeout: 5_000 }, () => {
    assert.match(out, new RegExp(`serving on http://127\\.0\\.0\\.1:${port}\\b`), `stdout: ${out}\nstderr: ${err}`);
  });

  it('GET / is the HTML page with the environ table', { timeout: 10_000 }, async () => {
    const r = await http(port, 'GET', '/');
    assert.equal(r.status, 200);
    assert.equal(r.type, 'text/html; charset=utf-8');
    assert.match(r.body, /<h1>@fcgi demo<\/h1>/);
    assert.match(r.body, /<h2>Environ \(the FastCGI params\)<\/h2>/);
    assert.match(r.body, /<tr><th>GATEWAY_INTERFACE<\/th><td>CGI\/1\.1<\/td><\/tr>/);
    assert.match(r.body, /<tr><th>REQUEST_URI<\/th><td>\/<\/td><\/tr>/);
    assert.match(r.body, /<tr><th>SERVER_SOFTWARE<\/th><td>fcgi-dev-gateway<\/td><\/tr>/);
    assert.match(r.body, new RegExp(`<tr><th>SERVER_PORT</th><td>${port}</td></tr>`));
  });

  it('GET /hello?name=x shows the query', { timeout: 10_000 }, async () => {
    const r = await http(port, 'GET', '/hello?name=x&n=1&n=2');
    assert.equal(r.status, 200);
    assert.match(r.body, /<h2>Query<\/h2><table>.*<tr><th>name<\/th><td>x<\/td><\/tr>/s);
    assert.match(r.body, /<tr><th>n<\/th><td>1, 2<\/td><\/tr>/);
    assert.match(r.body, /<tr><th>QUERY_STRING<\/th><td>name=x&#38;n=1&#38;n=2<\/td><\/tr>/);
  });

  it('a form POST shows the fields', { timeout: 10_000 }, async () => {
    const r = await http(
      port,
      'POST',
      '/form',
      'name=Zo%C3%AB&message=%3Cb%3Ehi%3C%2Fb%3E',
      'application/x-www-form-urlencoded',
    );
    assert.equal(r.status, 200);
    assert.match(
      r.body,
      /<h2>You posted<\/h2><table><tr><th>message<\/th><td>&#60;b&#62;hi&#60;\/b&#62;<\/td><\/tr><tr><th>name<\/th><td>Zoë<\/td><\/tr><\/table>/,
    );
    assert.match(r.body, /<tr><th>REQUEST_METHOD<\/th><td>POST<\/td><\/tr>/);
  });

  it('/api/environ is JSON', { timeout: 10_000 }, async () => {
    const r = await http(port, 'GET', '/api/environ?x=1');
    assert.equal(r.status, 200);
    assert.equal(r.type, 'application/json; charset=utf-8');
    const j = JSON.parse(r.body) as {
      method: string;
      url: string;
      query: Record<string, string>;
      environ: Record<string, string>;
    };
    assert.equal(j.method, 'GET');
    assert.equal(j.url, '/api/environ?x=1');
    assert.deepEqual({ ...j.query }, { x: '1' });
    assert.equal(j.environ.REQUEST_URI, '/api/environ?x=1');
    assert.equal(j.environ.SCRIPT_NAME, '/api/environ');
    assert.equal(j.environ.HTTP_HOST, `127.0.0.1:${port}`);
  });

  it('counts visits in a signed cookie; a tampered cookie starts over', { timeout: 10_000 }, async () => {
    const first = await fetch(`http://127.0.0.1:${port}/`);
    const cookie = (first.headers.get('set-cookie') ?? '').split(';')[0]!;
    assert.match(cookie, /^visits=s%3A1\./);
    assert.match(await first.text(), /Visit number 1 /);
    const second = await fetch(`http://127.0.0.1:${port}/`, { headers: { cookie } });
    assert.match(await second.text(), /Visit number 2 /);
    const forged = cookie.replace('s%3A1.', 's%3A99.');
    assert.match(
      await (await fetch(`http://127.0.0.1:${port}/`, { headers: { cookie: forged } })).text(),
      /Visit number 1 /,
    );
    assert.match(second.headers.get('server-timing') ?? '', /^app;dur=/);
  });

  it('serves its stylesheet with @fcgi/static (cache headers, 304)', { timeout: 10_000 }, async () => {
    const css = await fetch(`http://127.0.0.1:${port}/assets/style.css`);
    assert.equal(css.status, 200);
    assert.match(css.headers.get('content-type') ?? '', /^text\/css/);
    assert.equal(css.headers.get('cache-control'), 'public, max-age=3600');
    const etag = css.headers.get('etag')!;
    await css.text();
    const again = await fetch(`http://127.0.0.1:${port}/assets/style.css`, { headers: { 'if-none-match': etag } });
    assert.equal(again.status, 304);
  });

  it('the notes API: create, list, get, 404 and 400 as JSON', { timeout: 10_000 }, async () => {
    const base = `http://127.0.0.1:${port}/api/notes`;
    const created = await fetch(base, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'hi' }),
    });
    assert.equal(created.status, 201);
    const note = (await created.json()) as { id: number; text: string };
    assert.equal(note.text, 'hi');
    assert.equal(created.headers.get('location'), `/api/notes/${note.id}`);
    assert.deepEqual(await (await fetch(`${base}/${note.id}`)).json(), note);
    assert.ok(((await (await fetch(base)).json()) as unknown[]).length >= 1);
    assert.equal((await fetch(`${base}/999999`)).status, 404);
    assert.equal(
      (await fetch(base, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status,
      400,
    );
    const bad = await fetch(base, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"text":',
    });
    assert.equal(bad.status, 400);
    assert.equal((await fetch(base, { method: 'DELETE' })).status, 405);
  });

  it('SIGTERM: exits 0 promptly and removes its private FastCGI socket', { timeout: 10_000 }, async () => {
    const socket = /FastCGI on (\S+?)\)/.exec(out)?.[1] ?? assert.fail(`no socket path in ${out}`);
    assert.ok(existsSync(socket), socket);
    child!.kill('SIGTERM');
    assert.ok(await exited(child!, 5000), 'exited within 5 s');
    assert.equal(child!.exitCode, 0, err);
    assert.equal(existsSync(socket), false, 'the socket and its temp dir are gone');
  });
});
