// The FastCGI client against our own server over real sockets: params, streamed bodies both ways
// with backpressure, CGI header mapping, STDERR, connection reuse and the pool's bounds.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { createFcgiServer, type FcgiRequest, type FcgiResponse } from '@fcgi/core';
import { FcgiClient, type FcgiClientOptions } from '@fcgi/core';
import { listenForTest } from './helpers/raw-client.js';

type Handler = (req: FcgiRequest, res: FcgiResponse) => unknown;

/** Our server on a unix socket (or TCP), counting the connections it accepts. */
async function serve(handler: Handler, kind: 'unix' | 'tcp' = 'unix') {
  const server = createFcgiServer(handler, { onConnectionError: () => {} });
  const seen = { total: 0, open: 0, maxOpen: 0 };
  server.net.on('connection', (socket) => {
    seen.total++;
    seen.maxOpen = Math.max(seen.maxOpen, ++seen.open);
    socket.once('close', () => seen.open--);
  });
  const l = await listenForTest(server, kind);
  return { target: l.target, seen, stop: () => l.stop() };
}

async function withClient(
  handler: Handler,
  options: Partial<FcgiClientOptions>,
  fn: (client: FcgiClient, s: Awaited<ReturnType<typeof serve>>) => Promise<void>,
  kind: 'unix' | 'tcp' = 'unix',
) {
  const s = await serve(handler, kind);
  const client = new FcgiClient({ target: s.target, ...options });
  try {
    await fn(client, s);
  } finally {
    await client.close();
    await s.stop();
  }
}

const echoEnviron: Handler = async (req, res) => {
  const body = await req.text();
  res.setHeader('Content-Type', 'application/json');
  res.end(JSON.stringify({ method: req.method, url: req.url, environ: req.environ, body }));
};

/** Deterministic bytes, produced in 64 KiB chunks only as fast as they are read. */
function source(total: number, onProduce: (n: number) => void): Readable {
  let made = 0;
  return new Readable({
    read() {
      if (made >= total) return void this.push(null);
      const n = Math.min(64 * 1024, total - made);
      const chunk = Buffer.alloc(n);
      for (let i = 0; i < n; i++) chunk[i] = ((made + i) * 31) % 251;
      made += n;
      onProduce(made);
      this.push(chunk);
    },
  });
}

function sha256(buf: Buffer): string {
  return createHash('sha256').update(buf).digest('hex');
}

for (const kind of ['unix', 'tcp'] as const) {
  test(`GET with params over ${kind}, object and list params, a 100 KB param split over records`, {
    timeout: 10_000,
  }, async () => {
    await withClient(
      echoEnviron,
      {},
      async (client, s) => {
        const res = await client.request({
          params: { REQUEST_METHOD: 'GET', REQUEST_URI: '/hello?x=1', QUERY_STRING: 'x=1', HTTP_X_A: 'b' },
        });
        assert.equal(res.status, 200);
        assert.equal(res.statusText, 'OK');
        assert.equal(res.headers['content-type'], 'application/json');
        const got = JSON.parse(await res.text());
        assert.equal(got.method, 'GET');
        assert.equal(got.url, '/hello?x=1');
        assert.equal(got.environ.HTTP_X_A, 'b');
        assert.equal(got.environ.CONTENT_LENGTH, undefined, 'no body, no CONTENT_LENGTH added');
        assert.deepEqual(await res.done, { appStatus: 0, protocolStatus: 0 });

        const big = 'v'.repeat(100_000);
        const res2 = await client.request({
          params: [
            ['REQUEST_METHOD', 'POST'],
            ['REQUEST_URI', '/big'],
            ['X_BIG', big],
          ],
          body: 'abc',
        });
        const got2 = JSON.parse(await res2.text());
        assert.equal(got2.environ.X_BIG, big);
        assert.equal(got2.environ.CONTENT_LENGTH, '3', 'CONTENT_LENGTH added for a known-length body');
        assert.equal(got2.body, 'abc');
        assert.equal(s.seen.total, 1);
      },
      kind,
    );
  });
}

