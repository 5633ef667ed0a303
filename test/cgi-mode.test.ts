// CGI mode, as Apache mod_cgi runs a script: a real child process with the request in its
// environment and the body on stdin prints one CGI response on stdout and exits 0 by itself.
// Runs examples/demo.ts, an inline echo app on serve(), and examples/echo.ts itself.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { ROOT, exited, signalPid } from './helpers/app-process.js';

/** An echo handler on serve(): JSON of the request, the body's length and SHA-256; /throw throws. */
const ECHO_ON_SERVE = `
import { createHash } from 'node:crypto';
import { serve } from '@fcgi/core';
await serve(async (req, res) => {
  if (req.path === '/throw') throw new Error('boom from the handler');
  const hash = createHash('sha256');
  let length = 0;
  for await (const chunk of req) { hash.update(chunk); length += chunk.length; }
  res.setHeader('Content-Type', 'application/json');
  res.end(JSON.stringify({ method: req.method, url: req.url, query: req.query, headers: req.headers,
    environ: req.environ, bodyLength: length, bodySha256: hash.digest('hex') }));
});
`;

interface CgiRun {
  code: number | null;
  /** The CGI header lines (without the empty line). */
  headers: string[];
  body: Buffer;
  stdout: Buffer;
  stderr: string;
}

/**
 * Runs `args` (node arguments) with exactly `env` (plus PATH) and `stdin` as its input: written
 * whole, then ended unless `hold` keeps the pipe open like a server that never closes it.
 * Fails when the child has not exited by itself within `ms`.
 */
async function runCgi(
  args: string[],
  env: Record<string, string>,
  stdin: Buffer = Buffer.alloc(0),
  hold = false,
  ms = 15_000,
): Promise<CgiRun> {
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const out: Buffer[] = [];
  let err = '';
  child.stdout!.on('data', (c: Buffer) => out.push(c));
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (err = (err + s).slice(-100_000)));
  child.stdin!.on('error', () => {}); // the child may exit before reading it all
  child.stdin!.write(stdin);
  if (!hold) child.stdin!.end();
  try {
    if (!(await exited(child, ms))) {
      signalPid(child.pid, 'SIGKILL');
      await exited(child, 2000);
      assert.fail(`the CGI process did not exit by itself within ${ms} ms; stderr: ${err}`);
    }
  } finally {
    child.stdin!.destroy();
  }
  // Let the pipes deliver what is left.
  await new Promise((resolve) => setImmediate(resolve));
  const stdout = Buffer.concat(out);
  const crlf = stdout.indexOf('\r\n\r\n');
  const lf = stdout.indexOf('\n\n');
  const [end, skip] = crlf >= 0 && (lf < 0 || crlf < lf) ? [crlf, 4] : [lf, 2];
  assert.ok(
    end > 0,
    `no CGI header block on stdout: ${JSON.stringify(stdout.toString().slice(0, 300))}; stderr: ${err}`,
  );
  return {
    code: child.exitCode,
    headers: stdout.subarray(0, end).toString('latin1').split(/\r?\n/),
    body: stdout.subarray(end + skip),
    stdout,
    stderr: err,
  };
}

function cgiEnv(method: string, uri: string, extra: Record<string, string> = {}): Record<string, string> {
  const q = uri.indexOf('?');
  return {
    GATEWAY_INTERFACE: 'CGI/1.1',
    SERVER_PROTOCOL: 'HTTP/1.1',
    SERVER_SOFTWARE: 'Apache/2.4 (test)',
    REQUEST_METHOD: method,
    REQUEST_URI: uri,
    SCRIPT_NAME: q < 0 ? uri : uri.slice(0, q),
    QUERY_STRING: q < 0 ? '' : uri.slice(q + 1),
    SERVER_NAME: 'localhost',
    SERVER_PORT: '80',
    REMOTE_ADDR: '127.0.0.1',
    HTTP_HOST: 'localhost',
    HTTP_USER_AGENT: 'cgi-test/1',
    ...extra,
  };
}

const header = (r: CgiRun, name: string) =>
  r.headers
    .find((l) => l.toLowerCase().startsWith(name.toLowerCase() + ':'))
    ?.slice(name.length + 1)
    .trim();

/** The body is exactly what Content-Length says: one response, nothing after it. */
function assertOneResponse(r: CgiRun): void {
  assert.equal(r.code, 0, r.stderr);
  assert.equal(Number(header(r, 'Content-Length')), r.body.length, `stdout: ${r.stdout.toString().slice(0, 500)}`);
  assert.equal(r.stdout.toString('latin1').match(/^Content-Type:/gim)?.length, 1, 'one header block');
}

