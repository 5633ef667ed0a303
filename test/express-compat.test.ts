// The core req/res as node:http stand-ins, over real FastCGI (raw client, unix socket): they keep
// working after Express's prototype swap, the first output goes through res.writeHead (which
// on-headers wraps), and req.socket/res.socket stand for the client's connection.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { IncomingMessage, ServerResponse } from 'node:http';
import { test } from 'node:test';
import {
  RecordType,
  encodeAbortRequest,
  encodeBeginRequest,
  encodeNameValues,
  encodeRecord,
  encodeStream,
} from '@fcgi/core/protocol';
import type { FcgiRequest, FcgiResponse, Handler } from '@fcgi/core';
import { nginxParams, request, withServer } from './helpers/http-harness.js';
import { RawClient } from './helpers/raw-client.js';

const T = { timeout: 10_000 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What Express does in app.handle(): prototypes built on Node's, swapped in at run time. */
function expressSwap(req: FcgiRequest, res: FcgiResponse): void {
  Object.setPrototypeOf(req, Object.create(IncomingMessage.prototype));
  Object.setPrototypeOf(res, Object.create(ServerResponse.prototype));
}

/** What on-headers does: wraps the instance's writeHead; the listener runs once, before the headers go. */
function onHeaders(res: FcgiResponse, listener: (this: FcgiResponse) => void): void {
  const prev = res.writeHead;
  let fired = false;
  res.writeHead = function writeHead(this: FcgiResponse, ...args: unknown[]) {
    if (!fired) {
      fired = true;
      listener.call(this);
    }
    return (prev as (...a: unknown[]) => FcgiResponse).apply(this, args);
  } as FcgiResponse['writeHead'];
}

test('after a prototype swap to http.IncomingMessage/ServerResponse, the Node API still works', T, async () => {
  let seen: Record<string, unknown> = {};
  const handler: Handler = async (req, res) => {
    expressSwap(req, res);
    assert.ok((res as object) instanceof ServerResponse && (req as object) instanceof IncomingMessage);
    res.statusCode = 201;
    res.setHeader('X-One', '1');
    res.appendHeader('X-Many', 'a');
    res.appendHeader('X-Many', ['b', 'c']);
    res.setHeader('X-Gone', 'x');
    res.removeHeader('X-Gone');
    res.setHeaders(new Map([['X-Map', 'm']]));
    const body: Buffer[] = [];
    for await (const chunk of req as AsyncIterable<Buffer>) body.push(chunk);
    seen = {
      body: Buffer.concat(body).toString(),
      headers: req.headers['content-type'],
      trailers: { ...req.trailers },
      reqTimeout: req.setTimeout(5) === req,
      getHeader: res.getHeader('x-one'),
      has: [res.hasHeader('X-ONE'), res.hasHeader('x-gone')],
      names: res.getHeaderNames(),
      raw: res.getRawHeaderNames(),
      all: { ...res.getHeaders() },
      before: [res.headersSent, res.writableEnded, res.writable, res.finished, res.writableFinished, res._header],
      node: [
        res.writableLength,
        res.writableCorked,
        res.writableObjectMode,
        res.errored,
        res.closed,
        typeof res.writableHighWaterMark,
      ],
      sockets: [req.socket === res.socket, req.connection === req.socket, res.connection === res.socket],
      resTimeout: res.setTimeout(5) === res,
    };
    res.cork();
    res.uncork();
    res.writeContinue();
    res.write('part one, ');
    seen.afterWrite = [res.headersSent, typeof res._header];
    res.end('part two');
    seen.afterEnd = [res.writableEnded, res.writable, res.finished];
    await new Promise((r) => res.once('finish', r));
    seen.finished = res.writableFinished;
  };
  await withServer(handler, async ({ path }) => {
    const body = Buffer.from('{"x":1}');
    const r = await request(
      path,
      nginxParams({ REQUEST_METHOD: 'POST', CONTENT_TYPE: 'application/json', CONTENT_LENGTH: String(body.length) }),
      body,
    );
    assert.equal(r.appStatus, 0);
    assert.equal(r.status, 201);
    assert.equal(r.headers['x-one'], '1');
    assert.deepEqual(r.headers['x-many'], ['a', 'b', 'c']);
    assert.equal(r.headers['x-map'], 'm');
    assert.equal(r.headers['x-gone'], undefined);
    assert.equal(r.body.toString(), 'part one, part two');
    await sleep(20);
    assert.deepEqual(seen, {
      body: '{"x":1}',
      headers: 'application/json',
      trailers: {},
      reqTimeout: true,
      getHeader: '1',
      has: [true, false],
      names: ['x-one', 'x-many', 'x-map'],
      raw: ['X-One', 'X-Many', 'X-Map'],
      all: { 'x-one': '1', 'x-many': ['a', 'b', 'c'], 'x-map': 'm' },
      before: [false, false, true, false, false, null],
      node: [0, 0, false, null, false, 'number'],
      sockets: [true, true, true],
      resTimeout: true,
      afterWrite: [true, 'string'],
      afterEnd: [true, false, true],
      finished: true,
    });
  });
});

test('after a swap: writeHead, flushHeaders, _implicitHeader, end() with Content-Length, destroy()', T, async () => {
  const handler: Handler = (req, res) => {
    expressSwap(req, res);
    if (req.url === '/writehead') res.writeHead(202, 'Taken', { 'X-W': 'w' }).end('ok');
    else if (req.url === '/flush') {
      res.setHeader('X-F', 'f');
      res.flushHeaders();
      res.end('after flush');
    } else if (req.url === '/implicit') {
      res.statusCode = 203;
      res._implicitHeader();
      res.end(String(res.headersSent));
    } else if (req.url === '/end') res.end('sized');
    else if (req.url === '/destroy') {
      res.write('cut');
      res.destroy();
    }
  };
  await withServer(handler, async ({ path }) => {
    const get = (uri: string) => request(path, nginxParams({ REQUEST_URI: uri }));
    const wh = await get('/writehead');
    assert.match(wh.stdout.toString('latin1'), /^Status: 202 Taken\r\n/);
    assert.equal(wh.headers['x-w'], 'w');
    assert.equal(wh.headers['content-length'], '2', 'end(body) after writeHead still sizes the body');
    const fl = await get('/flush');
    assert.equal(fl.headers['x-f'], 'f');
    assert.equal(fl.body.toString(), 'after flush');
    const im = await get('/implicit');
    assert.equal(im.status, 203);
    assert.equal(im.body.toString(), 'true');
    const end = await get('/end');
    assert.equal(end.headers['content-length'], '5');
    assert.equal(end.body.toString(), 'sized');
    const d = await get('/destroy');
    assert.equal(d.appStatus, 1, 'destroy() after the swap is ours: END_REQUEST with appStatus 1');
  });
});

test(
  'the first write()/end()/flushHeaders() calls res.writeHead(statusCode) through the instance, once',
  T,
  async () => {
    const calls: string[] = [];
    const handler: Handler = (req, res) => {
      onHeaders(res, function () {
        calls.push(`${req.url} ${this.statusCode} sent=${this.headersSent}`);
        this.setHeader('X-On-Headers', 'yes'); // still allowed: the headers are not final yet
      });
      res.statusCode = 207;
      if (req.url === '/end') res.end('e');
      else if (req.url === '/empty') res.end();
      else if (req.url === '/write') {
        res.write('w');
        res.write('w');
        res.end();
      } else if (req.url === '/flush') {
        res.flushHeaders();
        res.end();
      } else if (req.url === '/explicit') res.writeHead(208).end('x');
    };
    await withServer(handler, async ({ path }) => {
      for (const uri of ['/end', '/empty', '/write', '/flush', '/explicit']) {
        const r = await request(path, nginxParams({ REQUEST_URI: uri }));
        assert.equal(r.headers['x-on-headers'], 'yes', uri);
        assert.equal(r.status, uri === '/explicit' ? 208 : 207, uri);
      }
    });
    assert.deepEqual(calls, [
      '/end 207 sent=false',
      '/empty 207 sent=false',
      '/write 207 sent=false',
      '/flush 207 sent=false',
      '/explicit 207 sent=false',
    ]);
  },
);

test('req.socket: addresses and ports from the params, encrypted from HTTPS, no-op socket options', T, async () => {
  const seen: unknown[] = [];
  await withServer(
    (req, res) => {
      const s = req.socket;
      seen.push({
        emitter: s instanceof EventEmitter,
        same: s === res.socket && s === res.connection,
        remote: [s.remoteAddress, s.remotePort, s.remoteFamily],
        local: [s.localAddress, s.localPort],
        encrypted: s.encrypted,
        state: [s.readable, s.writable, s.destroyed],
        address: s.address(),
        chain:
          s.setTimeout(1000) === s &&
          s.setNoDelay(true) === s &&
          s.setKeepAlive(true) === s &&
          s.ref() === s &&
          s.unref() === s,
      });
      res.end();
    },
    async ({ path }) => {
      await request(
        path,
        nginxParams({
          REMOTE_ADDR: '127.0.0.7',
          REMOTE_PORT: '40123',
          SERVER_ADDR: '127.0.0.1',
          SERVER_PORT: '8443',
          HTTPS: 'on',
        }),
      );
      await request(path, nginxParams({ REMOTE_ADDR: '::1', REMOTE_PORT: '5', SERVER_PORT: '80' }));
    },
  );
  assert.deepEqual(seen, [
    {
      emitter: true,
      same: true,
      remote: ['127.0.0.7', 40123, 'IPv4'],
      local: ['127.0.0.1', 8443],
      encrypted: true,
      state: [true, true, false],
      address: { address: '127.0.0.1', family: 'IPv4', port: 8443 },
      chain: true,
    },
    {
      emitter: true,
      same: true,
      remote: ['::1', 5, 'IPv6'],
      local: ['127.0.0.1', 80],
      encrypted: false,
      state: [true, true, false],
      address: { address: '127.0.0.1', family: 'IPv4', port: 80 },
      chain: true,
    },
  ]);
});

test("req.socket emits 'close' once the response finished; readable/writable turn false", T, async () => {
  const events: string[] = [];
  await withServer(
    (req, res) => {
      const s = req.socket;
      s.on('close', () =>
        events.push(`socket close readable=${s.readable} writable=${s.writable} destroyed=${s.destroyed}`),
      );
      res.on('finish', () => events.push('res finish'));
      res.end('x');
      events.push(`after end readable=${s.readable}`);
    },
    async ({ path }) => {
      await request(path, nginxParams());
      await sleep(20);
    },
  );
  assert.deepEqual(events, [
    'after end readable=true',
    'res finish',
    'socket close readable=false writable=false destroyed=true',
  ]);
});

test('req.socket.destroy() cuts the response (appStatus 1) and aborts the request', T, async () => {
  const events: string[] = [];
  await withServer(
    (req, res) => {
      req.on('aborted', () => events.push('req aborted'));
      res.on('close', () => events.push(`res close writableEnded=${res.writableEnded}`));
      req.socket.on('close', () => events.push('socket close'));
      res.write('partial');
      req.socket.destroy();
      events.push(`aborted=${req.aborted} destroyed=${res.destroyed}`);
      res.write('dropped'); // after the cut: ignored, no throw
    },
    async ({ path }) => {
      const r = await request(path, nginxParams());
      assert.equal(r.appStatus, 1);
      assert.equal(r.body.toString(), 'partial');
    },
  );
  // As in node:http: the connection closes, then the request is aborted and the response closed.
  assert.deepEqual(events, [
    'socket close',
    'req aborted',
    'res close writableEnded=true',
    'aborted=true destroyed=true',
  ]);
});

test('res.destroy() aborts the request too: a handler waiting for the body is released', T, async () => {
  let outcome = '';
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  await withServer(
    (req, res) => {
      req.once('data', () => res.destroy());
      req.on('aborted', () => {
        outcome = `aborted=${req.aborted} readable=${req.socket.readable}`;
        done();
      });
    },
    async ({ path }) => {
      const c = await RawClient.connect(path);
      try {
        // A body that never ends: only the abort can release the handler.
        c.write(encodeBeginRequest(1, 1, false));
        c.write(
          encodeStream(
            RecordType.PARAMS,
            1,
            encodeNameValues(nginxParams({ REQUEST_METHOD: 'POST', CONTENT_LENGTH: '100' })),
          ),
        );
        c.write(encodeRecord(RecordType.STDIN, 1, Buffer.from('first bytes')));
        const reply = await c.reply(1);
        assert.equal(reply.appStatus, 1);
        await Promise.race([finished, sleep(2000)]);
      } finally {
        c.close();
      }
    },
  );
  assert.equal(outcome, 'aborted=true readable=false');
});

test("ABORT_REQUEST from the web server closes req.socket ('close', readable false)", T, async () => {
  let closed = '';
  let started!: () => void;
  const running = new Promise<void>((r) => (started = r));
  await withServer(
    (req) => {
      req.socket.on('close', () => (closed = `readable=${req.socket.readable} writable=${req.socket.writable}`));
      started();
    },
    async ({ path }) => {
      const c = await RawClient.connect(path);
      try {
        c.sendRequest(1, nginxParams(), Buffer.alloc(0), true);
        await running;
        c.write(encodeAbortRequest(1));
        await c.reply(1);
        await sleep(20);
      } finally {
        c.close();
      }
    },
  );
  assert.equal(closed, 'readable=false writable=false');
});
