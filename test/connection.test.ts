// Connection layer over real sockets: FCGI_KEEP_CONN, multiplexing, management records, roles.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as tick, setTimeout as sleep } from 'node:timers/promises';
import { createFcgiServer, type FcgiRequest, type FcgiResponse, type ServerOptions } from '@fcgi/core';
import {
  RecordType,
  Status,
  decodeNameValues,
  encodeBeginRequest,
  encodeNameValues,
  encodeRecord,
  encodeStream,
} from '@fcgi/core/protocol';
import { FrameLog, listenForTest, parseCgi, type RawClient, type TestListen } from './helpers/raw-client.js';

type Handler = (req: FcgiRequest, res: FcgiResponse) => unknown;

/** Answers "<id> <url> <body>" once the whole body is read. */
const echo: Handler = async (req, res) => {
  const body = await req.text();
  res.setHeader('Content-Type', 'text/plain');
  res.end(`${req.requestId} ${req.url} ${body}`);
};

async function serve(kind: 'unix' | 'tcp', handler: Handler, options: ServerOptions = {}): Promise<TestListen> {
  return listenForTest(createFcgiServer(handler, { onConnectionError: () => {}, ...options }), kind);
}

function body(c: RawClient, id: number): string {
  return parseCgi(c.replyOf(id).stdout).body.toString();
}

const endCount = (c: RawClient, id: number) =>
  c.records.filter((r) => r.type === RecordType.END_REQUEST && r.requestId === id).length;

