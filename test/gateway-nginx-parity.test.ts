// The same HTTP requests, byte for byte, through the built-in gateway and through a real nginx
// (Debian's package and stock fastcgi_params) in front of one examples/echo.ts: the environ the app
// sees must be the same but for an explicit, documented allow-list (docs/gateway.md).
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createGateway, type Gateway } from '@fcgi/core';
import { skipUnless, startApp, type AppProcess } from './helpers/app-process.js';
import { NGINX, startNginx, type Nginx } from './helpers/nginx.js';

const skip = skipUnless(NGINX, 'nginx');

/** Params each front sets its own way on purpose; any other difference fails the test. */
const ALLOWED: Record<string, string> = {
  SERVER_SOFTWARE: 'names the front: nginx/1.x vs fcgi-gateway',
  DOCUMENT_ROOT: "nginx's root vs the gateway's documentRoot option (default: the working directory)",
  REMOTE_PORT: 'each front connects from its own port',
  SERVER_PORT: 'each front listens on its own port',
  HTTP_HOST: "Debian's nginx sends $host (no port); the gateway the Host header as received (checked below)",
};

// SERVER_NAME: nginx sends its configured server_name, the gateway the host the client named (as
// Apache's UseCanonicalName Off). The requests with a Host send `localhost`, the helper's server_name.

interface Echo {
  environ: Record<string, string>;
  bodyLength: number;
  bodySha256: string;
}

interface Reply {
  status: number;
  head: string;
  body: Buffer;
}

/** Writes `request` (with {HOST} replaced) on a fresh connection and reads the reply until close. */
function exchange(port: number, request: string, body?: Buffer): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    s.setTimeout(10_000, () => s.destroy(new Error('exchange timed out')));
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('error', reject);
    s.on('end', () => {
      const raw = Buffer.concat(chunks);
      const end = raw.indexOf('\r\n\r\n');
      if (end < 0) return reject(new Error(`no header block: ${raw.toString('latin1').slice(0, 200)}`));
      const head = raw.subarray(0, end).toString('latin1');
      let rest: Buffer = raw.subarray(end + 4);
      if (/\r\ntransfer-encoding: chunked/i.test(head)) rest = dechunk(rest);
      resolve({ status: Number(head.slice(9, 12)), head, body: rest });
    });
    s.write(Buffer.from(request.replaceAll('{HOST}', `localhost:${port}`), 'latin1'));
    if (body) s.write(body);
  });
}

function dechunk(buf: Buffer): Buffer {
  const out: Buffer[] = [];
  let at = 0;
  for (;;) {
    const nl = buf.indexOf('\r\n', at);
    const size = parseInt(buf.toString('latin1', at, nl), 16);
    if (!size) return Buffer.concat(out);
    out.push(buf.subarray(nl + 2, nl + 2 + size));
    at = nl + 2 + size + 2;
  }
}

const utf8AsLatin1 = (s: string) => Buffer.from(s, 'utf8').toString('latin1');
const FORM = 'name=Zo%C3%AB&msg=hello+world';

/** A raw request (latin1 string, so UTF-8 header bytes go out as they are) and its body. */
interface Case {
  request: string;
  body?: Buffer;
  /** Params both fronts must send with these values (so the comparison is not of two wrongs). */
  expect?: Record<string, string | undefined>;
  /** Params allowed to differ for this request, with the gateway's expected value. */
  allow?: Record<string, string | undefined>;
}

