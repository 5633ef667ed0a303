// Connection and server limits over real sockets: 431 for oversized params, OVERLOADED + 503 past
// the per-connection and server-wide request limits.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { createFcgiServer, type FcgiRequest, type FcgiResponse, type ServerOptions } from '@fcgi/core';
import {
  RecordType,
  Status,
  encodeBeginRequest,
  encodeNameValues,
  encodeRecord,
  encodeStream,
} from '@fcgi/core/protocol';
import { listenForTest, parseCgi, type RawClient } from './helpers/raw-client.js';

/** A server whose /hold requests wait for release(); others answer at once. */
async function start(kind: 'unix' | 'tcp', options: ServerOptions) {
  let open!: () => void;
  const released = new Promise<void>((resolve) => (open = resolve));
  const calls: string[] = [];
  const server = createFcgiServer(
    async (req: FcgiRequest, res: FcgiResponse) => {
      calls.push(req.url);
      if (req.url.startsWith('/hold')) await released;
      res.setHeader('Content-Type', 'text/plain');
      res.end(`done ${req.url}`);
    },
    { onConnectionError: () => {}, ...options },
  );
  const l = await listenForTest(server, kind);
  return { server, l, calls, release: open };
}

const statusOf = (c: RawClient, id: number) => parseCgi(c.replyOf(id).stdout).status;
const bodyOf = (c: RawClient, id: number) => parseCgi(c.replyOf(id).stdout).body.toString();
const idsOf = (c: RawClient, id: number) => c.records.filter((r) => r.requestId === id).map((r) => r.type);

