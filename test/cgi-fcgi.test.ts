// End to end with cgi-fcgi (libfcgi-bin), the FastCGI client of the reference C library: it sends
// its whole environment as PARAMS and CONTENT_LENGTH bytes of its stdin as STDIN, one request per
// connection without KEEP_CONN, and prints the CGI response (header block and body) on stdout.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { parseCgi } from './helpers/raw-client.js';
import { findBinary, signalPid, skipUnless, startApp, type AppProcess } from './helpers/app-process.js';

const CGI_FCGI = findBinary('cgi-fcgi', ['/usr/bin/cgi-fcgi']);
const skip = skipUnless(CGI_FCGI, 'libfcgi-bin');
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

interface Run {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

/** Runs `cgi-fcgi -bind -connect socket` with exactly `env` (no inherited variables) and `stdin`. */
function cgiFcgi(
  socket: string,
  env: Record<string, string>,
  stdin: Buffer = Buffer.alloc(0),
  ms = 15_000,
): Promise<Run> {
  if (!CGI_FCGI) return Promise.reject(new Error('cgi-fcgi is not installed (apt-get install libfcgi-bin)'));
  return new Promise((resolve, reject) => {
    const child = spawn(CGI_FCGI, ['-bind', '-connect', socket], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    const timer = setTimeout(() => {
      signalPid(child.pid, 'SIGKILL');
      reject(new Error(`cgi-fcgi did not finish within ${ms} ms; stderr: ${err}`));
    }, ms);
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out), stderr: err });
    });
    // cgi-fcgi may stop reading once it has CONTENT_LENGTH bytes: ignore a broken pipe.
    child.stdin.on('error', () => {});
    child.stdin.end(stdin);
  });
}

/** A CGI environment as a web server would set it for `method` and `uri`. */
function cgiEnv(method: string, uri: string, extra: Record<string, string> = {}): Record<string, string> {
  const q = uri.indexOf('?');
  return {
    GATEWAY_INTERFACE: 'CGI/1.1',
    SERVER_SOFTWARE: 'cgi-fcgi-test',
    SERVER_PROTOCOL: 'HTTP/1.1',
    SERVER_NAME: 'localhost',
    SERVER_PORT: '80',
    REMOTE_ADDR: '127.0.0.1',
    REQUEST_METHOD: method,
    REQUEST_URI: uri,
    SCRIPT_NAME: q < 0 ? uri : uri.slice(0, q),
    QUERY_STRING: q < 0 ? '' : uri.slice(q + 1),
    ...extra,
  };
}

interface Echo {
  method: string;
  url: string;
  path: string;
  query: Record<string, string | string[]>;
  headers: Record<string, string>;
  environ: Record<string, string>;
  bodyLength: number;
  bodySha256: string;
}

function echoOf(run: Run): { status: number; echo: Echo } {
  assert.equal(run.code, 0, `cgi-fcgi exit code; stderr: ${run.stderr}`);
  const { status, headers, body } = parseCgi(run.stdout);
  assert.equal(headers['content-type'], 'application/json; charset=utf-8');
  return { status, echo: JSON.parse(body.toString('utf8')) as Echo };
}

describe('cgi-fcgi against examples/hello.ts', { skip, timeout: 60_000 }, () => {
  let app: AppProcess | undefined;
  before(
    async () => {
      if (!CGI_FCGI) throw new Error('cgi-fcgi is not installed (apt-get install libfcgi-bin)');
      app = await startApp('examples/hello.ts');
    },
    { timeout: 30_000 },
  );
  after(
    async () => {
      await app?.stop();
    },
    { timeout: 10_000 },
  );

  it('answers exactly "Hello World\\n" as text/plain, three times over fresh connections', {
    timeout: 30_000,
  }, async () => {
    for (let i = 0; i < 3; i++) {
      const run = await cgiFcgi(app!.socket, cgiEnv('GET', `/hello?i=${i}`));
      assert.equal(run.code, 0, run.stderr);
      assert.equal(
        run.stdout.toString('latin1'),
        'Content-Type: text/plain\r\nContent-Length: 12\r\n\r\nHello World\n',
      );
      const { status, headers, body } = parseCgi(run.stdout);
      assert.equal(status, 200);
      assert.equal(headers['content-type'], 'text/plain');
      assert.equal(body.toString(), 'Hello World\n');
    }
  });
});

