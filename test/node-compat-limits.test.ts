// What node:http does and FastCGI cannot carry, and what @fcgi does instead, each the same on a
// bare res and on one under Express's prototype: trailers (dropped, with one warning), a 101
// upgrade (refused), interim responses (nothing sent), timeouts and socket options (accepted),
// cork (holds nothing), strictContentLength (as node:http's). Run in process through inject().
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { describe, it } from 'node:test';
import express from 'express';
import { inject, type NodeHandler } from '@fcgi/core';

const run = (handler: (req: IncomingMessage, res: ServerResponse) => void, init: RequestInit = {}) =>
  inject(handler as NodeHandler, '/a/b?x=1&x=2', init);

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

describe('events and stream members a response has in node:http', () => {
  it("'prefinish', 'finish', end()'s callback, then 'close', in node:http's order", async () => {
    const order: string[] = [];
    await run((_req, res) => {
      for (const name of ['prefinish', 'finish', 'close']) res.on(name, () => order.push(name));
      res.end('x', () => order.push('end callback'));
    });
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(order, ['prefinish', 'finish', 'end callback', 'close']);
  });

  it('piping from a response throws, as node:http refuses it', async () => {
    let code = '';
    await run((_req, res) => {
      try {
        (res as unknown as { pipe(to: unknown): unknown }).pipe(process.stdout);
      } catch (err) {
        code = (err as { code: string }).code;
      }
      res.end();
    });
    assert.equal(code, 'ERR_FCGI_UNSUPPORTED');
  });
});