for (const kind of ['unix', 'tcp'] as const) {
  describe(`connection over ${kind}`, () => {
    test('without FCGI_KEEP_CONN the server closes after END_REQUEST', { timeout: 5000 }, async () => {
      const l = await serve(kind, echo);
      try {
        const c = await l.connect();
        c.sendRequest(1, { REQUEST_URI: '/once' }, Buffer.from('x'), false);
        await c.reply(1);
        assert.equal(body(c, 1), '1 /once x');
        await c.closedByPeer(2000);
        assert.equal(c.error, null);
      } finally {
        await l.stop();
      }
    });

    test('with FCGI_KEEP_CONN the connection stays open for more requests', { timeout: 5000 }, async () => {
      const l = await serve(kind, echo);
      try {
        const c = await l.connect();
        c.sendRequest(1, { REQUEST_URI: '/a' }, Buffer.from('one'), true);
        await c.reply(1);
        assert.equal(body(c, 1), '1 /a one');
        await sleep(200);
        assert.equal(c.closed, false, 'a kept connection must stay open');
        c.clear();
        c.sendRequest(1, { REQUEST_URI: '/b' }, Buffer.from('two'), true); // the same id again
        await c.reply(1);
        assert.equal(body(c, 1), '1 /b two');
        c.clear();
        c.sendRequest(2, { REQUEST_URI: '/c' }, Buffer.from('three'), false); // last one, no keep-conn
        await c.reply(2);
        assert.equal(body(c, 2), '2 /c three');
        await c.closedByPeer(2000);
      } finally {
        await l.stop();
      }
    });

    test('two multiplexed requests run concurrently, records interleaved both ways', { timeout: 10000 }, async () => {
      let secondStarted!: () => void;
      const started = new Promise<void>((resolve) => (secondStarted = resolve));
      const l = await serve(kind, async (req, res) => {
        if (req.url === '/second') secondStarted();
        else await started; // the first cannot finish unless the second runs meanwhile
        const input = await req.text();
        // Both write many pieces, yielding between them, so their records interleave on the socket.
        const fill = req.url === '/first' ? 'a' : 'b';
        res.setHeader('Content-Type', 'text/plain');
        for (let i = 0; i < 100; i++) {
          res.write(`${fill.repeat(2999)}\n`);
          await tick();
        }
        res.end(`end ${input}`);
      });
      try {
        const c = await l.connect();
        const frames = new FrameLog(c.socket);
        const p1 = encodeNameValues({ REQUEST_URI: '/first', REQUEST_METHOD: 'POST' });
        const p2 = encodeNameValues({ REQUEST_URI: '/second', REQUEST_METHOD: 'POST' });
        c.write(encodeBeginRequest(1, 1, true));
        c.write(encodeBeginRequest(2, 1, true));
        c.write(encodeRecord(RecordType.PARAMS, 1, p1.subarray(0, 5)));
        c.write(encodeRecord(RecordType.PARAMS, 2, p2.subarray(0, 7)));
        c.write(encodeRecord(RecordType.PARAMS, 1, p1.subarray(5)));
        c.write(encodeRecord(RecordType.STDIN, 1, Buffer.from('body-')));
        c.write(encodeRecord(RecordType.PARAMS, 1));
        c.write(encodeRecord(RecordType.PARAMS, 2, p2.subarray(7)));
        c.write(encodeRecord(RecordType.STDIN, 2, Buffer.from('BODY-')));
        c.write(encodeRecord(RecordType.PARAMS, 2));
        c.write(encodeRecord(RecordType.STDIN, 1, Buffer.from('one')));
        c.write(encodeRecord(RecordType.STDIN, 2, Buffer.from('TWO')));
        c.write(encodeRecord(RecordType.STDIN, 2));
        c.write(encodeRecord(RecordType.STDIN, 1));
        await c.until(() => endCount(c, 1) === 1 && endCount(c, 2) === 1);
        const b1 = body(c, 1);
        const b2 = body(c, 2);
        assert.equal(b1, `${'a'.repeat(2999)}\n`.repeat(100) + 'end body-one');
        assert.equal(b2, `${'b'.repeat(2999)}\n`.repeat(100) + 'end BODY-TWO');
        // The RawClient's parser would have thrown on a record split by another; check the output
        // really was interleaved at record granularity, so that the check meant something.
        const ids = frames.frames.filter((f) => f.type === RecordType.STDOUT).map((f) => f.requestId);
        const switches = ids.filter((id, i) => i > 0 && id !== ids[i - 1]).length;
        assert.ok(switches >= 2, `expected interleaved STDOUT records, got ${switches} switches`);
        assert.equal(c.closed, false);
      } finally {
        await l.stop();
      }
    });

    test('GET_VALUES answers the configured limits in one record and omits unknown names', {
      timeout: 5000,
    }, async () => {
      const l = await serve(kind, echo, { maxConnections: 7, maxRequests: 13 });
      try {
        const c = await l.connect();
        const frames = new FrameLog(c.socket);
        const ask = encodeNameValues({
          FCGI_MAX_CONNS: '',
          FCGI_NO_SUCH_NAME: '',
          FCGI_MAX_REQS: '',
          FCGI_MPXS_CONNS: '',
        });
        c.write(encodeRecord(RecordType.GET_VALUES, 0, ask));
        await c.until(() => c.records.some((r) => r.type === RecordType.GET_VALUES_RESULT));
        await sleep(100); // nothing else should follow
        assert.deepEqual(
          frames.frames.map((f) => [f.type, f.requestId]),
          [[RecordType.GET_VALUES_RESULT, 0]],
        );
        const got = decodeNameValues(c.records[0]!.content);
        assert.deepEqual({ ...got }, { FCGI_MAX_CONNS: '7', FCGI_MAX_REQS: '13', FCGI_MPXS_CONNS: '1' });

        // Only unknown names: still exactly one GET_VALUES_RESULT, empty.
        c.clear();
        c.write(encodeRecord(RecordType.GET_VALUES, 0, encodeNameValues({ NOPE: '' })));
        await c.until(() => c.records.length > 0);
        await sleep(100);
        assert.equal(c.records.length, 1);
        assert.equal(c.records[0]!.type, RecordType.GET_VALUES_RESULT);
        assert.equal(c.records[0]!.content.length, 0);

        // The connection serves requests afterwards.
        c.clear();
        c.sendRequest(1, { REQUEST_URI: '/after' });
        await c.reply(1);
        assert.equal(body(c, 1), '1 /after ');
      } finally {
        await l.stop();
      }
    });

    test('an unknown management type gets UNKNOWN_TYPE and the connection keeps working', {
      timeout: 5000,
    }, async () => {
      const l = await serve(kind, echo);
      try {
        const c = await l.connect();
        c.write(encodeRecord(99, 0, Buffer.from('whatever it carries')));
        await c.until(() => c.records.length > 0);
        const [r] = c.records;
        assert.equal(r!.type, RecordType.UNKNOWN_TYPE);
        assert.equal(r!.requestId, 0);
        assert.equal(r!.content.length, 8);
        assert.equal(r!.content[0], 99);
        c.clear();
        c.sendRequest(1, { REQUEST_URI: '/still' }, Buffer.from('ok'));
        await c.reply(1);
        assert.equal(body(c, 1), '1 /still ok');
        assert.ok(c.records.every((r) => r.type !== RecordType.UNKNOWN_TYPE));
      } finally {
        await l.stop();
      }
    });

    test('an unknown role gets END_REQUEST(UNKNOWN_ROLE) and nothing else', { timeout: 5000 }, async () => {
      let calls = 0;
      const l = await serve(kind, (req, res) => {
        calls++;
        return echo(req, res);
      });
      try {
        const c = await l.connect();
        for (const [id, role] of [
          [3, 2],
          [4, 77],
        ] as const) {
          c.write(encodeBeginRequest(id, role, true));
          c.write(encodeStream(RecordType.PARAMS, id, encodeNameValues({ REQUEST_URI: '/role' })));
          c.write(encodeStream(RecordType.STDIN, id, Buffer.from('ignored')));
        }
        await c.until(() => endCount(c, 3) === 1 && endCount(c, 4) === 1);
        c.sendRequest(1, { REQUEST_URI: '/responder' }, Buffer.from('fine'), true);
        await c.reply(1);
        await sleep(100);
        for (const id of [3, 4]) {
          assert.equal(c.replyOf(id).protocolStatus, Status.UNKNOWN_ROLE);
          assert.deepEqual(
            c.records.filter((r) => r.requestId === id).map((r) => r.type),
            [RecordType.END_REQUEST],
          );
        }
        assert.equal(body(c, 1), '1 /responder fine');
        assert.equal(calls, 1, 'the handler runs only for the Responder request');
      } finally {
        await l.stop();
      }
    });
  });
}