const REQUESTS: Record<string, Case> = {
  'GET with a query': {
    request:
      'GET /some/path?a=1&a=2&b=%C3%A9&c= HTTP/1.1\r\nHost: {HOST}\r\nAccept: */*\r\nX-Test: yes\r\nConnection: close\r\n\r\n',
    expect: { QUERY_STRING: 'a=1&a=2&b=%C3%A9&c=', REQUEST_METHOD: 'GET', HTTP_X_TEST: 'yes', CONTENT_LENGTH: '' },
  },
  'POST form': {
    request: `POST /form?x=1 HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${FORM.length}\r\nConnection: close\r\n\r\n`,
    body: Buffer.from(FORM),
    expect: {
      CONTENT_TYPE: 'application/x-www-form-urlencoded',
      CONTENT_LENGTH: String(FORM.length),
      REQUEST_METHOD: 'POST',
    },
  },
  'a UTF-8 header': {
    request: `GET /utf8 HTTP/1.1\r\nHost: {HOST}\r\nX-Name: ${utf8AsLatin1('Zoë ☃')}\r\nConnection: close\r\n\r\n`,
    expect: { HTTP_X_NAME: 'Zoë ☃' },
  },
  'two Cookie lines and a repeated header': {
    request:
      'GET /cookies HTTP/1.1\r\nHost: {HOST}\r\nCookie: a=1\r\nCookie: b=two\r\nX-Rep: 1\r\nX-Rep: 2\r\nConnection: close\r\n\r\n',
    expect: { HTTP_COOKIE: 'a=1; b=two', HTTP_X_REP: '1, 2' },
  },
  'a path to normalize, percent-encoded': {
    request: 'GET /a//b/./c/../d%20e%2Fx?q=%2F HTTP/1.1\r\nHost: {HOST}\r\nConnection: close\r\n\r\n',
    expect: { SCRIPT_NAME: '/a/b/d e/x', DOCUMENT_URI: '/a/b/d e/x', REQUEST_URI: '/a//b/./c/../d%20e%2Fx?q=%2F' },
  },
  'a header name with an underscore, Basic credentials': {
    request:
      'GET /auth HTTP/1.1\r\nHost: {HOST}\r\nX_Forwarded_User: admin\r\nAuthorization: Basic dXNlcjpwYXNz\r\nConnection: close\r\n\r\n',
    expect: { REMOTE_USER: 'user', HTTP_X_FORWARDED_USER: undefined, HTTP_AUTHORIZATION: 'Basic dXNlcjpwYXNz' },
  },
  'chunked POST': {
    request:
      'POST /chunked HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n',
    expect: { CONTENT_LENGTH: '11', HTTP_TRANSFER_ENCODING: 'chunked' },
  },
  'absolute-form target': {
    request: 'GET http://example.com:8080/abs/%41?x=1 HTTP/1.1\r\nHost: {HOST}\r\nConnection: close\r\n\r\n',
    allow: { SERVER_NAME: 'example.com' },
    expect: { REQUEST_URI: '/abs/%41?x=1', SCRIPT_NAME: '/abs/A', QUERY_STRING: 'x=1' },
  },
  'odd paths': {
    request: 'GET /x/%2e%2e/y/%3Fz/.. HTTP/1.1\r\nHost: {HOST}\r\nConnection: close\r\n\r\n',
    expect: { SCRIPT_NAME: '/y/', QUERY_STRING: '' },
  },
  'HTTP/1.0 without Host': {
    request: 'GET /old HTTP/1.0\r\nUser-Agent: test/1\r\n\r\n',
    // nginx: $host and $server_name fall back to its server_name; the gateway sends no HTTP_HOST
    // and the address it listens on.
    allow: { SERVER_NAME: '127.0.0.1', HTTP_HOST: undefined },
    expect: { SERVER_PROTOCOL: 'HTTP/1.0', HTTP_USER_AGENT: 'test/1' },
  },
};

