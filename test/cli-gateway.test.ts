// `fcgi gateway` (the built CLI, its own process) in front of a real PHP-FPM and of examples/echo.ts:
// a PHP script sees its query, POST body and cookies and sets a custom status and two cookies; the
// echo app sees SCRIPT_FILENAME under --root. SIGTERM stops the gateway promptly, even mid-download.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { request, type IncomingHttpHeaders } from 'node:http';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { ROOT, exited, startApp, stopChild, type AppProcess } from './helpers/app-process.js';
import { freePort } from './helpers/nginx.js';
import { phpFpmSkip, startPhpFpm, type PhpFpm } from './helpers/php-fpm.js';

const CLI = join(ROOT, 'packages/core/dist/cli.js');

const PHP_ECHO = `<?php
$body = file_get_contents('php://input');
if (isset($_GET['status'])) header('Status: ' . $_GET['status']);
if (isset($_GET['code'])) http_response_code((int) $_GET['code']);
setcookie('first', 'one');
setcookie('second', 'two', ['httponly' => true]);
header('Content-Type: application/json');
echo json_encode([
  'method' => $_SERVER['REQUEST_METHOD'], 'uri' => $_SERVER['REQUEST_URI'], 'script' => $_SERVER['SCRIPT_FILENAME'],
  'query' => $_GET, 'post' => $_POST, 'cookies' => $_COOKIE, 'len' => strlen($body), 'md5' => md5($body),
  'custom' => $_SERVER['HTTP_X_CUSTOM'] ?? null,
]);
`;

interface Gw {
  child: ChildProcess;
  port: number;
  stderr(): string;
}

/** `fcgi gateway --to <to> --port <free> [...extra]`; resolves once it printed its address. */
async function startGateway(to: string, extra: string[] = []): Promise<Gw> {
  const port = await freePort();
  const child = spawn(process.execPath, [CLI, 'gateway', '--to', to, '--port', String(port), ...extra], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (out += s));
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (err = (err + s).slice(-100_000)));
  const deadline = Date.now() + 10_000;
  while (!out.includes(`fcgi gateway: http://127.0.0.1:${port} -> ${to}`)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stopChild(child);
      throw new Error(`the gateway did not start: ${out}${err}`);
    }
    await sleep(50);
  }
  return { child, port, stderr: () => err };
}

interface Res {
  status: number;
  reason: string;
  headers: IncomingHttpHeaders;
  body: string;
}

function http(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string | string[]> = {},
  body?: string,
): Promise<Res> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers, timeout: 10_000 }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (s: string) => (text += s));
      res.on('end', () =>
        resolve({ status: res.statusCode!, reason: res.statusMessage!, headers: res.headers, body: text }),
      );
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.on('error', reject);
    req.end(body);
  });
}