test('a 5 MB POST streamed from a Readable reaches the handler whole, never far ahead of it', {
  timeout: 30_000,
}, async () => {
  const total = 5 * 1024 * 1024;
  let produced = 0;
  let received = 0;
  let maxLag = 0;
  await withClient(
    async (req, res) => {
      const hash = createHash('sha256');
      for await (const chunk of req as AsyncIterable<Buffer>) {
        received += chunk.length;
        hash.update(chunk);
        await sleep(1); // a slow reader: the client must not run ahead of it
      }
      res.end(`${received} ${hash.digest('hex')}`);
    },
    {},
    async (client) => {
      const expected = createHash('sha256');
      for await (const c of source(total, () => {}) as AsyncIterable<Buffer>) expected.update(c);
      const body = source(total, (n) => {
        produced = n;
        maxLag = Math.max(maxLag, produced - received);
      });
      const res = await client.request({ params: { REQUEST_METHOD: 'POST', CONTENT_LENGTH: String(total) }, body });
      assert.equal(await res.text(), `${total} ${expected.digest('hex')}`);
      assert.ok(maxLag < 1.5 * 1024 * 1024, `the client read ${maxLag} bytes ahead of the handler`);
    },
  );
});

test('a 3 MB response streamed to a slow consumer: the server is held back, memory stays bounded', {
  timeout: 30_000,
}, async () => {
  const total = 3 * 1024 * 1024;
  const data = Buffer.alloc(total);
  for (let i = 0; i < total; i++) data[i] = i % 253;
  let written = 0;
  await withClient(
    async (_req, res) => {
      res.setHeader('Content-Type', 'application/octet-stream');
      for (let at = 0; at < total; at += 32 * 1024) {
        written = Math.min(total, at + 32 * 1024);
        if (!res.write(data.subarray(at, written))) await once(res, 'drain');
      }
      res.end();
    },
    { bodyHighWaterMark: 16 * 1024 },
    async (client) => {
      const res = await client.request({ params: { REQUEST_METHOD: 'GET' } });
      const chunks: Buffer[] = [];
      let consumed = 0;
      let maxLag = 0;
      // A slow sink: each piece (as the socket delivered it) takes 3 ms.
      await pipeline(
        res.body,
        new Writable({
          highWaterMark: 16 * 1024,
          write(chunk: Buffer, _enc, cb) {
            chunks.push(chunk);
            consumed += chunk.length;
            maxLag = Math.max(maxLag, written - consumed);
            setTimeout(cb, 3);
          },
        }),
      );
      assert.equal(sha256(Buffer.concat(chunks)), sha256(data));
      assert.ok(maxLag < 1.5 * 1024 * 1024, `the server got ${maxLag} bytes ahead of the consumer`);
      await res.done;
    },
  );
});

test('Set-Cookie twice, a custom status, and Location without Status mapped to 302', { timeout: 10_000 }, async () => {
  await withClient(
    (req, res) => {
      if (req.url === '/raw-location') {
        // Our server always writes a Status; write a bare CGI block as many applications do.
        res.stdout.end('Location: /elsewhere\r\nContent-Type: text/plain\r\n\r\n');
        return;
      }
      res.appendHeader('Set-Cookie', 'a=1; Path=/');
      res.appendHeader('Set-Cookie', 'b=2; HttpOnly');
      res.writeHead(299, 'Custom Reason', { 'X-One': '1' });
      res.end('ok');
    },
    {},
    async (client) => {
      const res = await client.request({ params: { REQUEST_URI: '/cookies' } });
      assert.equal(res.status, 299);
      assert.equal(res.statusText, 'Custom Reason');
      assert.deepEqual(res.headers['set-cookie'], ['a=1; Path=/', 'b=2; HttpOnly']);
      assert.equal(res.headers['x-one'], '1');
      assert.equal(res.headers.status, undefined, 'Status is not a header');
      assert.deepEqual(
        res.rawHeaders.filter(([n]) => n.toLowerCase() === 'set-cookie').map(([, v]) => v),
        ['a=1; Path=/', 'b=2; HttpOnly'],
      );
      assert.equal(await res.text(), 'ok');

      const moved = await client.request({ params: { REQUEST_URI: '/raw-location' } });
      assert.equal(moved.status, 302);
      assert.equal(moved.headers.location, '/elsewhere');
      assert.equal(await moved.text(), '');
    },
  );
});

test('STDERR is collected on the response and emitted as it comes', { timeout: 10_000 }, async () => {
  await withClient(
    async (_req, res) => {
      res.stderr.write('before the headers\n');
      res.write('part1');
      await sleep(100);
      res.stderr.write('after the headers\n');
      res.end('part2');
    },
    {},
    async (client) => {
      const res = await client.request({ params: {} });
      const events: string[] = [];
      res.on('stderr', (t) => events.push(t));
      assert.equal(await res.text(), 'part1part2');
      assert.deepEqual(events, ['after the headers\n']);
      assert.equal(res.stderr, 'before the headers\nafter the headers\n');
    },
  );
});

test('bad params or body are refused before anything is sent', { timeout: 5000 }, async () => {
  await withClient(echoEnviron, {}, async (client, s) => {
    await assert.rejects(client.request({ params: { A: 1 as unknown as string } }), TypeError);
    await assert.rejects(client.request({ params: {}, body: 42 as unknown as string }), TypeError);
    assert.equal(s.seen.total, 0);
  });
});

