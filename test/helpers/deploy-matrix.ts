// The checks every deployment test runs through its web server against the matrix app
// (test/fixtures/matrix-app.ts), once per mount point (the app at /, under /sub/, ...). A front
// that cannot do something says why, and the test pins what it does instead.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Agent, request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { it } from 'node:test';
import { UTF8_TEXT } from '../fixtures/matrix-app.js';
import { fetchRaw, type HttpOptions, type HttpResult } from './nginx.js';

export interface Mount {
  /** The URL prefix in front of the app's own paths: '', '/sub', '/sub/app.fcgi'. */
  base: string;
  /** Says how the front maps it (shown in the test names). */
  how: string;
  /** Concurrent requests in the burst check (default 50; the test name says the number). */
  burst?: number;
}

export interface FrontUnderTest {
  port(): number;
  /** The server's error log (where FCGI_STDERR / the app's stderr end up), as it is now. */
  log(): string;
}

export interface MatrixOptions {
  /** Reason, when this front does not bring FCGI_STDERR to its log (then that is what is checked). */
  stderrNotLogged?: string;
}

/** The JSON the matrix app's /echo answers: the request as the app saw it. */
export interface Echo {
  method: string;
  url: string;
  path: string;
  base: string;
  query: Record<string, string | string[]>;
  headers: Record<string, string>;
  environ: Record<string, string>;
  bodyLength: number;
  bodySha256: string;
  form?: Record<string, string | string[]>;
  json?: unknown;
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
// One connection per request: a kept-alive socket the server closes meanwhile would make flaky
// ECONNRESETs that say nothing about the app.
const agent = new Agent({ keepAlive: false, maxSockets: Infinity });
const DOWNLOAD = 50 * 1024 * 1024;

/** The production default: a 5xx shows visitors neither the error's message nor its stack. */
function assertNoDetails(body: string): void {
  assert.doesNotMatch(body, /matrix-app failure/, `the message reached the visitor: ${body.slice(0, 500)}`);
  assert.doesNotMatch(body, /\n\s+at |matrix-app\.ts|\.fcgi:\d/, `a stack reached the visitor: ${body.slice(0, 500)}`);
}

/** SHA-256 of the download pattern (byte i = i % 256), `n` bytes. */
function patternSha256(n: number): string {
  const block = Buffer.alloc(64 * 1024).map((_, i) => i % 256);
  const h = createHash('sha256');
  for (let left = n; left > 0; left -= block.length) h.update(left >= block.length ? block : block.subarray(0, left));
  return h.digest('hex');
}

/** A GET whose body is hashed as it streams (50 MB need not sit in memory). */
function fetchDigest(
  port: number,
  path: string,
): Promise<{ status: number; headers: Record<string, unknown>; length: number; sha256: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, agent, timeout: 30_000 }, (res) => {
      const h = createHash('sha256');
      let length = 0;
      res.on('data', (c: Buffer) => {
        h.update(c);
        length += c.length;
      });
      res.on('error', reject);
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, length, sha256: h.digest('hex') }),
      );
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

/** The raw bytes of one exchange on a fresh connection, until the server closes it. */
function rawExchange(port: number, request: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    s.setTimeout(15_000, () => s.destroy(new Error('raw exchange timed out')));
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('end', () => resolve(Buffer.concat(chunks)));
    s.on('error', reject);
    s.write(request, 'latin1');
  });
}

/** What the matrix app's /echo answered to a GET of `path` through the front on `port`. */
export async function echoAt(port: number, path: string): Promise<Echo> {
  return JSON.parse((await fetchRaw(port, path)).body.toString()) as Echo;
}

