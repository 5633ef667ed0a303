// The gateway turns an app's CGI response into HTTP as nginx does: Status: gives the status line,
// Location without Status is a 302, several Set-Cookie stay apart, hop-by-hop headers and
// X-Accel-* stay behind, HEAD has no body, and an app that is not there gives 502.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createFcgiServer, createGateway, type FcgiServer, type Gateway } from '@fcgi/core';
import {
  RecordType,
  RecordParser,
  decodeBeginRequest,
  decodeNameValues,
  encodeEndRequest,
  encodeStream,
} from '@fcgi/core/protocol';

/** Raw CGI output by REQUEST_URI: what no FcgiResponse would write (it drops hop-by-hop itself). */
const CANNED: { [uri: string]: string } = {
  '/location': 'Location: /elsewhere\r\nContent-Type: text/plain\r\n\r\nmoved',
  '/hop':
    'Connection: close\r\nKeep-Alive: timeout=1\r\nTransfer-Encoding: chunked\r\nUpgrade: h2c\r\n' +
    'Trailer: X-T\r\nX-Accel-Redirect: /internal/file\r\nX-Accel-Buffering: no\r\nX-Kept: yes\r\n' +
    'Content-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello',
  '/lf': 'Status: 418 Short And Stout\nContent-Type: text/plain\nSet-Cookie: a=1\nSet-Cookie: b=2; HttpOnly\n\nteapot',
};

/** A FastCGI responder written against the protocol layer only: answers CANNED bytes verbatim. */
function rawApp(socket: Socket): void {
  const params: Buffer[] = [];
  let keepConn = false;
  const parser = new RecordParser({
    record(type, id, content) {
      if (type === RecordType.BEGIN_REQUEST) {
        keepConn = decodeBeginRequest(content).keepConn;
        params.length = 0;
      } else if (type === RecordType.PARAMS && content.length) params.push(Buffer.from(content));
      else if (type === RecordType.STDIN && content.length === 0) {
        const env = decodeNameValues(Buffer.concat(params));
        const out = CANNED[env.REQUEST_URI!] ?? 'Status: 404 Not Found\r\n\r\n';
        socket.write(
          Buffer.concat([encodeStream(RecordType.STDOUT, id, Buffer.from(out, 'latin1')), encodeEndRequest(id, 0, 0)]),
        );
        if (!keepConn) socket.end();
      }
    },
  });
  socket.on('data', (chunk: Buffer) => parser.push(chunk));
  socket.on('error', () => {});
}

interface Reply {
  status: number;
  reason: string;
  head: string;
  body: string;
}

/** Sends raw requests on one connection; resolves with the raw bytes once `done(text)` says so. */
function converse(port: number, requests: string[], done: (text: string) => boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    let text = '';
    s.setTimeout(10_000, () => s.destroy(new Error(`timed out; got ${JSON.stringify(text)}`)));
    s.on('data', (c: Buffer) => {
      text += c.toString('latin1');
      if (done(text)) {
        s.destroy();
        resolve(text);
      }
    });
    s.on('error', reject);
    s.on('end', () => resolve(text));
    s.write(Buffer.from(requests.join(''), 'latin1'));
  });
}

/** Splits `count` responses (Content-Length or chunked bodies) out of `text`; null while incomplete. */
function responses(text: string, count: number, head = false): Reply[] | null {
  const out: Reply[] = [];
  let at = 0;
  while (out.length < count) {
    const end = text.indexOf('\r\n\r\n', at);
    if (end < 0) return null;
    const block = text.slice(at, end);
    let body = '';
    at = end + 4;
    if (!head && /\r\ntransfer-encoding: chunked/i.test(block)) {
      for (;;) {
        const nl = text.indexOf('\r\n', at);
        if (nl < 0) return null;
        const size = parseInt(text.slice(at, nl), 16);
        if (text.length < nl + 2 + size + 2) return null;
        body += text.slice(nl + 2, nl + 2 + size);
        at = nl + 2 + size + 2;
        if (size === 0) break;
      }
    } else if (!head) {
      const length = Number(/\r\ncontent-length: (\d+)/i.exec(block)?.[1] ?? 0);
      if (text.length < at + length) return null;
      body = text.slice(at, at + length);
      at += length;
    }
    const m = /^HTTP\/1\.1 (\d{3}) ?([^\r]*)/.exec(block)!;
    out.push({ status: Number(m[1]), reason: m[2]!, head: block, body });
  }
  return out;
}

