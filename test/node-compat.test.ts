// node:http's request/response surface where frameworks trip on it, each case from one that did:
// req.headers as a plain object (Next.js calls its hasOwnProperty()),
// properties node:http leaves plain and assignable (Polka's req.path, tinyhttp's req.query, a
// proxy helper's req.socket.encrypted), req.rawHeaders (@hono/node-server, srvx/h3), writeHead's
// header lists (srvx), node:http's own OutgoingMessage methods called with our response as `this`
// (the `cookies` package under Express), IncomingMessage's members under Express's prototype
// (compared with node:http), and repeated header params. In process through inject(), and over a
// raw FastCGI connection where the params themselves matter. What FastCGI cannot carry:
// node-compat-limits.test.ts; every member listed: node-compat-members.test.ts.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OutgoingMessage, createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { describe, it } from 'node:test';
import Cookies from 'cookies';
import express from 'express';
import { createFcgiServer, inject, type Handler, type NodeHandler } from '@fcgi/core';
import {
  RecordType,
  encodeAbortRequest,
  encodeBeginRequest,
  encodeNameValues,
  encodeStream,
} from '@fcgi/core/protocol';
import { RawClient } from './helpers/raw-client.js';

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

describe('req.headers, a plain object as in node:http', () => {
  it('inherits Object.prototype (Next.js calls req.headers.hasOwnProperty()); a header named like one of its members is data', async () => {
    const r = await run(
      (req, res) => {
        const headers = req.headers;
        res.end(
          JSON.stringify({
            plain: Object.getPrototypeOf(headers) === Object.prototype,
            // biome-ignore lint/suspicious/noPrototypeBuiltins: the call Next.js makes (checkIsOnDemandRevalidate)
            own: [headers.hasOwnProperty('x-probe'), headers.hasOwnProperty('x-absent')],
            odd: headers.constructor,
          }),
        );
      },
      {
        headers: [
          ['x-probe', '1'],
          ['constructor', 'c'],
        ],
      },
    );
    assert.deepEqual(await r.json(), { plain: true, own: [true, false], odd: 'c' });
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

describe('a header the web server sends as repeated params (nginx before 1.23)', () => {
  it('req.headers joins them; rawHeaders and headersDistinct keep each value, as node:http does', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fcgi-compat-'));
    const socket = join(dir, 'app.sock');
    const server = createFcgiServer(((req: IncomingMessage, res: ServerResponse) => {
      res.setHeader('Content-Type', 'application/json');
      res.end(
        JSON.stringify({
          cookie: req.headers.cookie,
          raw: req.rawHeaders.filter((_v, i) => req.rawHeaders[i - (i % 2)] === 'cookie'),
          distinct: req.headersDistinct.cookie,
          type: req.headersDistinct['content-type'],
        }),
      );
    }) as unknown as Handler);
    await server.listenOn({ kind: 'unix', path: socket });
    const client = await RawClient.connect(socket);
    try {
      const params: [string, string][] = [
        ['REQUEST_METHOD', 'GET'],
        ['REQUEST_URI', '/'],
        ['SERVER_PROTOCOL', 'HTTP/1.1'],
        ['HTTP_COOKIE', 'a=1'],
        ['HTTP_CONTENT_TYPE', 'text/old'],
        ['HTTP_COOKIE', 'b=2'],
        ['CONTENT_TYPE', 'text/plain'],
      ];
      client.write(encodeBeginRequest(1, 1, false));
      client.write(encodeStream(RecordType.PARAMS, 1, encodeNameValues(params)));
      client.write(encodeStream(RecordType.STDIN, 1, Buffer.alloc(0)));
      const out = (await client.reply(1, 5000)).stdout.toString();
      const got = JSON.parse(out.slice(out.indexOf('\r\n\r\n') + 4));
      assert.deepEqual(got, {
        cookie: 'a=1; b=2',
        raw: ['cookie', 'a=1', 'cookie', 'b=2'],
        distinct: ['a=1', 'b=2'],
        type: ['text/plain'],
      });
    } finally {
      client.close();
      await server.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('a request the web server aborts mid-body (ABORT_REQUEST), as node:http when the client goes', () => {
  it("req.aborted, 'aborted', req.complete false, req and res 'close', the socket closed", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fcgi-compat-'));
    const path = join(dir, 'app.sock');
    let seen!: (what: Record<string, unknown>) => void;
    const done = new Promise<Record<string, unknown>>((resolve) => (seen = resolve));
    const server = createFcgiServer(((req: IncomingMessage, res: ServerResponse) => {
      const events: string[] = [];
      req.on('aborted', () => events.push('aborted'));
      req.on('close', () => events.push('req close'));
      req.socket.on('close', () => events.push('socket close'));
      req.on('data', () => {});
      res.on('close', () => {
        events.push('res close');
        setImmediate(() =>
          seen({
            events: events.sort(),
            aborted: req.aborted,
            complete: req.complete,
            writableFinished: res.writableFinished,
            socketDestroyed: req.socket.destroyed,
          }),
        );
      });
    }) as unknown as Handler);
    await server.listenOn({ kind: 'unix', path });
    const client = await RawClient.connect(path);
    try {
      client.write(encodeBeginRequest(1, 1, true));
      const params = { REQUEST_METHOD: 'POST', REQUEST_URI: '/', CONTENT_LENGTH: '100' };
      client.write(encodeStream(RecordType.PARAMS, 1, encodeNameValues(params)));
      client.write(encodeStream(RecordType.STDIN, 1, Buffer.alloc(10, 'x'), false));
      client.write(encodeAbortRequest(1));
      const got = await Promise.race([
        done,
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no close in 5 s')), 5000).unref()),
      ]);
      assert.deepEqual(got, {
        events: ['aborted', 'req close', 'res close', 'socket close'],
        aborted: true,
        complete: false,
        writableFinished: false,
        socketDestroyed: true,
      });
    } finally {
      client.close();
      await server.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