for (const kind of ['unix', 'tcp'] as const) {
  describe(`limits over ${kind}`, () => {
    test('params over maxParamsBytes get 431, without the handler; the connection serves on', {
      timeout: 5000,
    }, async () => {
      const s = await start(kind, { maxParamsBytes: 1024 });
      try {
        const c = await s.l.connect();
        // Over the limit in several records, then the rest of the request as a web server would send it.
        const params = encodeNameValues({ REQUEST_URI: '/big', HTTP_COOKIE: 'c'.repeat(2000) });
        c.write(encodeBeginRequest(1, 1, true));
        for (let at = 0; at < params.length; at += 500)
          c.write(encodeRecord(RecordType.PARAMS, 1, params.subarray(at, at + 500)));
        c.write(encodeRecord(RecordType.PARAMS, 1));
        c.write(encodeStream(RecordType.STDIN, 1, Buffer.from('body')));
        const reply = await c.reply(1);
        assert.equal(statusOf(c, 1), 431);
        assert.equal(reply.protocolStatus, Status.REQUEST_COMPLETE);
        await sleep(100);
        assert.deepEqual(
          idsOf(c, 1).slice(-2),
          [RecordType.STDOUT, RecordType.END_REQUEST],
          'nothing after END_REQUEST',
        );
        // Just under the limit is fine, on the same connection.
        c.clear();
        c.sendRequest(2, { REQUEST_URI: '/fits', HTTP_COOKIE: 'c'.repeat(900) }, Buffer.alloc(0), true);
        await c.reply(2);
        assert.equal(bodyOf(c, 2), 'done /fits');
        assert.deepEqual(s.calls, ['/fits']);
      } finally {
        await s.l.stop();
      }
    });

    test('more than maxParams pairs get 431; exactly maxParams is served', { timeout: 5000 }, async () => {
      const s = await start(kind, { maxParams: 10 });
      try {
        const c = await s.l.connect();
        const many = (n: number) =>
          Object.fromEntries([
            ['REQUEST_URI', `/n${n}`],
            ...Array.from({ length: n - 1 }, (_, i) => [`HTTP_X_${i}`, 'v']),
          ]);
        c.sendRequest(1, many(11), Buffer.alloc(0), true);
        await c.reply(1);
        assert.equal(statusOf(c, 1), 431);
        c.clear();
        c.sendRequest(1, many(10), Buffer.alloc(0), true);
        await c.reply(1);
        assert.equal(bodyOf(c, 1), 'done /n10');
        assert.deepEqual(s.calls, ['/n10']);
      } finally {
        await s.l.stop();
      }
    });

    test('a request past maxRequestsPerConnection gets OVERLOADED and a 503; the others complete', {
      timeout: 5000,
    }, async () => {
      const s = await start(kind, { maxRequestsPerConnection: 2 });
      try {
        const c = await s.l.connect();
        c.sendRequest(1, { REQUEST_URI: '/hold1' }, Buffer.alloc(0), true);
        c.sendRequest(2, { REQUEST_URI: '/hold2' }, Buffer.alloc(0), true);
        c.sendRequest(3, { REQUEST_URI: '/hold3' }, Buffer.alloc(0), true);
        const third = await c.reply(3);
        assert.equal(third.protocolStatus, Status.OVERLOADED);
        assert.equal(statusOf(c, 3), 503);
        assert.equal(
          c.records.some((r) => r.requestId !== 3),
          false,
          'the first two are still running',
        );
        s.release();
        await c.reply(1);
        await c.reply(2);
        for (const id of [1, 2]) {
          assert.equal(c.replyOf(id).protocolStatus, Status.REQUEST_COMPLETE);
          assert.equal(bodyOf(c, id), `done /hold${id}`);
        }
        assert.deepEqual(s.calls, ['/hold1', '/hold2']);
        // With room again, the connection takes a new request.
        c.clear();
        c.sendRequest(3, { REQUEST_URI: '/later' }, Buffer.alloc(0), true);
        await c.reply(3);
        assert.equal(bodyOf(c, 3), 'done /later');
      } finally {
        s.release();
        await s.l.stop();
      }
    });

    test('a request past the server-wide maxRequests gets OVERLOADED and a 503; the others complete', {
      timeout: 5000,
    }, async () => {
      const s = await start(kind, { maxRequests: 2 });
      try {
        const a = await s.l.connect();
        const b = await s.l.connect();
        const c = await s.l.connect();
        a.sendRequest(1, { REQUEST_URI: '/hold-a' });
        b.sendRequest(1, { REQUEST_URI: '/hold-b' });
        await sleep(50);
        assert.equal(s.server.activeRequests, 2);
        c.sendRequest(1, { REQUEST_URI: '/hold-c' });
        const over = await c.reply(1);
        assert.equal(over.protocolStatus, Status.OVERLOADED);
        assert.equal(statusOf(c, 1), 503);
        await c.closedByPeer(); // no KEEP_CONN: the connection closes after its END_REQUEST, as usual
        s.release();
        await a.reply(1);
        await b.reply(1);
        assert.equal(bodyOf(a, 1), 'done /hold-a');
        assert.equal(bodyOf(b, 1), 'done /hold-b');
        assert.deepEqual(s.calls.sort(), ['/hold-a', '/hold-b']);
        await sleep(20);
        assert.equal(s.server.activeRequests, 0, 'the rejected request does not leak a slot');
        const d = await s.l.connect();
        d.sendRequest(1, { REQUEST_URI: '/after' });
        await d.reply(1);
        assert.equal(bodyOf(d, 1), 'done /after');
      } finally {
        s.release();
        await s.l.stop();
      }
    });

    test('too much STDIN before the params end closes the connection', { timeout: 5000 }, async () => {
      const s = await start(kind, { maxEarlyStdinBytes: 1000 });
      try {
        const c = await s.l.connect();
        c.write(encodeBeginRequest(1, 1, true));
        c.write(encodeRecord(RecordType.STDIN, 1, Buffer.alloc(1001)));
        await c.closedByPeer(3000);
        assert.deepEqual(s.calls, []);
        const d = await s.l.connect();
        d.sendRequest(1, { REQUEST_URI: '/next' }, Buffer.alloc(1001));
        await d.reply(1);
        assert.equal(bodyOf(d, 1), 'done /next');
      } finally {
        await s.l.stop();
      }
    });
  });
}