describe('CGI mode: examples/demo.ts', { timeout: 90_000 }, () => {
  const demo = ['--import', 'tsx', 'examples/demo.ts'];

  it('GET /hello?name=x: one HTML response with the query and the CGI environ, exit 0', {
    timeout: 20_000,
  }, async () => {
    const r = await runCgi(demo, cgiEnv('GET', '/hello?name=x'));
    assertOneResponse(r);
    assert.equal(header(r, 'Content-Type'), 'text/html; charset=utf-8');
    assert.equal(header(r, 'Status'), undefined, 'a 200 needs no Status line');
    const html = r.body.toString('utf8');
    assert.match(html, /<h2>Query<\/h2><table><tr><th>name<\/th><td>x<\/td><\/tr><\/table>/);
    assert.match(html, /<tr><th>SERVER_SOFTWARE<\/th><td>Apache\/2\.4 \(test\)<\/td><\/tr>/);
  });

  it('a form POST with CONTENT_LENGTH shorter than stdin reads only CONTENT_LENGTH bytes', {
    timeout: 20_000,
  }, async () => {
    const form = 'name=Zo%C3%AB&message=hi';
    const r = await runCgi(
      demo,
      cgiEnv('POST', '/form', {
        CONTENT_TYPE: 'application/x-www-form-urlencoded',
        CONTENT_LENGTH: String(form.length),
      }),
      Buffer.from(form + '&extra=MUST-NOT-BE-READ'),
      true,
    );
    assertOneResponse(r);
    const html = r.body.toString('utf8');
    assert.match(
      html,
      /<h2>You posted<\/h2><table><tr><th>message<\/th><td>hi<\/td><\/tr><tr><th>name<\/th><td>Zoë<\/td><\/tr><\/table>/,
    );
    assert.doesNotMatch(html, /MUST-NOT-BE-READ/);
  });

  it('CONTENT_LENGTH=0 and a stdin that never closes: answers and exits', { timeout: 20_000 }, async () => {
    const r = await runCgi(demo, cgiEnv('GET', '/api/environ?x=1', { CONTENT_LENGTH: '0' }), Buffer.alloc(0), true);
    assertOneResponse(r);
    const j = JSON.parse(r.body.toString()) as { url: string; environ: Record<string, string> };
    assert.equal(j.url, '/api/environ?x=1');
    assert.equal(j.environ.GATEWAY_INTERFACE, 'CGI/1.1');
  });
});

describe('CGI mode: an echo app on serve()', { timeout: 90_000 }, () => {
  const echo = ['--input-type=module', '-e', ECHO_ON_SERVE];

  it('a 1 MB POST: the digest of exactly CONTENT_LENGTH bytes, the env as environ, headers from HTTP_*', {
    timeout: 20_000,
  }, async () => {
    const body = randomBytes(1024 * 1024);
    const r = await runCgi(
      echo,
      cgiEnv('POST', '/up?a=1&a=2', {
        CONTENT_TYPE: 'application/octet-stream',
        CONTENT_LENGTH: String(body.length),
        HTTP_X_NAME: 'Zoë',
      }),
      Buffer.concat([body, Buffer.from('trailing bytes past CONTENT_LENGTH')]),
      true,
    );
    assertOneResponse(r);
    const e = JSON.parse(r.body.toString()) as {
      method: string;
      url: string;
      query: Record<string, unknown>;
      headers: Record<string, string>;
      environ: Record<string, string>;
      bodyLength: number;
      bodySha256: string;
    };
    assert.equal(e.method, 'POST');
    assert.equal(e.url, '/up?a=1&a=2');
    assert.deepEqual({ ...e.query }, { a: ['1', '2'] });
    assert.equal(e.bodyLength, body.length);
    assert.equal(e.bodySha256, createHash('sha256').update(body).digest('hex'));
    assert.equal(e.headers['x-name'], 'Zoë');
    assert.equal(e.headers['content-type'], 'application/octet-stream');
    assert.equal(e.environ.REQUEST_URI, '/up?a=1&a=2');
  });

  it('stdin that ends before CONTENT_LENGTH: the body is what came, and the process still exits', {
    timeout: 20_000,
  }, async () => {
    const r = await runCgi(echo, cgiEnv('POST', '/short', { CONTENT_LENGTH: '100' }), Buffer.from('only ten!!'));
    assert.equal(r.code, 0, r.stderr);
    assert.equal((JSON.parse(r.body.toString()) as { bodyLength: number }).bodyLength, 10);
  });

  it('a handler error: a 500 in the CGI output, the stack on stderr, exit 0', { timeout: 20_000 }, async () => {
    const r = await runCgi(echo, cgiEnv('GET', '/throw'));
    assertOneResponse(r);
    assert.equal(header(r, 'Status'), '500 Internal Server Error');
    assert.equal(header(r, 'Content-Type'), 'text/plain; charset=utf-8');
    assert.equal(r.body.toString(), '500 Internal Server Error\n');
    assert.match(
      r.stderr,
      /^\d{4}-\d\d-\d\dT[\d:.]+Z \[req \d+-1\] GET \/throw: Error: boom from the handler\n\s+at /m,
    );
    assert.doesNotMatch(r.stdout.toString(), /boom/, 'the stack is not shown to the client');
  });
});

describe('CGI mode: examples/echo.ts', { timeout: 30_000 }, () => {
  it('GET: one JSON response, exit 0', { timeout: 20_000 }, async () => {
    const r = await runCgi(['--import', 'tsx', 'examples/echo.ts'], cgiEnv('GET', '/e?x=1'));
    assertOneResponse(r);
    assert.equal((JSON.parse(r.body.toString()) as { url: string }).url, '/e?x=1');
  });
});