const GET = (path: string, extra = '') => `GET ${path} HTTP/1.1\r\nHost: localhost\r\n${extra}\r\n`;

async function listen(gw: Gateway): Promise<number> {
  await new Promise<void>((resolve) => gw.server.listen(0, '127.0.0.1', resolve));
  return (gw.server.address() as { port: number }).port;
}

describe('gateway response mapping', { timeout: 60_000 }, () => {
  let dir = '';
  let raw: Server | undefined;
  let app: FcgiServer | undefined;
  let toRaw: Gateway | undefined;
  let toApp: Gateway | undefined;
  let rawPort = 0;
  let appPort = 0;
  let appCalls = 0;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fcgi-gw-resp-'));
    raw = createServer(rawApp);
    await new Promise<void>((resolve) => raw!.listen(join(dir, 'raw.sock'), resolve));
    app = createFcgiServer(async (req, res) => {
      if (req.path === '/len') {
        appCalls++;
        const hash = createHash('sha256');
        let length = 0;
        for await (const chunk of req as AsyncIterable<Buffer>) {
          hash.update(chunk);
          length += chunk.length;
        }
        return void res.end(`${length} ${req.environ.CONTENT_LENGTH} ${hash.digest('hex')}`);
      }
      if (req.path === '/status') {
        res.statusCode = 299;
        res.statusMessage = 'Custom Thing';
      }
      if (req.path === '/cookies') res.setHeader('Set-Cookie', ['one=1; Path=/', 'two=2; HttpOnly', 'three=3']);
      res.setHeader('Content-Type', 'text/plain');
      res.end(`${req.method} ${req.url}\n`);
    });
    await app.listenOn({ kind: 'unix', path: join(dir, 'app.sock') });
    toRaw = createGateway({ to: join(dir, 'raw.sock') });
    toApp = createGateway({ to: join(dir, 'app.sock') });
    rawPort = await listen(toRaw);
    appPort = await listen(toApp);
  });
  after(async () => {
    await toRaw?.close();
    await toApp?.close();
    await app?.close();
    await new Promise((resolve) => (raw ? raw.close(resolve) : resolve(undefined)));
    await rm(dir, { recursive: true, force: true });
  });

  const one = async (port: number, request: string, head = false): Promise<Reply> =>
    responses(await converse(port, [request], (t) => responses(t, 1, head) !== null), 1, head)![0]!;

  it('Status: becomes the status line, reason phrase included', { timeout: 10_000 }, async () => {
    const r = await one(appPort, GET('/status'));
    assert.equal(r.status, 299);
    assert.equal(r.reason, 'Custom Thing');
    assert.equal(r.body, 'GET /status\n');
    assert.doesNotMatch(r.head, /\r\nstatus:/i, 'no Status header towards the browser');
  });

  it('Location without Status is a 302 (bare LF header lines read too)', { timeout: 10_000 }, async () => {
    const r = await one(rawPort, GET('/location'));
    assert.equal(r.status, 302);
    assert.match(r.head, /\r\nLocation: \/elsewhere\r\n/);
    assert.equal(r.body, 'moved');
    const lf = await one(rawPort, GET('/lf'));
    assert.equal(lf.status, 418);
    assert.equal(lf.reason, 'Short And Stout');
    assert.equal(lf.body, 'teapot');
  });

  it('several Set-Cookie stay separate lines', { timeout: 10_000 }, async () => {
    const r = await one(appPort, GET('/cookies'));
    assert.deepEqual(
      r.head.split('\r\n').filter((l) => /^set-cookie:/i.test(l)),
      ['Set-Cookie: one=1; Path=/', 'Set-Cookie: two=2; HttpOnly', 'Set-Cookie: three=3'],
    );
    const lf = await one(rawPort, GET('/lf'));
    assert.deepEqual(
      lf.head.split('\r\n').filter((l) => /^set-cookie:/i.test(l)),
      ['Set-Cookie: a=1', 'Set-Cookie: b=2; HttpOnly'],
    );
  });

  it("the app's hop-by-hop and X-Accel-* headers stay behind; the connection lives on", {
    timeout: 10_000,
  }, async () => {
    // Two requests on one connection: an app's "Connection: close" passed on would end it after one.
    const text = await converse(rawPort, [GET('/hop'), GET('/hop')], (t) => responses(t, 2) !== null);
    const [a, b] = responses(text, 2) ?? assert.fail(`two responses expected: ${JSON.stringify(text)}`);
    for (const r of [a!, b!]) {
      assert.equal(r.status, 200);
      assert.equal(r.body, 'hello');
      assert.match(r.head, /\r\nX-Kept: yes\r\n/);
      assert.match(r.head, /\r\nContent-Length: 5\r\n/);
      for (const name of ['Transfer-Encoding', 'Upgrade', 'Trailer', 'X-Accel-Redirect', 'X-Accel-Buffering']) {
        assert.doesNotMatch(r.head, new RegExp(`\\r\\n${name}:`, 'i'), name);
      }
      assert.doesNotMatch(r.head, /\r\nConnection: close/i);
      assert.doesNotMatch(r.head, /\r\nKeep-Alive: timeout=1/i);
    }
  });

  it('HEAD: headers only, with the Content-Length a GET gets', { timeout: 10_000 }, async () => {
    const text = await converse(
      appPort,
      ['HEAD /h HTTP/1.1\r\nHost: localhost\r\n\r\n', GET('/h')],
      (t) => (t.match(/HTTP\/1\.1 /g)?.length ?? 0) === 2 && t.endsWith('GET /h\n'),
    );
    const head = responses(text, 1, true)![0]!;
    assert.equal(head.status, 200);
    assert.match(
      head.head,
      /\r\nContent-Length: 8\r\n/,
      'the length of "HEAD /h\\n" the app wrote and the gateway dropped',
    );
    // Right after HEAD's empty line comes the next response: not one body byte in between.
    assert.match(text.slice(head.head.length + 4), /^HTTP\/1\.1 200 OK\r\n/);
  });

  it('a chunked upload reaches the app whole with its CONTENT_LENGTH; the temp file is gone after', {
    timeout: 20_000,
  }, async () => {
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = join(dir, 'spool');
    await mkdir(process.env.TMPDIR);
    try {
      const body = randomBytes(3 * 1024 * 1024);
      const chunks: string[] = [];
      for (let at = 0; at < body.length; at += 100_000) {
        const part = body.subarray(at, at + 100_000);
        chunks.push(`${part.length.toString(16)}\r\n${part.toString('latin1')}\r\n`);
      }
      const request =
        'POST /len HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n' + chunks.join('') + '0\r\n\r\n';
      const r = await one(appPort, request);
      assert.equal(r.status, 200);
      assert.equal(r.body, `${body.length} ${body.length} ${createHash('sha256').update(body).digest('hex')}`);
      assert.deepEqual(readdirSync(process.env.TMPDIR), [], 'no spool file left');
    } finally {
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
    }
  });

  it('a chunked upload over maxChunkedBody: 413, and the app is not called', { timeout: 10_000 }, async () => {
    const gw = createGateway({ to: join(dir, 'app.sock'), maxChunkedBody: 1000 });
    try {
      const calls = appCalls;
      const big = 'x'.repeat(1500);
      const request = `POST /len HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n${big.length.toString(16)}\r\n${big}\r\n0\r\n\r\n`;
      const port = await listen(gw);
      const r = await one(port, request);
      assert.equal(r.status, 413);
      assert.equal(appCalls, calls);
      const small = await one(
        port,
        'POST /len HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n',
      );
      assert.match(small.body, /^3 3 /);
    } finally {
      await gw.close();
    }
  });

  it('an app that is not running gives 502; so does a socket file nobody listens on', { timeout: 10_000 }, async () => {
    const stale = join(dir, 'stale.sock');
    const dead = createServer();
    await new Promise<void>((resolve) => dead.listen(stale, resolve));
    // Closing a unix server unlinks its file: put a plain file there, so connect() is refused.
    await new Promise((resolve) => dead.close(resolve));
    await writeFile(stale, '');
    for (const to of [join(dir, 'missing.sock'), stale]) {
      const gw = createGateway({ to, onStderr: () => {} });
      try {
        const r = await one(await listen(gw), GET('/x'));
        assert.equal(r.status, 502, to);
        assert.equal(r.body, '502 Bad Gateway\n');
      } finally {
        await gw.close();
      }
    }
  });
});
