// node:http's request/response surface where frameworks trip on it, each case from one that did:
// properties node:http leaves plain and assignable (Polka's req.path, tinyhttp's req.query, a
// proxy helper's req.socket.encrypted), req.rawHeaders (@hono/node-server, srvx/h3), writeHead's
// header lists (srvx), and node:http's own OutgoingMessage methods called with our response as
// `this` (the `cookies` package under Express). Run in process through inject().
import assert from 'node:assert/strict';
import { OutgoingMessage, createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { describe, it } from 'node:test';
import Cookies from 'cookies';
import express from 'express';
import { inject, type NodeHandler } from '@fcgi/core';

const run = (handler: (req: IncomingMessage, res: ServerResponse) => void, init: RequestInit = {}) =>
  inject(handler as NodeHandler, '/a/b?x=1&x=2', init);

describe('request properties a framework assigns, as plain ones in node:http', () => {
  it('req.path and req.query take what is assigned (Polka, tinyhttp)', async () => {
    const r = await run((req, res) => {
      const r2 = req as IncomingMessage & { path: string; query: unknown };
      assert.equal(r2.path, '/a/b');
      assert.deepEqual({ ...(r2.query as object) }, { x: ['1', '2'] });
      r2.path = '/b';
      r2.query = { mine: true };
      res.end(JSON.stringify({ path: r2.path, query: r2.query }));
    });
    assert.equal(r.status, 200);
    assert.deepEqual(await r.json(), { path: '/b', query: { mine: true } });
  });

  it('req.socket.encrypted takes what is assigned, and Express reads it', async () => {
    const app = express();
    app.use((req, _res, next) => {
      (req.socket as { encrypted?: boolean }).encrypted = true;
      next();
    });
    app.get('/a/b', (req, res) => res.json({ protocol: req.protocol, secure: req.secure }));
    const r = await inject(app as unknown as NodeHandler, '/a/b');
    assert.deepEqual(await r.json(), { protocol: 'https', secure: true });
  });
});

describe('req.rawHeaders, as node:http has it', () => {
  it('is the flat [name, value, ...] list of the headers, a plain assignable property', async () => {
    const r = await run(
      (req, res) => {
        const raw = req.rawHeaders;
        assert.equal(req.rawHeaders, raw);
        const pairs: Record<string, string> = {};
        for (let i = 0; i < raw.length; i += 2) pairs[raw[i]!] = raw[i + 1]!;
        assert.equal(raw.length % 2, 0);
        const distinct = req.headersDistinct['user-agent'];
        req.rawHeaders = ['x-mine', '1'];
        res.end(JSON.stringify({ pairs, after: req.rawHeaders, distinct }));
      },
      { headers: { 'user-agent': 'probe/1', authorization: 'Bearer t' } },
    );
    const got = (await r.json()) as { pairs: Record<string, string>; after: string[]; distinct: string[] };
    assert.equal(got.pairs['user-agent'], 'probe/1');
    assert.equal(got.pairs.authorization, 'Bearer t');
    assert.deepEqual(got.after, ['x-mine', '1']);
    assert.deepEqual(got.distinct, ['probe/1']);
  });
});

describe("writeHead's header lists, as node:http takes them", () => {
  it('a flat [name, value, ...] list: every header arrives, repeated names kept apart (srvx, h3)', async () => {
    const r = await run((_req, res) => {
      res.setHeader('Content-Type', 'text/html');
      res.writeHead(302, ['Content-Type', 'text/plain', 'Location', '/x', 'Set-Cookie', 'a=1', 'Set-Cookie', 'b=2']);
      res.end('moved');
    });
    assert.equal(r.status, 302);
    assert.equal(r.headers.get('content-type'), 'text/plain');
    assert.equal(r.headers.get('location'), '/x');
    assert.deepEqual(r.headers.getSetCookie(), ['a=1', 'b=2']);
  });

  it('a list of pairs', async () => {
    const r = await run((_req, res) => {
      res.writeHead(201, [
        ['Content-Type', 'application/json'],
        ['Set-Cookie', 'a=1'],
        ['Set-Cookie', 'b=2'],
      ] as unknown as string[]);
      res.end('{}');
    });
    assert.equal(r.status, 201);
    assert.equal(r.headers.get('content-type'), 'application/json');
    assert.deepEqual(r.headers.getSetCookie(), ['a=1', 'b=2']);
  });

  it('a flat list with a name left without its value is refused, as node:http does', async () => {
    let thrown: unknown;
    await run((_req, res) => {
      try {
        res.writeHead(200, ['Content-Type']);
      } catch (err) {
        thrown = err;
      }
      res.end();
    });
    assert.equal((thrown as { code?: string }).code, 'ERR_FCGI_INVALID_HEADER');
  });
});

describe("node:http's own OutgoingMessage methods with our response as this", () => {
  it('set, append, read and remove the same headers ours do', async () => {
    const proto = OutgoingMessage.prototype;
    const r = await run((_req, res) => {
      proto.setHeader.call(res, 'X-One', '1');
      proto.appendHeader.call(res, 'X-Two', 'a');
      proto.appendHeader.call(res, 'X-Two', 'b');
      res.setHeader('X-Gone', 'soon');
      proto.removeHeader.call(res, 'X-Gone');
      assert.equal(res.getHeader('x-one'), '1');
      assert.equal(proto.getHeader.call(res, 'X-Two')?.toString(), 'a,b');
      assert.equal(proto.hasHeader.call(res, 'x-gone'), false);
      assert.deepEqual(proto.getHeaderNames.call(res), ['x-one', 'x-two']);
      res.end('ok');
    });
    assert.equal(r.headers.get('x-one'), '1');
    assert.equal(r.headers.get('x-two'), 'a, b');
    assert.equal(r.headers.get('x-gone'), null);
  });

  it('the cookies package under Express (it calls OutgoingMessage.prototype.setHeader) keeps its Set-Cookie', async () => {
    const app = express();
    app.get('/a/b', (req, res) => {
      const cookies = new Cookies(req, res);
      cookies.set('sid', 'abc', { httpOnly: true });
      cookies.set('theme', 'dark', { httpOnly: false });
      res.send('ok');
    });
    const r = await inject(app as unknown as NodeHandler, '/a/b');
    assert.equal(r.status, 200);
    const set = r.headers.getSetCookie();
    assert.equal(set.length, 2, JSON.stringify(set));
    assert.match(set[0]!, /^sid=abc; path=\/; httponly$/);
    assert.match(set[1]!, /^theme=dark; path=\/$/);
  });
});

describe("Express swaps the request's prototype: node:http's members stay as node:http has them", () => {
  // What an Express handler sees of IncomingMessage's data members, on node:http and on @fcgi.
  const report = (req: IncomingMessage) => {
    const raw = req.rawHeaders;
    const probe: string[] = [];
    for (let i = 0; i < raw.length; i += 2)
      if (raw[i]!.toLowerCase().startsWith('x-probe')) probe.push(raw[i]!.toLowerCase(), raw[i + 1]!);
    return {
      rawHeaders: Array.isArray(raw),
      probe,
      rawTrailers: req.rawTrailers,
      headersDistinct: req.headersDistinct['x-probe-one'],
      trailersDistinct: { ...req.trailersDistinct },
      trailers: { ...req.trailers },
      httpVersion: req.httpVersion,
      method: req.method,
      url: req.url,
      complete: req.complete,
      aborted: req.aborted,
      setTimeout: req.setTimeout(1000) === req,
    };
  };
  const app = express();
  app.get('/a/b', (req, res) => res.json(report(req)));
  const headers = { 'x-probe-one': 'v1', 'x-probe-two': 'v2' };

  it('rawHeaders, rawTrailers, headersDistinct, trailersDistinct... answer as on node:http', async () => {
    const server = createServer(app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as { port: number }).port;
      const reference = await (await fetch(`http://127.0.0.1:${port}/a/b`, { headers })).json();
      const ours = await (await inject(app as unknown as NodeHandler, '/a/b', { headers })).json();
      assert.deepEqual(ours, reference);
      assert.deepEqual((ours as { probe: string[] }).probe, ['x-probe-one', 'v1', 'x-probe-two', 'v2']);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('what FastCGI cannot carry fails clearly or is dropped with a word, on a bare res and under Express', () => {
  // The same handler bare and as an Express route (Express swaps res's prototype to one built on
  // http.ServerResponse.prototype, whose own addTrailers/writeHead would otherwise answer).
  const both = (handler: (req: IncomingMessage, res: ServerResponse) => void) => {
    const app = express();
    app.get('/a/b', handler as express.RequestHandler);
    return [
      ['bare', () => run(handler)],
      ['under Express', () => inject(app as unknown as NodeHandler, '/a/b?x=1&x=2')],
    ] as const;
  };

  for (const [how, go] of both((_req, res) => {
    res.setHeader('Content-Type', 'text/plain');
    res.addTrailers({ 'Server-Timing': 'db;dur=53' });
    res.end('whole');
  })) {
    it(`addTrailers() drops the trailers, the answer goes out whole, one warning per process (${how})`, async () => {
      const warnings: Error[] = [];
      const onWarning = (w: Error) => warnings.push(w);
      process.on('warning', onWarning);
      try {
        const r = await go();
        assert.equal(r.status, 200);
        assert.equal(await r.text(), 'whole');
        assert.equal(r.headers.get('server-timing'), null);
        await new Promise((resolve) => setImmediate(resolve));
      } finally {
        process.off('warning', onWarning);
      }
      // The first test in this process to call it sees the warning; later ones do not.
      assert.ok(warnings.length <= 1);
      for (const w of warnings) {
        assert.equal((w as { code?: string }).code, 'FCGI_TRAILERS_DROPPED');
        assert.match(w.message, /Server-Timing/);
      }
    });
  }

  it('addTrailers() refuses a header value node:http refuses', async () => {
    let thrown: unknown;
    await run((_req, res) => {
      try {
        res.addTrailers({ 'X-Bad': 'a\r\nb' });
      } catch (err) {
        thrown = err;
      }
      res.end();
    });
    assert.equal((thrown as { code?: string }).code, 'ERR_FCGI_INVALID_HEADER');
  });

  for (const [how, go] of both((req, res) => {
    // What a WebSocket library does on an upgrade request without a server 'upgrade' event.
    let code = '';
    try {
      res.writeHead(101, { Upgrade: 'websocket', Connection: 'Upgrade' });
    } catch (err) {
      code = (err as { code: string }).code;
    }
    res.statusCode = 426;
    res.end(`${req.headers.upgrade} ${code}`);
  })) {
    it(`an Upgrade request reaches the handler as a plain request; a 101 answer throws ERR_FCGI_UNSUPPORTED (${how})`, async () => {
      const r = await go();
      assert.equal(r.status, 426);
      assert.equal(await r.text(), 'undefined ERR_FCGI_UNSUPPORTED');
    });
  }

  it('an Upgrade: websocket header arrives as a header; nothing upgrades', async () => {
    const r = await inject(
      ((req: IncomingMessage, res: ServerResponse) => res.end(String(req.headers.upgrade))) as NodeHandler,
      '/ws',
      { headers: { upgrade: 'websocket', connection: 'Upgrade' } },
    );
    assert.equal(await r.text(), 'websocket');
  });

  for (const [how, go] of both((_req, res) => {
    const called: string[] = [];
    res.writeContinue(() => called.push('continue'));
    res.writeProcessing(() => called.push('processing'));
    res.writeEarlyHints({ link: '</style.css>; rel=preload; as=style' }, () => called.push('hints'));
    setImmediate(() => {
      res.setHeader('Content-Type', 'text/plain');
      res.end(called.join(','));
    });
  })) {
    it(`interim responses: writeContinue/writeProcessing/writeEarlyHints send nothing and call back; the answer is the final one (${how})`, async () => {
      const r = await go();
      assert.equal(r.status, 200);
      assert.equal(await r.text(), 'continue,processing,hints');
      assert.equal(r.headers.get('link'), null);
    });
  }

  for (const [how, go] of both((req, res) => {
    const socket = req.socket;
    const same = [
      socket.setTimeout(10) === socket,
      socket.setNoDelay(true) === socket,
      socket.setKeepAlive(true, 10) === socket,
      res.setTimeout(10) === res,
      res.connection === socket,
      res.socket === socket,
      res.req === req,
    ];
    res.cork();
    const corked = res.writableCorked;
    res.uncork();
    res.setHeader('X-Name', 'v');
    res.end(
      JSON.stringify({
        same,
        corked,
        raw: (res as unknown as { getRawHeaderNames(): string[] }).getRawHeaderNames(),
        ended: res.writableEnded,
      }),
    );
  })) {
    it(`timeouts and socket options are accepted and chain; cork() holds nothing (${how})`, async () => {
      const r = await go();
      const got = (await r.json()) as { same: boolean[]; corked: number; raw: string[]; ended: boolean };
      assert.deepEqual(got.same, [true, true, true, true, true, true, true]);
      assert.equal(got.corked, 0);
      assert.ok(got.raw.includes('X-Name'));
      assert.equal(got.ended, false);
    });
  }

  for (const [how, go] of both((_req, res) => {
    assert.equal(res.strictContentLength, false);
    res.strictContentLength = true;
    res.setHeader('Content-Length', '4');
    let code = '';
    try {
      res.write('too long');
    } catch (err) {
      code = (err as { code: string }).code;
    }
    res.end(code === 'ERR_FCGI_CONTENT_LENGTH_MISMATCH' ? 'ok!!' : 'nope');
  })) {
    it(`strictContentLength: a body past Content-Length throws before it goes out (${how})`, async () => {
      const r = await go();
      assert.equal(await r.text(), 'ok!!');
    });
  }

  it('strictContentLength: end() short of Content-Length throws; writableEnded/writableFinished follow end()', async () => {
    let code = '';
    const states: boolean[] = [];
    await run((_req, res) => {
      res.strictContentLength = true;
      res.setHeader('Content-Length', '10');
      try {
        res.end('short');
      } catch (err) {
        code = (err as { code: string }).code;
      }
      states.push(res.writableEnded);
      res.end('0123456789', () => states.push(res.writableFinished));
      states.push(res.writableEnded, res.writableFinished);
    });
    await new Promise((resolve) => setImmediate(resolve)); // end()'s callback comes on a later tick
    assert.equal(code, 'ERR_FCGI_CONTENT_LENGTH_MISMATCH');
    assert.deepEqual(states, [false, true, false, true]);
  });
});