/** Registers the matrix checks for every mount (call inside a describe). */
export function matrixTests(front: FrontUnderTest, mounts: readonly Mount[], options: MatrixOptions = {}): void {
  const fetch = (path: string, o: HttpOptions = {}): Promise<HttpResult> =>
    fetchRaw(front.port(), path, { agent, ...o });
  const echo = async (path: string, o: HttpOptions = {}): Promise<Echo> => {
    const r = await fetch(path, o);
    assert.equal(r.status, 200, `${path}: ${r.body.toString().slice(0, 500)}`);
    assert.equal(r.headers['content-type'], 'application/json; charset=utf-8');
    return JSON.parse(r.body.toString('utf8')) as Echo;
  };

  for (const { base, how, burst = 50 } of mounts) {
    const at = `${base || '/'} (${how})`;

    it(`${at}: GET with a query reaches /echo with the app's own path`, { timeout: 15_000 }, async () => {
      const e = await echo(`${base}/echo?a=1&a=2&b=%C3%A9`, { headers: { 'X-Test': 'yes' } });
      assert.equal(e.method, 'GET');
      assert.equal(e.path, '/echo');
      assert.equal(e.base, base);
      assert.equal(e.url, `${base}/echo?a=1&a=2&b=%C3%A9`);
      assert.deepEqual({ ...e.query }, { a: ['1', '2'], b: 'é' });
      assert.equal(e.headers['x-test'], 'yes');
      assert.equal(e.environ.REQUEST_URI, `${base}/echo?a=1&a=2&b=%C3%A9`);
      assert.equal(e.environ.QUERY_STRING, 'a=1&a=2&b=%C3%A9');
      assert.equal(e.environ.REQUEST_METHOD, 'GET');
      assert.equal(e.bodyLength, 0);
    });

    it(`${at}: POST of a form body`, { timeout: 15_000 }, async () => {
      const body = Buffer.from('name=Zo%C3%AB&tag=a&tag=b+c');
      const e = await echo(`${base}/echo`, {
        method: 'POST',
        body,
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      });
      assert.equal(e.method, 'POST');
      assert.deepEqual(e.form, { name: 'Zoë', tag: ['a', 'b c'] });
      assert.equal(e.bodyLength, body.length);
      assert.equal(e.headers['content-type'], 'application/x-www-form-urlencoded');
      assert.equal(e.environ.CONTENT_LENGTH, String(body.length));
    });

    it(`${at}: POST of a JSON body`, { timeout: 15_000 }, async () => {
      const doc = { list: [1, 2, 3], text: 'Zoë ☃', nested: { ok: true } };
      const e = await echo(`${base}/echo`, {
        method: 'POST',
        body: Buffer.from(JSON.stringify(doc)),
        headers: { 'Content-Type': 'application/json' },
      });
      assert.deepEqual(e.json, doc);
    });

    it(`${at}: a 5 MB upload arrives whole (length and SHA-256)`, { timeout: 30_000 }, async () => {
      const body = randomBytes(5 * 1024 * 1024);
      const e = await echo(`${base}/echo`, {
        method: 'POST',
        body,
        headers: { 'Content-Type': 'application/octet-stream' },
      });
      assert.equal(e.bodyLength, body.length);
      assert.equal(e.bodySha256, sha256(body));
      assert.equal(e.environ.CONTENT_LENGTH, String(body.length));
    });

    it(`${at}: a 50 MB download arrives whole (length and SHA-256)`, { timeout: 40_000 }, async () => {
      const r = await fetchDigest(front.port(), `${base}/bytes?n=${DOWNLOAD}`);
      assert.equal(r.status, 200);
      assert.equal(r.headers['content-type'], 'application/octet-stream');
      // Some fronts re-frame the body (mod_cgi sends it chunked); when a length is given it is right.
      if (r.headers['content-length'] !== undefined) assert.equal(r.headers['content-length'], String(DOWNLOAD));
      assert.equal(r.length, DOWNLOAD);
      assert.equal(r.sha256, patternSha256(DOWNLOAD));
    });

    it(`${at}: two Set-Cookie headers reach the client, the Cookie header reaches the app`, {
      timeout: 15_000,
    }, async () => {
      const r = await fetch(`${base}/cookies`, { headers: { Cookie: 'x=1; y=two' } });
      assert.equal(r.status, 200);
      assert.deepEqual(r.headers['set-cookie'], [`a=1; Path=${base || '/'}`, 'b=two; Path=/; HttpOnly']);
      assert.deepEqual(JSON.parse(r.body.toString()), { cookie: 'x=1; y=two' });
    });

    it(`${at}: redirects keep their Location (relative and absolute)`, { timeout: 15_000 }, async () => {
      const rel = await fetch(`${base}/redirect/relative`);
      assert.equal(rel.status, 302);
      assert.equal(rel.headers.location, `${base}/echo?from=redirect`);
      const abs = await fetch(`${base}/redirect/absolute`);
      assert.equal(abs.status, 302);
      assert.equal(abs.headers.location, `http://127.0.0.1:${front.port()}${base}/echo`);
      // The relative Location works when followed.
      assert.equal((await echo(rel.headers.location!)).query.from, 'redirect');
    });

    it(`${at}: UTF-8 in a request header, a response header and the body`, { timeout: 15_000 }, async () => {
      // node:http sends header strings as latin1: this puts the raw UTF-8 bytes on the wire.
      const e = await echo(`${base}/echo`, { headers: { 'X-Name': Buffer.from('Zoë ☃', 'utf8').toString('latin1') } });
      assert.equal(e.headers['x-name'], 'Zoë ☃');
      const r = await fetch(`${base}/utf8`);
      assert.equal(r.status, 200);
      assert.equal(Buffer.from(String(r.headers['x-utf8']), 'latin1').toString('utf8'), UTF8_TEXT);
      assert.equal(r.body.toString('utf8'), `${UTF8_TEXT}\n`);
    });

    it(`${at}: HEAD answers the header block and no body`, { timeout: 15_000 }, async () => {
      const raw = await rawExchange(
        front.port(),
        `HEAD ${base}/echo HTTP/1.1\r\nHost: 127.0.0.1:${front.port()}\r\nConnection: close\r\n\r\n`,
      );
      const text = raw.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      assert.match(text, /^HTTP\/1\.1 200 OK\r\n/);
      assert.match(text, /\r\ncontent-type: application\/json; charset=utf-8\r\n/i);
      assert.ok(end > 0, 'a complete header block');
      assert.equal(
        raw.length,
        end + 4,
        `nothing after the header block: ${JSON.stringify(text.slice(end + 4, end + 100))}`,
      );
    });

    it(`${at}: an unknown path is the app's 404`, { timeout: 15_000 }, async () => {
      const r = await fetch(`${base}/no/such/page`);
      assert.equal(r.status, 404);
      assert.match(r.body.toString(), new RegExp(`Cannot GET ${base}/no/such/page`));
    });

    if (options.stderrNotLogged) {
      // A front that drops FCGI_STDERR: the error still becomes a 500 whose body keeps the
      // message from the client; what the front does with stderr is pinned, so a change shows.
      it(`${at}: a handler error is a 500 (this front does not log FCGI_STDERR: ${options.stderrNotLogged})`, {
        timeout: 15_000,
      }, async () => {
        const id = randomBytes(6).toString('hex');
        const r = await fetch(`${base}/error?id=${id}`);
        assert.equal(r.status, 500);
        assertNoDetails(r.body.toString());
        await new Promise((res) => setTimeout(res, 500));
        assert.equal(
          front.log().includes(`matrix-app failure ${id}`),
          false,
          'the front logs FCGI_STDERR now: make this the normal check',
        );
      });
    } else {
      it(`${at}: a handler error is a 500 and its message reaches the server's error log`, {
        timeout: 15_000,
      }, async () => {
        const id = randomBytes(6).toString('hex');
        const r = await fetch(`${base}/error?id=${id}`);
        assert.equal(r.status, 500);
        assertNoDetails(r.body.toString());
        const want = `matrix-app failure ${id}`;
        const deadline = Date.now() + 5000;
        while (!front.log().includes(want) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50));
        assert.ok(front.log().includes(want), `"${want}" not in the server's log:\n${front.log().slice(-2000)}`);
      });
    }

    it(`${at}: a burst of ${burst} concurrent requests all succeed`, { timeout: 40_000 }, async () => {
      const results = await Promise.allSettled(
        Array.from({ length: burst }, async (_, i) => {
          const e = await echo(`${base}/echo?i=${i}`);
          assert.equal(e.query.i, String(i));
        }),
      );
      const failed = results.flatMap((r, i) =>
        r.status === 'rejected' ? [`#${i}: ${(r.reason as Error).message}`] : [],
      );
      assert.deepEqual(failed, []);
    });
  }
}