describe('`fcgi gateway` in front of PHP-FPM', { skip: phpFpmSkip(), timeout: 60_000 }, () => {
  let fpm: PhpFpm | undefined;
  let gw: Gw | undefined;

  before(
    async () => {
      fpm = await startPhpFpm({ 't.php': PHP_ECHO });
      gw = await startGateway(fpm.socket, ['--root', dirname(fpm.script('t.php'))]);
    },
    { timeout: 30_000 },
  );
  after(
    async () => {
      if (gw) await stopChild(gw.child);
      await fpm?.stop();
    },
    { timeout: 20_000 },
  );

  it('GET with a query: $_GET, REQUEST_URI and SCRIPT_FILENAME under --root', { timeout: 10_000 }, async () => {
    const r = await http(gw!.port, 'GET', '/t.php?a=1&b=two%20words', { 'X-Custom': 'hi' });
    assert.equal(r.status, 200, `${r.body}\n${fpm!.log()}`);
    const j = JSON.parse(r.body);
    assert.equal(j.method, 'GET');
    assert.equal(j.uri, '/t.php?a=1&b=two%20words');
    assert.equal(j.script, fpm!.script('t.php'));
    assert.deepEqual(j.query, { a: '1', b: 'two words' });
    assert.equal(j.custom, 'hi');
  });

  it('a form POST: $_POST and the raw body', { timeout: 10_000 }, async () => {
    const form = 'name=Zo%C3%AB&n=42';
    const r = await http(gw!.port, 'POST', '/t.php', { 'Content-Type': 'application/x-www-form-urlencoded' }, form);
    assert.equal(r.status, 200, r.body);
    const j = JSON.parse(r.body);
    assert.deepEqual(j.post, { name: 'Zoë', n: '42' });
    assert.equal(j.len, form.length);
    assert.equal(j.md5, createHash('md5').update(form).digest('hex'));
  });

  it('cookies both ways: two Cookie lines in $_COOKIE, two Set-Cookie lines out', { timeout: 10_000 }, async () => {
    const r = await http(gw!.port, 'GET', '/t.php', { Cookie: ['a=1', 'b=two'] });
    assert.deepEqual(JSON.parse(r.body).cookies, { a: '1', b: 'two' });
    assert.deepEqual(r.headers['set-cookie'], ['first=one', 'second=two; HttpOnly']);
  });

  it("PHP's custom status is the status line; a missing script is PHP-FPM's 404", { timeout: 10_000 }, async () => {
    const r = await http(gw!.port, 'GET', '/t.php?status=299%20Custom%20Thing');
    assert.equal(r.status, 299);
    assert.equal(r.reason, 'Custom Thing');
    assert.equal(r.headers.status, undefined);
    const missing = await http(gw!.port, 'GET', '/nope.php');
    assert.equal(missing.status, 404);
    assert.match(missing.body, /File not found/);
  });
});

describe('`fcgi gateway` in front of examples/echo.ts', { timeout: 60_000 }, () => {
  let app: AppProcess | undefined;
  let gw: Gw | undefined;

  before(
    async () => {
      app = await startApp('examples/echo.ts');
      gw = await startGateway(app.socket, ['--root', '/srv/www/']);
    },
    { timeout: 30_000 },
  );
  after(
    async () => {
      if (gw) await stopChild(gw.child);
      await app?.stop();
    },
    { timeout: 20_000 },
  );

  it('GET and POST reach the app with the params nginx would send', { timeout: 10_000 }, async () => {
    const r = await http(gw!.port, 'GET', '/p/q?x=1', { 'X-Test': 'yes' });
    assert.equal(r.status, 200);
    const e = JSON.parse(r.body) as { environ: Record<string, string> };
    assert.equal(e.environ.QUERY_STRING, 'x=1');
    assert.equal(e.environ.SCRIPT_NAME, '/p/q');
    assert.equal(e.environ.DOCUMENT_ROOT, '/srv/www');
    assert.equal(e.environ.SCRIPT_FILENAME, '/srv/www/p/q');
    assert.equal(e.environ.SERVER_PORT, String(gw!.port));
    assert.equal(e.environ.HTTP_X_TEST, 'yes');
    const body = 'x'.repeat(100_000);
    const p = JSON.parse((await http(gw!.port, 'POST', '/up', { 'Content-Type': 'text/plain' }, body)).body);
    assert.equal(p.bodyLength, body.length);
    assert.equal(p.bodySha256, createHash('sha256').update(body).digest('hex'));
  });

  it('?status=404 passes through', { timeout: 10_000 }, async () => {
    assert.equal((await http(gw!.port, 'GET', '/missing?status=404')).status, 404);
  });

  it('SIGTERM with a download stalled mid-way: exits 0 within a few seconds', { timeout: 20_000 }, async () => {
    const stalled = new Promise<void>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: gw!.port, path: '/big?bytes=100000000' }, (res) => {
        res.once('data', () => {
          res.pause(); // a client that stopped reading
          resolve();
        });
        res.on('error', () => {});
      });
      req.on('error', () => {});
      req.setTimeout(15_000, () => reject(new Error('no data')));
      req.end();
    });
    await stalled;
    const started = Date.now();
    gw!.child.kill('SIGTERM');
    assert.ok(await exited(gw!.child, 10_000), `still running 10 s after SIGTERM; stderr: ${gw!.stderr()}`);
    assert.equal(gw!.child.exitCode, 0);
    assert.ok(Date.now() - started < 8000);
  });
});