describe('gateway and nginx in front of examples/echo.ts give the same environ', { skip, timeout: 90_000 }, () => {
  let app: AppProcess | undefined;
  let nginx: Nginx | undefined;
  let gw: Gateway | undefined;
  let gwPort = 0;

  before(
    async () => {
      app = await startApp('examples/echo.ts');
      nginx = await startNginx(app.socket);
      gw = createGateway({ to: app.socket });
      await new Promise<void>((resolve) => gw!.server.listen(0, '127.0.0.1', resolve));
      gwPort = (gw.server.address() as { port: number }).port;
    },
    { timeout: 40_000 },
  );
  after(
    async () => {
      await gw?.close();
      await nginx?.stop();
      await app?.stop();
    },
    { timeout: 20_000 },
  );

  for (const [name, { request, body, allow = {}, expect = {} }] of Object.entries(REQUESTS)) {
    it(name, { timeout: 15_000 }, async () => {
      const viaNginx = await exchange(nginx!.port, request, body);
      const viaGateway = await exchange(gwPort, request, body);
      assert.equal(viaNginx.status, 200, viaNginx.body.toString());
      assert.equal(viaGateway.status, 200, viaGateway.body.toString());
      const echoA = JSON.parse(viaNginx.body.toString()) as Echo;
      const echoB = JSON.parse(viaGateway.body.toString()) as Echo;
      const [a, b] = [echoA.environ, echoB.environ];
      for (const [k, want] of Object.entries(expect)) {
        assert.equal(a[k], want, `nginx's ${k}`);
        assert.equal(b[k], want, `the gateway's ${k}`);
      }
      // The body arrived whole through both (a chunked one too).
      assert.deepEqual([echoB.bodyLength, echoB.bodySha256], [echoA.bodyLength, echoA.bodySha256]);
      assert.equal(echoA.bodyLength, body?.length ?? (name === 'chunked POST' ? 11 : 0));
      const differ = [...new Set([...Object.keys(a), ...Object.keys(b)])]
        .filter((k) => !(k in ALLOWED) && !(k in allow) && a[k] !== b[k])
        .map((k) => `${k}: nginx ${JSON.stringify(a[k])} gateway ${JSON.stringify(b[k])}`);
      assert.deepEqual(differ, [], 'params that differ and are not in the allow-list');
      for (const [k, want] of Object.entries(allow)) assert.equal(b[k], want, `the gateway's ${k}`);
      for (const k of Object.keys(ALLOWED))
        if (!(k in allow)) assert.equal(k in a, k in b, `${k} sent by both or neither`);
      // HTTP_HOST differs by the port only.
      if (!('HTTP_HOST' in allow)) assert.equal(b.HTTP_HOST?.replace(/:\d+$/, ''), a.HTTP_HOST);
      assert.equal(a.SERVER_PORT, String(nginx!.port));
      assert.equal(b.SERVER_PORT, String(gwPort));
      assert.match(a.SERVER_SOFTWARE!, /^nginx\//);
      assert.equal(b.SERVER_SOFTWARE, 'fcgi-gateway');
    });
  }

  it('HEAD: the same status and headers as a GET, and no body, from both', { timeout: 15_000 }, async () => {
    const head = 'HEAD /head?h=1 HTTP/1.1\r\nHost: {HOST}\r\nConnection: close\r\n\r\n';
    const pick = (r: Reply) => ({
      status: r.status,
      type: /\r\ncontent-type: ([^\r]*)/i.exec(r.head)?.[1],
      length: Number(/\r\ncontent-length: ([^\r]*)/i.exec(r.head)?.[1]),
      body: r.body.length,
    });
    for (const port of [nginx!.port, gwPort]) {
      const h = pick(await exchange(port, head));
      // The app wrote its JSON for HEAD too (naming the method twice: one byte longer each time than
      // for GET); the front dropped the bytes.
      const get = await exchange(port, head.replace('HEAD', 'GET'));
      assert.deepEqual(
        h,
        { status: 200, type: 'application/json; charset=utf-8', length: get.body.length + 2, body: 0 },
        `port ${port === gwPort ? 'gateway' : 'nginx'}`,
      );
    }
  });

  it('a path above the root is refused with 400 by both, before the app', { timeout: 15_000 }, async () => {
    for (const target of ['/../etc/passwd', '/a/%2e%2e/%2E%2E/x', '/nul%00byte']) {
      const request = `GET ${target} HTTP/1.1\r\nHost: {HOST}\r\nConnection: close\r\n\r\n`;
      assert.equal((await exchange(nginx!.port, request)).status, 400, `nginx ${target}`);
      assert.equal((await exchange(gwPort, request)).status, 400, `gateway ${target}`);
    }
  });
});
