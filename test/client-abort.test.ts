// The FastCGI client when things stop early: abort by signal or by destroying the body, timeouts,
// applications that ignore ABORT_REQUEST, break the protocol or hang up, and stale connections.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { createFcgiServer, type FcgiRequest, type FcgiResponse } from '@fcgi/core';
import {
  RecordType,
  RecordParser,
  Status,
  decodeNameValues,
  encodeEndRequest,
  encodeStream,
} from '@fcgi/core/protocol';
import { FcgiClient, type FcgiClientOptions } from '@fcgi/core';
import { listenForTest } from './helpers/raw-client.js';

type Handler = (req: FcgiRequest, res: FcgiResponse) => unknown;
const noop = () => {};

async function listenUnix(server: Server, prefix: string) {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  const path = join(dir, 's.sock');
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(path, resolve));
  return { path, dir };
}

/**
 * Our server behind a byte-for-byte proxy that records the type of every record going each way,
 * so a test can count ABORT_REQUEST and END_REQUEST on the wire.
 */
async function serveRecorded(handler: Handler) {
  const app = await listenForTest(createFcgiServer(handler, { onConnectionError: noop }), 'unix');
  const toApp: number[] = [];
  const toClient: number[] = [];
  const sockets = new Set<Socket>();
  let connections = 0;
  const proxy = createServer((down) => {
    connections++;
    const up = connect(app.target as string);
    for (const s of [down, up]) {
      sockets.add(s);
      s.on('error', noop);
    }
    const fromClient = new RecordParser({ record: (type) => void toApp.push(type) });
    const fromApp = new RecordParser({ record: (type) => void toClient.push(type) });
    down.on('data', (c: Buffer) => {
      fromClient.push(c);
      up.write(c);
    });
    up.on('data', (c: Buffer) => {
      fromApp.push(c);
      down.write(c);
    });
    down.on('close', () => up.destroy());
    up.on('close', () => down.destroy());
  });
  const { path, dir } = await listenUnix(proxy, 'fcgi-proxy-');
  return {
    target: path,
    toApp,
    toClient,
    get connections() {
      return connections;
    },
    count: (list: number[], type: number) => list.filter((t) => t === type).length,
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise((r) => proxy.close(r));
      await app.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A raw FastCGI peer: `behave` gets each request's REQUEST_URI and the socket, and writes what it likes. */
async function rawPeer(behave: (uri: string, sock: Socket, nth: number) => void) {
  const sockets = new Set<Socket>();
  let connections = 0;
  const server = createServer((sock) => {
    connections++;
    sockets.add(sock);
    sock.on('error', noop);
    let params: Buffer[] = [];
    let nth = 0;
    const parser = new RecordParser({
      record(type, _id, content) {
        if (type !== RecordType.PARAMS) return;
        if (content.length > 0) return void params.push(Buffer.from(content));
        const env = decodeNameValues(Buffer.concat(params));
        params = [];
        behave(env.REQUEST_URI ?? '', sock, ++nth);
      },
    });
    sock.on('data', (c: Buffer) => parser.push(c));
  });
  const { path, dir } = await listenUnix(server, 'fcgi-peer-');
  return {
    target: path,
    get connections() {
      return connections;
    },
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function answer(sock: Socket, text: string, protocolStatus: number = Status.REQUEST_COMPLETE): void {
  sock.write(
    Buffer.concat([
      text ? encodeStream(RecordType.STDOUT, 1, Buffer.from(text)) : Buffer.alloc(0),
      encodeEndRequest(1, 0, protocolStatus),
    ]),
  );
}

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([
    p,
    sleep(ms).then(() => {
      throw new Error(`${what}: not within ${ms} ms`);
    }),
  ]);
}

/** A handler that sends its headers and a first piece, then waits for the abort; `aborted` resolves then. */
function hangingHandler() {
  let fired!: () => void;
  const aborted = new Promise<void>((resolve) => (fired = resolve));
  const handler: Handler = async (req, res) => {
    if (req.url === '/quick') return void res.end('quick');
    req.signal.addEventListener('abort', () => fired());
    if (req.url !== '/silent') res.write('part1');
    await aborted;
    res.end('never seen');
  };
  return { handler, aborted };
}

async function untilTrue(pred: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`);
    await sleep(10);
  }
}

async function withProxyClient(
  handler: Handler,
  options: Partial<FcgiClientOptions>,
  fn: (client: FcgiClient, p: Awaited<ReturnType<typeof serveRecorded>>) => Promise<void>,
) {
  const p = await serveRecorded(handler);
  const client = new FcgiClient({ target: p.target, ...options });
  try {
    await fn(client, p);
  } finally {
    await client.close();
    await p.stop();
  }
}

test('abort mid-response: one ABORT_REQUEST, the handler sees it, one END_REQUEST, then a new connection', {
  timeout: 10_000,
}, async () => {
  const { handler, aborted } = hangingHandler();
  await withProxyClient(handler, {}, async (client, p) => {
    const ac = new AbortController();
    const res = await client.request({ params: { REQUEST_URI: '/hang' }, signal: ac.signal });
    const it = res.body[Symbol.asyncIterator]();
    assert.equal(String((await it.next()).value), 'part1');
    ac.abort();
    await assert.rejects(it.next(), { name: 'AbortError', code: 'ABORT_ERR' });
    await assert.rejects(res.done, { name: 'AbortError' });
    await within(aborted, 2000, "the handler's req.signal");
    await untilTrue(() => p.count(p.toClient, RecordType.END_REQUEST) === 1, 2000);
    await sleep(100); // the handler's late res.end() must not produce a second END_REQUEST
    assert.equal(p.count(p.toApp, RecordType.ABORT_REQUEST), 1);
    assert.equal(p.count(p.toClient, RecordType.END_REQUEST), 1);
    const next = await client.request({ params: { REQUEST_URI: '/quick' } });
    assert.equal(await next.text(), 'quick');
    assert.equal(p.connections, 2, 'a connection that saw an abort is not reused');
  });
});

test('destroying the response body aborts the request', { timeout: 10_000 }, async () => {
  const { handler, aborted } = hangingHandler();
  await withProxyClient(handler, {}, async (client, p) => {
    const res = await client.request({ params: { REQUEST_URI: '/hang' } });
    res.body.destroy();
    await assert.rejects(res.done, { name: 'AbortError' });
    await within(aborted, 2000, "the handler's req.signal");
    await untilTrue(() => p.count(p.toClient, RecordType.END_REQUEST) === 1, 2000);
    assert.equal(p.count(p.toApp, RecordType.ABORT_REQUEST), 1);
  });
});

test('timeout before and after the header block: TimeoutError, and the handler is aborted', {
  timeout: 10_000,
}, async () => {
  const first = hangingHandler();
  await withProxyClient(first.handler, {}, async (client) => {
    const t0 = Date.now();
    await assert.rejects(client.request({ params: { REQUEST_URI: '/silent' }, timeout: 300 }), {
      name: 'TimeoutError',
      code: 'ERR_FCGI_CLIENT_TIMEOUT',
    });
    const took = Date.now() - t0;
    assert.ok(took >= 280 && took < 2000, `timed out after ${took} ms`);
    await within(first.aborted, 2000, "the handler's req.signal");
  });
  const second = hangingHandler();
  await withProxyClient(second.handler, { timeout: 300 }, async (client) => {
    const res = await client.request({ params: { REQUEST_URI: '/hang' } });
    assert.equal(res.status, 200);
    await assert.rejects(res.text(), { name: 'TimeoutError' });
    await within(second.aborted, 2000, "the handler's req.signal");
  });
});

test('abort while waiting for a connection, and with a signal aborted already', { timeout: 10_000 }, async () => {
  let started = 0;
  await withProxyClient(
    async (_req, res) => {
      started++;
      await sleep(200);
      res.end('done');
    },
    { maxConnections: 1 },
    async (client, p) => {
      const busy = client.request({ params: {} });
      const ac = new AbortController();
      const queued = client.request({ params: {}, signal: ac.signal });
      await sleep(30);
      assert.equal(client.stats.queued, 1);
      ac.abort(new Error('changed my mind'));
      await assert.rejects(
        queued,
        (err: Error) => err.name === 'AbortError' && (err.cause as Error).message === 'changed my mind',
      );
      assert.equal(client.stats.queued, 0);
      await assert.rejects(client.request({ params: {}, signal: AbortSignal.abort() }), { name: 'AbortError' });
      assert.equal(await (await busy).text(), 'done');
      assert.equal(started, 1);
      assert.equal(p.count(p.toApp, RecordType.BEGIN_REQUEST), 1);
    },
  );
});

test('a body stream that fails mid-way fails the request with its error and aborts the handler', {
  timeout: 10_000,
}, async () => {
  let fired!: () => void;
  const aborted = new Promise<void>((resolve) => (fired = resolve));
  await withProxyClient(
    async (req, res) => {
      req.signal.addEventListener('abort', () => fired());
      req.on('error', noop);
      await aborted;
      res.end('never seen');
    },
    {},
    async (client, p) => {
      let n = 0;
      const body = new Readable({
        read() {
          if (++n > 3) return void this.destroy(new Error('disk on fire'));
          this.push(Buffer.alloc(10_000, n));
        },
      });
      await assert.rejects(client.request({ params: { REQUEST_METHOD: 'POST' }, body }), { message: 'disk on fire' });
      await within(aborted, 2000, "the handler's req.signal");
      await untilTrue(() => p.count(p.toClient, RecordType.END_REQUEST) === 1, 2000);
      assert.equal(p.count(p.toApp, RecordType.ABORT_REQUEST), 1);
    },
  );
});

test('an application that ignores ABORT_REQUEST: the connection is destroyed after abortTimeout', {
  timeout: 10_000,
}, async () => {
  const peer = await rawPeer((uri, sock) => {
    if (uri === '/ok') answer(sock, 'Content-Type: text/plain\r\n\r\nfine');
    else sock.write(encodeStream(RecordType.STDOUT, 1, Buffer.from('Content-Type: text/plain\r\n\r\nstart'), false));
  });
  const client = new FcgiClient({ target: peer.target, abortTimeout: 300 });
  try {
    const ac = new AbortController();
    const res = await client.request({ params: { REQUEST_URI: '/deaf' }, signal: ac.signal });
    ac.abort();
    await assert.rejects(res.done, { name: 'AbortError' });
    assert.equal(client.stats.busy, 1, 'held while END_REQUEST may still come');
    await untilTrue(() => client.stats.busy === 0, 2000);
    assert.equal(client.stats.idle, 0);
    assert.equal(await (await client.request({ params: { REQUEST_URI: '/ok' } })).text(), 'fine');
    assert.equal(peer.connections, 2);
  } finally {
    await client.close();
    await peer.stop();
  }
});

test('protocol errors, hang-ups and bad header blocks fail that request only', { timeout: 10_000 }, async () => {
  const peer = await rawPeer((uri, sock) => {
    switch (uri) {
      case '/ok':
        return void setTimeout(() => answer(sock, 'Content-Type: text/plain\r\n\r\nfine'), 100);
      case '/garbage':
        return void sock.write(Buffer.from([2, 6, 0, 1, 0, 0, 0, 0]));
      case '/cut':
        sock.write(encodeStream(RecordType.STDOUT, 1, Buffer.from('Content-Type: text/plain\r\n\r\npartial'), false));
        return void setTimeout(() => sock.destroy(), 20);
      case '/no-head':
        return answer(sock, '');
      case '/half-head':
        return answer(sock, 'Content-Type: text/plain\r\n');
      case '/overloaded':
        return answer(sock, '', Status.OVERLOADED);
      case '/bad-line':
        return answer(sock, 'this is not a header\r\n\r\n');
      case '/huge-head':
        return answer(sock, `X-Big: ${'a'.repeat(70_000)}\r\n\r\n`);
    }
  });
  const client = new FcgiClient({ target: peer.target, maxConnections: 2 });
  try {
    const ok = client.request({ params: { REQUEST_URI: '/ok' } });
    await assert.rejects(client.request({ params: { REQUEST_URI: '/garbage' } }), { code: 'ERR_FCGI_CLIENT_PROTOCOL' });
    const res = await ok;
    assert.equal(await res.text(), 'fine', 'the request on the other connection is unharmed');

    const cut = await client.request({ params: { REQUEST_URI: '/cut' } });
    await assert.rejects(cut.text(), { code: 'ERR_FCGI_CLIENT_CONNECTION_LOST' });
    await assert.rejects(cut.done, { code: 'ERR_FCGI_CLIENT_CONNECTION_LOST' });
    for (const uri of ['/no-head', '/half-head', '/bad-line', '/huge-head']) {
      await assert.rejects(
        client.request({ params: { REQUEST_URI: uri } }),
        { code: 'ERR_FCGI_CLIENT_BAD_RESPONSE' },
        uri,
      );
    }
    await assert.rejects(client.request({ params: { REQUEST_URI: '/overloaded' } }), {
      code: 'ERR_FCGI_CLIENT_REJECTED',
    });
    assert.equal(await (await client.request({ params: { REQUEST_URI: '/ok' } })).text(), 'fine');
  } finally {
    await client.close();
    await peer.stop();
  }
});

test('a kept connection the application dropped is detected and the request sent again on a new one', {
  timeout: 10_000,
}, async () => {
  // The peer hangs up without a word on the second request of each connection (an app that died).
  const peer = await rawPeer((uri, sock, nth) => {
    if (nth === 2) return void sock.destroy();
    answer(sock, `Content-Type: text/plain\r\n\r\n${uri}`);
  });
  const client = new FcgiClient({ target: peer.target });
  try {
    assert.equal(await (await client.request({ params: { REQUEST_URI: '/one' } })).text(), '/one');
    assert.equal(await (await client.request({ params: { REQUEST_URI: '/two' }, body: 'replayable' })).text(), '/two');
    assert.equal(peer.connections, 2);
  } finally {
    await client.close();
    await peer.stop();
  }
});

test('connecting to nothing fails with the socket error, and leaves the pool empty', { timeout: 10_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'fcgi-none-'));
  try {
    const client = new FcgiClient({ target: join(dir, 'absent.sock') });
    await assert.rejects(client.request({ params: {} }), { code: 'ENOENT' });
    assert.deepEqual(client.stats, { idle: 0, busy: 0, connecting: 0, queued: 0 });
    await client.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
