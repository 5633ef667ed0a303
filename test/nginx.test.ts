// End to end through a real nginx (Debian's package, its stock fastcgi_params) to @fcgi apps over a
// unix socket with `fastcgi_keep_conn on` and upstream keepalive: examples/echo.ts as a child
// process, and an app in this process where the test must see the FastCGI side (connections accepted).
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createFcgiServer, type FcgiServer } from '@fcgi/core';
import { skipUnless, startApp, type AppProcess } from './helpers/app-process.js';
import { NGINX, fetchRaw, startNginx, type Nginx } from './helpers/nginx.js';

const skip = skipUnless(NGINX, 'nginx');
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

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

/** Lines of the error log that say the upstream (our app) misbehaved. */
function upstreamErrors(log: string): string[] {
  return log
    .split('\n')
    .filter((l) => /upstream sent|upstream prematurely|upstream timed out|connect\(\) (to|failed)/.test(l));
}

/** Everything nginx sends on one raw connection for `request`, until it closes. */
function rawExchange(port: number, request: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    s.setTimeout(10_000, () => s.destroy(new Error('raw exchange timed out')));
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('end', () => resolve(Buffer.concat(chunks)));
    s.on('error', reject);
    s.write(request, 'latin1');
  });
}

describe('nginx in front of examples/echo.ts', { skip, timeout: 120_000 }, () => {
  let app: AppProcess | undefined;
  let nginx: Nginx | undefined;
  const get = async (path: string, headers: Record<string, string> = {}): Promise<Echo> => {
    const r = await fetchRaw(nginx!.port, path, { headers });
    assert.equal(r.status, 200, r.body.toString());
    assert.equal(r.headers['content-type'], 'application/json; charset=utf-8');
    return JSON.parse(r.body.toString('utf8')) as Echo;
  };

  before(
    async () => {
      app = await startApp('examples/echo.ts');
      nginx = await startNginx(app.socket);
    },
    { timeout: 40_000 },
  );
  after(
    async () => {
      await nginx?.stop();
      await app?.stop();
    },
    { timeout: 20_000 },
  );

  it('GET with a query: method, url, path, query, headers and the CGI environ', { timeout: 15_000 }, async () => {
    const e = await get('/some/path?a=1&a=2&b=%C3%A9', { 'X-Test': 'yes' });
    assert.equal(e.method, 'GET');
    assert.equal(e.url, '/some/path?a=1&a=2&b=%C3%A9');
    assert.equal(e.path, '/some/path');
    assert.deepEqual({ ...e.query }, { a: ['1', '2'], b: 'é' });
    assert.equal(e.headers['x-test'], 'yes');
    assert.equal(e.headers.host, '127.0.0.1'); // Debian's fastcgi_params: HTTP_HOST is $host, no port
    assert.equal(e.headers['content-length'], undefined, 'empty CONTENT_LENGTH means no header');
    const env = e.environ;
    assert.equal(env.REQUEST_METHOD, 'GET');
    assert.equal(env.REQUEST_URI, '/some/path?a=1&a=2&b=%C3%A9');
    assert.equal(env.QUERY_STRING, 'a=1&a=2&b=%C3%A9');
    assert.equal(env.SCRIPT_NAME, '/some/path');
    assert.equal(env.DOCUMENT_URI, '/some/path');
    assert.equal(env.SERVER_PROTOCOL, 'HTTP/1.1');
    assert.equal(env.GATEWAY_INTERFACE, 'CGI/1.1');
    assert.match(env.SERVER_SOFTWARE!, /^nginx\//);
    assert.equal(env.REMOTE_ADDR, '127.0.0.1');
    assert.equal(env.SERVER_PORT, String(nginx!.port));
    assert.equal(env.CONTENT_LENGTH, '');
    assert.equal(env.HTTP_X_TEST, 'yes');
    assert.equal(e.bodyLength, 0);
    assert.equal(e.bodySha256, sha256(Buffer.alloc(0)));
  });

  it('POST of 5 MB random bytes arrives whole (length and SHA-256)', { timeout: 30_000 }, async () => {
    const body = randomBytes(5 * 1024 * 1024);
    const r = await fetchRaw(nginx!.port, '/upload', {
      method: 'POST',
      body,
      headers: { 'Content-Type': 'application/octet-stream' },
    });
    assert.equal(r.status, 200);
    const e = JSON.parse(r.body.toString()) as Echo;
    assert.equal(e.method, 'POST');
    assert.equal(e.bodyLength, body.length);
    assert.equal(e.bodySha256, sha256(body));
    assert.equal(e.environ.CONTENT_LENGTH, String(body.length));
    assert.equal(e.headers['content-length'], String(body.length));
    assert.equal(e.headers['content-type'], 'application/octet-stream');
  });

  it('a UTF-8 request header arrives intact in headers and environ', { timeout: 15_000 }, async () => {
    // node:http writes header strings as latin1: this sends the raw UTF-8 bytes of "Zoë ☃".
    const e = await get('/utf8', { 'X-Name': Buffer.from('Zoë ☃', 'utf8').toString('latin1') });
    assert.equal(e.headers['x-name'], 'Zoë ☃');
    assert.equal(e.environ.HTTP_X_NAME, 'Zoë ☃');
  });

  it('a Cookie header with two cookies becomes HTTP_COOKIE', { timeout: 15_000 }, async () => {
    const e = await get('/cookies', { Cookie: 'a=1; b=two' });
    assert.equal(e.environ.HTTP_COOKIE, 'a=1; b=two');
    assert.equal(e.headers.cookie, 'a=1; b=two');
  });

  it('two Cookie lines both reach the app (nginx 1.22 sends HTTP_COOKIE twice)', { timeout: 15_000 }, async () => {
    const raw = await rawExchange(
      nginx!.port,
      'GET /two HTTP/1.1\r\nHost: x\r\nCookie: a=1\r\nCookie: b=2\r\nX-Rep: 1\r\nX-Rep: 2\r\nConnection: close\r\n\r\n',
    );
    const e = JSON.parse(raw.subarray(raw.indexOf('\r\n\r\n') + 4).toString()) as Echo;
    assert.equal(e.headers.cookie, 'a=1; b=2');
    assert.equal(e.headers['x-rep'], '1, 2');
  });

  it('HEAD answers the headers only: no body bytes on the wire', { timeout: 15_000 }, async () => {
    const raw = await rawExchange(nginx!.port, 'HEAD /head HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    const text = raw.toString('latin1');
    const end = text.indexOf('\r\n\r\n');
    assert.match(text, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(text, /\r\nContent-Type: application\/json; charset=utf-8\r\n/);
    assert.ok(end > 0, 'a complete header block');
    assert.equal(
      raw.length,
      end + 4,
      `nothing after the header block: ${JSON.stringify(text.slice(end + 4, end + 100))}`,
    );
  });

  it("?status=404 passes through with the app's body", { timeout: 15_000 }, async () => {
    const r = await fetchRaw(nginx!.port, '/missing?status=404');
    assert.equal(r.status, 404);
    assert.equal((JSON.parse(r.body.toString()) as Echo).path, '/missing');
  });

  it('?bytes=3000000 downloads exactly the pattern (byte i = i % 256)', { timeout: 30_000 }, async () => {
    const r = await fetchRaw(nginx!.port, '/download?bytes=3000000');
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'application/octet-stream');
    assert.equal(r.body.length, 3_000_000);
    const bad = r.body.findIndex((b, i) => b !== i % 256);
    assert.equal(bad, -1, `first wrong byte at ${bad}`);
  });

  it('nginx logged no upstream errors', { timeout: 5_000 }, () => {
    assert.deepEqual(upstreamErrors(nginx!.errorLog()), []);
  });
});

describe('nginx reuses FastCGI connections to an app in this process', { skip, timeout: 180_000 }, () => {
  let dir: string | undefined;
  let server: FcgiServer | undefined;
  let nginx: Nginx | undefined;
  let accepted = 0;
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });

  before(
    async () => {
      dir = await mkdtemp(join(tmpdir(), 'fcgi-nginx-app-'));
      server = createFcgiServer(async (req, res) => {
        if (req.path === '/log') {
          res.err(String(req.query.msg));
          res.end('logged\n');
          return;
        }
        if (req.path === '/set-cookies') {
          res.appendHeader('Set-Cookie', 'a=1; Path=/');
          res.appendHeader('Set-Cookie', 'b=2; HttpOnly');
          res.end('two cookies\n');
          return;
        }
        const body = await req.content();
        res.setHeader('Content-Type', 'text/plain');
        res.end(`${req.method} ${req.url} ${body.length} ${sha256(body).slice(0, 16)}`);
      });
      server.net.on('connection', () => accepted++);
      const socket = join(dir, 'app.sock');
      await server.listenOn({ kind: 'unix', path: socket });
      nginx = await startNginx(socket);
    },
    { timeout: 30_000 },
  );
  after(
    async () => {
      agent.destroy();
      await nginx?.stop();
      await Promise.race([server?.close(), new Promise((r) => setTimeout(r, 5000))]);
      if (dir) await rm(dir, { recursive: true, force: true });
    },
    { timeout: 20_000 },
  );

  it('1000 sequential requests over one HTTP connection, all right, over <= 8 FastCGI connections', {
    timeout: 120_000,
  }, async () => {
    const sockets = new Set<object>();
    for (let i = 0; i < 1000; i++) {
      // Every tenth a POST, so request bodies (STDIN) take part in connection reuse too.
      const body = i % 10 === 0 ? randomBytes(1000 + i) : undefined;
      const r = await fetchRaw(nginx!.port, `/n/${i}?i=${i}`, { agent, method: body ? 'POST' : 'GET', body });
      sockets.add(r.socket);
      const want = `${body ? 'POST' : 'GET'} /n/${i}?i=${i} ${body?.length ?? 0} ${sha256(body ?? Buffer.alloc(0)).slice(0, 16)}`;
      assert.equal(r.status, 200, `request ${i}: ${r.body.toString()}`);
      assert.equal(r.body.toString(), want, `request ${i}`);
    }
    assert.equal(sockets.size, 1, 'one HTTP connection carried all 1000 requests');
    assert.ok(accepted >= 1 && accepted <= 8, `nginx opened ${accepted} FastCGI connections for 1000 requests`);
    assert.ok(server!.connections <= 8, `${server!.connections} FastCGI connections open`);
  });

  it("FCGI_STDERR lands in nginx's error log and the connection is still reused", { timeout: 20_000 }, async () => {
    const before = accepted;
    const msg = `note-from-app-${randomBytes(6).toString('hex')}`;
    const r = await fetchRaw(nginx!.port, `/log?msg=${msg}`, { agent });
    assert.equal(r.body.toString(), 'logged\n');
    const deadline = Date.now() + 5000;
    while (!nginx!.errorLog().includes(msg) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50));
    assert.match(
      nginx!.errorLog(),
      new RegExp(
        `FastCGI sent in stderr: "\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z \\[req \\d+-\\d+\\] GET /log\\?msg=${msg}: ${msg}`,
      ),
    );
    for (let i = 0; i < 20; i++) assert.equal((await fetchRaw(nginx!.port, `/after/${i}`, { agent })).status, 200);
    assert.equal(accepted, before, 'a request that wrote to stderr must not cost nginx its kept-alive connection');
  });

  it('two Set-Cookie headers reach the client as two lines', { timeout: 15_000 }, async () => {
    const r = await fetchRaw(nginx!.port, '/set-cookies', { agent });
    assert.equal(r.status, 200);
    assert.deepEqual(r.headers['set-cookie'], ['a=1; Path=/', 'b=2; HttpOnly']);
  });

  it('nginx logged no upstream errors', { timeout: 5_000 }, () => {
    assert.deepEqual(upstreamErrors(nginx!.errorLog()), []);
  });
});
