// inject(): requests through a plain handler, a createApp() app and an Express app without
// sockets; the params a handler sees, Set-Cookie kept apart, bodies streamed both ways with
// backpressure, HEAD, 204, redirects, errors and aborts.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import express from 'express';
import { json } from '../app/body/index.js';
import type { AppRequest, AppResponse } from '../app/index.js';
import { createApp } from '../create-app.js';
import type { FcgiRequest, FcgiResponse } from '../http/index.js';
import { inject } from './in-process.js';

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Reads a body to its end, yielding to the event loop between reads (a slow reader). */
async function readSlowly(body: ReadableStream<Uint8Array>, onChunk: (received: number) => void): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let received = 0;
  for await (const chunk of body) {
    received += chunk.length;
    chunks.push(Buffer.from(chunk));
    onChunk(received);
    await new Promise((resolve) => setImmediate(resolve));
  }
  return Buffer.concat(chunks);
}

describe('inject(): a plain handler', () => {
  it('builds the params as nginx with fastcgi_params would, and the handler sees them as req', async () => {
    let seen:
      | {
          environ: Record<string, string>;
          method: string;
          url: string;
          headers: Record<string, string>;
          remote?: string;
          query: unknown;
        }
      | undefined;
    const handler = (req: FcgiRequest, res: FcgiResponse) => {
      seen = {
        environ: { ...req.environ },
        method: req.method,
        url: req.originalUrl,
        headers: { ...req.headers },
        remote: req.socket.remoteAddress,
        query: { ...req.query },
      };
      res.end('ok');
    };
    const r = await inject(handler, 'https://example.test:8443/a%20b/c?x=1&x=2', {
      headers: [
        ['Accept', 'text/plain'],
        ['X-Many', 'one'],
        ['X-Many', 'two'],
        ['Cookie', 'a=1'],
        ['Cookie', 'b=2'],
      ],
      environ: { SERVER_SOFTWARE: 'nginx/1.22.1', PATH_INFO: '/extra' },
      remoteAddress: '203.0.113.9',
    });
    assert.equal(r.status, 200);
    assert.equal(await r.text(), 'ok');
    const e = seen!.environ;
    assert.equal(e.REQUEST_METHOD, 'GET');
    assert.equal(e.REQUEST_URI, '/a%20b/c?x=1&x=2');
    assert.equal(e.SCRIPT_NAME, '/a b/c');
    assert.equal(e.DOCUMENT_URI, '/a b/c');
    assert.equal(e.QUERY_STRING, 'x=1&x=2');
    assert.equal(e.CONTENT_TYPE, '');
    assert.equal(e.CONTENT_LENGTH, '');
    assert.equal(e.SERVER_PROTOCOL, 'HTTP/1.1');
    assert.equal(e.GATEWAY_INTERFACE, 'CGI/1.1');
    assert.equal(e.REQUEST_SCHEME, 'https');
    assert.equal(e.HTTPS, 'on');
    assert.equal(e.SERVER_NAME, 'example.test');
    assert.equal(e.SERVER_PORT, '8443');
    assert.equal(e.REMOTE_ADDR, '203.0.113.9');
    assert.equal(e.HTTP_HOST, 'example.test:8443');
    assert.equal(e.HTTP_ACCEPT, 'text/plain');
    assert.equal(e.HTTP_X_MANY, 'one, two');
    assert.equal(e.HTTP_COOKIE, 'a=1; b=2', 'cookies joined with "; " as nginx does');
    assert.equal(e.SERVER_SOFTWARE, 'nginx/1.22.1', 'init.environ wins');
    assert.equal(e.PATH_INFO, '/extra');
    assert.equal(seen!.method, 'GET');
    assert.equal(seen!.url, '/a%20b/c?x=1&x=2');
    assert.equal(seen!.headers['x-many'], 'one, two');
    assert.equal(seen!.headers.host, 'example.test:8443');
    assert.equal(seen!.remote, '203.0.113.9');
    assert.deepEqual(seen!.query, { x: ['1', '2'] });
  });

  it('a path alone is a path on http://localhost; REMOTE_ADDR defaults to 127.0.0.1', async () => {
    const r = await inject(
      (req, res) =>
        res.end(`${req.environ.SERVER_NAME} ${req.environ.SERVER_PORT} ${req.environ.REMOTE_ADDR} ${req.url}`),
      '/p?q',
    );
    assert.equal(await r.text(), 'localhost 80 127.0.0.1 /p?q');
  });

  it('status, reason, headers; each Set-Cookie its own value; a body given to end() gets its Content-Length', async () => {
    const r = await inject((_req, res) => {
      res.statusCode = 201;
      res.statusMessage = 'Made It';
      res.setHeader('Content-Type', 'text/plain; charset=utf-8');
      res.appendHeader('Set-Cookie', 'a=1; Path=/');
      res.appendHeader('Set-Cookie', 'b=2, with a comma; HttpOnly');
      res.setHeader('X-List', ['x', 'y']);
      res.end('héllo');
    }, '/');
    assert.equal(r.status, 201);
    assert.equal(r.statusText, 'Made It');
    assert.equal(r.headers.get('content-type'), 'text/plain; charset=utf-8');
    assert.equal(r.headers.get('content-length'), String(Buffer.byteLength('héllo')));
    assert.deepEqual(r.headers.getSetCookie(), ['a=1; Path=/', 'b=2, with a comma; HttpOnly']);
    assert.equal(r.headers.get('x-list'), 'x, y');
    assert.equal(await r.text(), 'héllo');
  });

  it('a body without Content-Length is read whole first and given CONTENT_LENGTH', async () => {
    const r = await inject(
      async (req, res) => {
        const body = await req.text();
        res.end(JSON.stringify({ body, length: req.environ.CONTENT_LENGTH, type: req.headers['content-type'] }));
      },
      '/echo',
      { method: 'POST', body: 'name=Zoë' },
    );
    assert.deepEqual(await r.json(), {
      body: 'name=Zoë',
      length: String(Buffer.byteLength('name=Zoë')),
      type: 'text/plain;charset=UTF-8',
    });
  });

  it('a streamed body with Content-Length reaches a slow handler with backpressure, intact', async () => {
    const data = randomBytes(1024 * 1024);
    const CHUNK = 16 * 1024;
    let pulled = 0;
    let consumed = 0;
    let maxAhead = 0;
    const source = new ReadableStream<Uint8Array>(
      {
        pull(controller) {
          if (pulled >= data.length) return controller.close();
          controller.enqueue(data.subarray(pulled, pulled + CHUNK));
          pulled += CHUNK;
          maxAhead = Math.max(maxAhead, pulled - consumed);
        },
      },
      { highWaterMark: 0 },
    );
    const r = await inject(
      async (req, res) => {
        const hash = createHash('sha256');
        for await (const chunk of req as AsyncIterable<Buffer>) {
          hash.update(chunk);
          consumed += chunk.length;
          await new Promise((resolve) => setImmediate(resolve));
        }
        res.end(JSON.stringify({ length: consumed, sha: hash.digest('hex') }));
      },
      '/up',
      {
        method: 'PUT',
        body: source,
        duplex: 'half',
        headers: { 'content-length': String(data.length) },
      } as RequestInit,
    );
    assert.deepEqual(await r.json(), { length: data.length, sha: sha256(data) });
    // The handler's unread body is bounded by the request's high-water mark (64 KiB) and a chunk or two.
    assert.ok(maxAhead <= 128 * 1024, `the source ran ${maxAhead} bytes ahead of the handler`);
  });

  it('a response body streams with backpressure: write() returns false until the client reads', async () => {
    const data = randomBytes(1024 * 1024);
    const CHUNK = 16 * 1024;
    let sent = 0;
    let refused = 0;
    const r = await inject((_req, res) => {
      res.setHeader('Content-Type', 'application/octet-stream');
      const pump = () => {
        while (sent < data.length) {
          const ok = res.write(data.subarray(sent, sent + CHUNK));
          sent += CHUNK;
          if (!ok) {
            refused++;
            res.once('drain', pump);
            return;
          }
        }
        res.end();
      };
      pump();
    }, '/big');
    assert.equal(r.status, 200);
    let maxAhead = 0;
    const body = await readSlowly(r.body!, (received) => (maxAhead = Math.max(maxAhead, sent - received)));
    assert.equal(body.length, data.length);
    assert.equal(sha256(body), sha256(data));
    assert.ok(refused > 0, 'write() returned false at least once');
    assert.ok(maxAhead <= 128 * 1024, `the handler ran ${maxAhead} bytes ahead of the reader`);
  });

  it('HEAD and 204 have no body; a handler that writes its own header block (res.stdout) is read as nginx reads it', async () => {
    const head = await inject((_req, res) => res.end('not sent'), '/', { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.body, null);
    assert.equal(head.headers.get('content-length'), '8');
    const empty = await inject((_req, res) => res.writeHead(204).end(), '/');
    assert.equal(empty.status, 204);
    assert.equal(empty.body, null);
    const raw = await inject((_req, res) => {
      res.stdout.write('Location: /elsewhere\r\n');
      res.stdout.end('Content-Type: text/plain\r\n\r\nmoved');
    }, '/');
    assert.equal(raw.status, 302, 'Location without Status');
    assert.equal(raw.headers.get('location'), '/elsewhere');
    assert.equal(await raw.text(), 'moved');
  });

  it('a malformed header block from res.stdout rejects', async () => {
    await assert.rejects(
      inject((_req, res) => res.stdout.end('not a header\r\n\r\n'), '/'),
      { code: 'ERR_FCGI_CLIENT_BAD_RESPONSE' },
    );
  });

  it('res.destroy() after output errors the body; before output rejects with its error', async () => {
    const r = await inject(
      (_req, res) => {
        res.write('partial');
        setImmediate(() => res.destroy());
      },
      '/',
      { stderr: () => {} },
    );
    await assert.rejects(r.text(), /cut off/);
    await assert.rejects(
      inject((_req, res) => res.destroy(new Error('no answer')), '/', { stderr: () => {} }),
      /no answer/,
    );
  });

  it('cancelling the response body aborts the handler', async () => {
    let resolveClosed: () => void;
    const closed = new Promise<void>((resolve) => (resolveClosed = resolve));
    const r = await inject((req, res) => {
      req.on('aborted', () => resolveClosed());
      res.write('first');
    }, '/');
    const reader = r.body!.getReader();
    assert.equal(Buffer.from((await reader.read()).value!).toString(), 'first');
    await reader.cancel();
    await closed;
  });

  it('a thrown error is a 500 and its stack goes to stderr', async () => {
    let stderr = '';
    const r = await inject(
      () => {
        throw new Error('handler broke');
      },
      '/x',
      { stderr: (text) => (stderr += text) },
    );
    assert.equal(r.status, 500);
    assert.equal(await r.text(), '500 Internal Server Error\n');
    assert.match(stderr, /Z \[req \d+-\d+\] GET \/x: Error: handler broke\n\s+at /);
  });

  it('httpoxy: a Proxy: header is not passed as HTTP_PROXY (the gateway drops it too)', async () => {
    let environ: Record<string, string> = {};
    await inject(
      (req: FcgiRequest, res: FcgiResponse) => {
        environ = { ...req.environ };
        res.end();
      },
      '/',
      { headers: { Proxy: 'http://evil.example:3128', 'X-Proxy': 'kept' } },
    );
    assert.equal(environ.HTTP_PROXY, undefined);
    assert.equal(environ.HTTP_X_PROXY, 'kept');
  });

  it('a 1xx as the final status is refused clearly: res.status(100) throws; statusCode = 101 (an upgrade) is a 500', async () => {
    let thrown: unknown;
    let stderr = '';
    const first = await inject((_req: FcgiRequest, res: FcgiResponse) => {
      try {
        res.status(100);
      } catch (err) {
        thrown = err;
      }
      res.end('fine');
    }, '/');
    assert.equal(first.status, 200);
    assert.equal((thrown as { code?: string }).code, 'ERR_FCGI_INVALID_STATUS');
    assert.match((thrown as Error).message, /^invalid status code 100: a 1xx is an interim response, not an answer/);
    const second = await inject(
      (_req: FcgiRequest, res: FcgiResponse) => {
        res.statusCode = 101;
        res.end('switch?');
      },
      '/up',
      { stderr: (text) => (stderr += text) },
    );
    assert.equal(second.status, 500);
    assert.match(stderr, /101 Switching Protocols cannot pass FastCGI/);
  });
});

describe('inject(): a createApp() app', () => {
  let resolveAborted: (how: string[]) => void;
  const aborted = new Promise<string[]>((resolve) => (resolveAborted = resolve));
  const app = createApp();
  app.use(json());
  app.use((req: AppRequest, res: AppResponse, next: () => void) => {
    res.set('X-Seen', 'yes');
    next();
  });
  app.use('/json', (req: AppRequest, res: AppResponse) => {
    res.json({ got: req.body, type: req.get('content-type') });
  });
  app.use('/cookies', (_req: AppRequest, res: AppResponse) => {
    res.cookie('session', 'abc', { httpOnly: true });
    res.cookie('theme', 'dark', { path: '/', maxAge: 60_000 });
    res.send('two cookies');
  });
  app.use('/old', (_req: AppRequest, res: AppResponse) => res.redirect('/new'));
  app.use('/boom', () => {
    throw new Error('kaboom');
  });
  app.use('/big', (_req: AppRequest, res: AppResponse) => {
    const chunk = Buffer.alloc(16 * 1024, 0x61);
    let left = 64;
    const pump = () => {
      while (left > 0) {
        left--;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
      res.end();
    };
    res.type('text/plain');
    pump();
  });
  app.use('/hello', (_req: AppRequest, res: AppResponse) => res.send('hello'));
  app.use('/wait', (req: AppRequest, res: AppResponse) => {
    const events: string[] = [];
    req.on('aborted', () => events.push('aborted'));
    res.on('close', () => {
      events.push(`close signal.aborted=${req.signal.aborted}`);
      resolveAborted(events);
    });
  });

  it('json() parses the body; app middleware ran', async () => {
    const r = await inject(app, '/json', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ a: [1, 2] }),
    });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('x-seen'), 'yes');
    assert.match(r.headers.get('content-type')!, /^application\/json/);
    assert.deepEqual(await r.json(), { got: { a: [1, 2] }, type: 'application/json' });
  });

  it('malformed JSON is a 400', async () => {
    const r = await inject(app, '/json', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{nope',
      stderr: () => {},
    });
    assert.equal(r.status, 400);
  });

  it('cookies set twice are two Set-Cookie values', async () => {
    const r = await inject(app, '/cookies');
    const cookies = r.headers.getSetCookie();
    assert.equal(cookies.length, 2);
    assert.match(cookies[0]!, /^session=abc; Path=\/; HttpOnly$/);
    assert.match(cookies[1]!, /^theme=dark; Max-Age=60; Path=\/; Expires=/);
    assert.equal(await r.text(), 'two cookies');
  });

  it('a redirect is returned, not followed', async () => {
    const r = await inject(app, '/old');
    assert.equal(r.status, 302);
    assert.equal(r.headers.get('location'), '/new');
  });

  it("an unknown path is the app's 404; a thrown error its 500, logged to stderr", async () => {
    const missing = await inject(app, '/nothing-here', { stderr: () => {} });
    assert.equal(missing.status, 404);
    await missing.arrayBuffer();
    let stderr = '';
    const boom = await inject(app, '/boom', { stderr: (text) => (stderr += text) });
    assert.equal(boom.status, 500);
    await boom.arrayBuffer();
    assert.match(stderr, /kaboom/);
  });

  it('a 1 MB body streamed by the app arrives whole through a slow reader', async () => {
    const r = await inject(app, '/big');
    const body = await readSlowly(r.body!, () => {});
    assert.equal(body.length, 1024 * 1024);
    assert.ok(body.every((b) => b === 0x61));
  });

  it('HEAD: the headers of the GET, no body', async () => {
    const r = await inject(app, '/hello', { method: 'HEAD' });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-length'), '5');
    assert.equal(r.body, null);
  });

  it("aborting the signal aborts the request ('aborted', req.signal, res 'close') and rejects with the reason", async () => {
    const controller = new AbortController();
    const pending = inject(app, '/wait', { signal: controller.signal });
    await sleep(10);
    controller.abort();
    await assert.rejects(pending, { name: 'AbortError' });
    assert.deepEqual(await aborted, ['aborted', 'close signal.aborted=true']);
  });

  it('an already aborted signal rejects before the handler runs', async () => {
    let ran = false;
    await assert.rejects(
      inject(() => void (ran = true), '/', { signal: AbortSignal.abort() }),
      { name: 'AbortError' },
    );
    assert.equal(ran, false);
  });
});

describe('inject(): an Express app', () => {
  it("runs through Express's router, body parser and res helpers", async () => {
    const app = express();
    app.use(express.json());
    app.post('/items/:id', (req, res) => {
      res.cookie('a', '1');
      res.cookie('b', '2');
      res.status(201).json({ id: req.params.id, body: req.body, ip: req.ip });
    });
    const r = await inject(app, '/items/7', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"x":true}',
    });
    assert.equal(r.status, 201);
    assert.deepEqual(r.headers.getSetCookie(), ['a=1; Path=/', 'b=2; Path=/']);
    assert.deepEqual(await r.json(), { id: '7', body: { x: true }, ip: '127.0.0.1' });
    const missing = await inject(app, '/nope');
    assert.equal(missing.status, 404);
    await missing.arrayBuffer();
  });
});