describe('connections', () => {
  test('keep-conn: 20 sequential requests use one connection', { timeout: 10_000 }, async () => {
    await withClient(echoEnviron, {}, async (client, s) => {
      for (let i = 0; i < 20; i++) {
        const res = await client.request({ params: { REQUEST_URI: `/n/${i}` } });
        assert.equal(JSON.parse(await res.text()).url, `/n/${i}`);
      }
      assert.equal(s.seen.total, 1);
      assert.deepEqual(client.stats, { idle: 1, busy: 0, connecting: 0, queued: 0 });
    });
  });

  test('without keep-conn every request gets its own connection, which is closed after it', {
    timeout: 10_000,
  }, async () => {
    await withClient(echoEnviron, { keepConn: false }, async (client, s) => {
      for (let i = 0; i < 3; i++) await (await client.request({ params: {} })).text();
      assert.equal(s.seen.total, 3);
      assert.equal(client.stats.idle, 0);
      for (let i = 0; i < 50 && s.seen.open > 0; i++) await sleep(10);
      assert.equal(s.seen.open, 0);
    });
  });

  test('maxConnections=2: 6 concurrent slow requests queue and never open a third connection', {
    timeout: 10_000,
  }, async () => {
    let running = 0;
    let maxRunning = 0;
    await withClient(
      async (req, res) => {
        maxRunning = Math.max(maxRunning, ++running);
        await sleep(150);
        running--;
        res.end(req.url);
      },
      { maxConnections: 2 },
      async (client, s) => {
        const all = Array.from({ length: 6 }, (_, i) =>
          client.request({ params: { REQUEST_URI: `/slow/${i}` } }).then((r) => r.text()),
        );
        await sleep(50);
        assert.equal(client.stats.queued, 4);
        assert.deepEqual(
          await Promise.all(all),
          [0, 1, 2, 3, 4, 5].map((i) => `/slow/${i}`),
        );
        assert.equal(s.seen.maxOpen, 2);
        assert.equal(s.seen.total, 2);
        assert.equal(maxRunning, 2);
      },
    );
  });

  test('a full queue refuses the request', { timeout: 10_000 }, async () => {
    await withClient(
      async (_req, res) => {
        await sleep(100);
        res.end('x');
      },
      { maxConnections: 1, maxQueue: 1 },
      async (client) => {
        const a = client.request({ params: {} });
        const b = client.request({ params: {} });
        await assert.rejects(client.request({ params: {} }), { code: 'ERR_FCGI_CLIENT_QUEUE_FULL' });
        assert.equal(await (await a).text(), 'x');
        assert.equal(await (await b).text(), 'x');
      },
    );
  });

  test('an application that answers before reading the whole body: the source stops, the connection is not reused', {
    timeout: 10_000,
  }, async () => {
    await withClient(
      (_req, res) => {
        res.status(413).end('too big');
      },
      {},
      async (client, s) => {
        const body = source(4 * 1024 * 1024, () => {});
        const res = await client.request({ params: { REQUEST_METHOD: 'POST' }, body });
        assert.equal(res.status, 413);
        assert.equal(await res.text(), 'too big');
        await res.done;
        await sleep(20);
        assert.ok(body.destroyed, 'the rest of the body is not read');
        assert.equal(client.stats.idle, 0);
        await (await client.request({ params: {} })).text();
        assert.equal(s.seen.total, 2);
      },
    );
  });

  test('close() destroys idle connections, waits for busy ones, then refuses requests', {
    timeout: 10_000,
  }, async () => {
    await withClient(
      async (_req, res) => {
        await sleep(200);
        res.end('late');
      },
      { maxConnections: 2 },
      async (client, s) => {
        // Two at once leave two idle connections; one of them then serves a slow request.
        await Promise.all([1, 2].map(async () => (await client.request({ params: {} })).text()));
        assert.equal(client.stats.idle, 2);
        const busy = client.request({ params: {} });
        await sleep(20);
        const closing = client.close();
        for (let i = 0; i < 50 && s.seen.open > 1; i++) await sleep(5);
        assert.equal(s.seen.open, 1, 'the idle connection closes at once');
        const res = await busy;
        assert.equal(await res.text(), 'late');
        await closing;
        await assert.rejects(client.request({ params: {} }), { code: 'ERR_FCGI_CLIENT_CLOSED' });
        for (let i = 0; i < 50 && s.seen.open > 0; i++) await sleep(10);
        assert.equal(s.seen.open, 0);
      },
    );
  });
});