describe('cgi-fcgi against examples/echo.ts', { skip, timeout: 60_000 }, () => {
  let app: AppProcess | undefined;
  before(
    async () => {
      if (!CGI_FCGI) throw new Error('cgi-fcgi is not installed (apt-get install libfcgi-bin)');
      app = await startApp('examples/echo.ts');
    },
    { timeout: 30_000 },
  );
  after(
    async () => {
      await app?.stop();
    },
    { timeout: 10_000 },
  );

  it('GET with a query: url, path, query, headers, and the environment passed whole', { timeout: 15_000 }, async () => {
    const env = cgiEnv('GET', '/echo/p?x=1&x=2&y=%E2%98%83', { HTTP_ACCEPT: 'text/plain', HTTP_X_NAME: 'Zoë' });
    const { status, echo } = echoOf(await cgiFcgi(app!.socket, env));
    assert.equal(status, 200);
    assert.equal(echo.method, 'GET');
    assert.equal(echo.url, '/echo/p?x=1&x=2&y=%E2%98%83');
    assert.equal(echo.path, '/echo/p');
    assert.deepEqual({ ...echo.query }, { x: ['1', '2'], y: '☃' });
    assert.equal(echo.headers.accept, 'text/plain');
    assert.equal(echo.headers['x-name'], 'Zoë');
    // cgi-fcgi sends its environment as the params: every variable arrives unchanged.
    for (const [name, value] of Object.entries(env)) assert.equal(echo.environ[name], value, name);
    assert.equal(echo.bodyLength, 0);
  });

  it('without REQUEST_URI the URL is SCRIPT_NAME + PATH_INFO + ?QUERY_STRING, the base SCRIPT_NAME', {
    timeout: 15_000,
  }, async () => {
    const env = cgiEnv('GET', '/app.fcgi?q=1', { PATH_INFO: '/items/7' });
    delete env.REQUEST_URI;
    const { echo } = echoOf(await cgiFcgi(app!.socket, env));
    assert.equal(echo.url, '/items/7?q=1');
    assert.equal(echo.path, '/items/7');
    assert.equal(echo.query.q, '1');
  });

  it('POST of 100 kB on stdin: length and SHA-256 match', { timeout: 15_000 }, async () => {
    const body = randomBytes(100 * 1024);
    const env = cgiEnv('POST', '/upload', {
      CONTENT_LENGTH: String(body.length),
      CONTENT_TYPE: 'application/octet-stream',
    });
    const { status, echo } = echoOf(await cgiFcgi(app!.socket, env, body));
    assert.equal(status, 200);
    assert.equal(echo.method, 'POST');
    assert.equal(echo.bodyLength, body.length);
    assert.equal(echo.bodySha256, sha256(body));
    assert.equal(echo.headers['content-length'], String(body.length));
    assert.equal(echo.headers['content-type'], 'application/octet-stream');
  });

  it('?status=404 comes back as a Status: line in the CGI header block', { timeout: 15_000 }, async () => {
    const run = await cgiFcgi(app!.socket, cgiEnv('GET', '/nope?status=404'));
    assert.match(run.stdout.toString('latin1'), /^Status: 404 Not Found\r\n/);
    const { status, echo } = echoOf(run);
    assert.equal(status, 404);
    assert.equal(echo.path, '/nope');
  });

  it('the app logged nothing unexpected on its stderr', { timeout: 5_000 }, () => {
    const lines = app!
      .stderr()
      .split('\n')
      .filter((l) => l && !l.startsWith('echo: listening on'));
    assert.deepEqual(lines, []);
  });
});
