// ABORT_REQUEST and connection loss over real sockets: one END_REQUEST, the handler told, the server serving on.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { createFcgiServer, type FcgiRequest, type FcgiResponse } from '@fcgi/core';
import {
  RecordType,
  Status,
  encodeAbortRequest,
  encodeBeginRequest,
  encodeNameValues,
  encodeRecord,
  encodeStream,
} from '@fcgi/core/protocol';
import { listenForTest, parseCgi, type RawClient } from './helpers/raw-client.js';

/** What a handler that waits for its abort saw. */
interface Seen {
  started: number;
  signalAborted: boolean;
  reqAborted: boolean;
  resClosed: boolean;
  lateWriteOk: boolean | null;
}

/** A server whose /wait handler runs until aborted (then tries to write); other URLs answer at once. */
async function start(kind: 'unix' | 'tcp') {
  const seen: Seen = { started: 0, signalAborted: false, reqAborted: false, resClosed: false, lateWriteOk: null };
  let onStart = (): void => {};
  let onAbort = (): void => {};
  const handler = (req: FcgiRequest, res: FcgiResponse) => {
    if (req.url !== '/wait') {
      res.setHeader('Content-Type', 'text/plain');
      res.end(`served ${req.url}`);
      return;
    }
    seen.started++;
    req.on('aborted', () => (seen.reqAborted = true));
    res.on('close', () => (seen.resClosed = true));
    req.signal.addEventListener('abort', () => {
      seen.signalAborted = true;
      // Output after the abort must be dropped, not sent after END_REQUEST.
      seen.lateWriteOk = res.write('too late');
      res.end('really too late');
      onAbort();
    });
    onStart();
  };
  const l = await listenForTest(createFcgiServer(handler, { onConnectionError: () => {} }), kind);
  return {
    l,
    seen,
    started: () => new Promise<void>((resolve) => (onStart = resolve)),
    aborted: () => new Promise<void>((resolve) => (onAbort = resolve)),
  };
}

const ofId = (c: RawClient, id: number) => c.records.filter((r) => r.requestId === id);

async function servedOnNewConnection(l: { connect(): Promise<RawClient> }): Promise<void> {
  const c = await l.connect();
  c.sendRequest(1, { REQUEST_URI: '/next' });
  const reply = await c.reply(1);
  assert.equal(parseCgi(reply.stdout).body.toString(), 'served /next');
}

type Started = Awaited<ReturnType<typeof start>>;

/** Runs `body` with a fresh server over `kind` and one connection to it; stops the server after. */
async function withServer(kind: 'unix' | 'tcp', body: (s: Started, c: RawClient) => Promise<void>): Promise<void> {
  const s = await start(kind);
  try {
    await body(s, await s.l.connect());
  } finally {
    await s.l.stop();
  }
}

/** Sends request 1 for /wait (connection kept) and resolves once its handler runs. */
async function sendWait(s: Started, c: RawClient): Promise<void> {
  const started = s.started();
  c.sendRequest(1, { REQUEST_URI: '/wait' }, Buffer.alloc(0), true);
  await started;
}

/** The handler was told all three ways: its signal, req 'aborted' and res 'close'. */
function assertToldAllWays(seen: Seen): void {
  assert.deepEqual(
    { signal: seen.signalAborted, req: seen.reqAborted, res: seen.resClosed },
    { signal: true, req: true, res: true },
  );
}

for (const kind of ['unix', 'tcp'] as const) {
  describe(`abort over ${kind}`, () => {
    test('ABORT_REQUEST on a running request: one END_REQUEST, the handler told', { timeout: 5000 }, () =>
      withServer(kind, async (s, c) => {
        await sendWait(s, c);
        const aborted = s.aborted();
        c.write(encodeAbortRequest(1));
        await aborted;
        await c.until(() => ofId(c, 1).some((r) => r.type === RecordType.END_REQUEST));
        await sleep(300); // long enough for a second END_REQUEST or late output to show up
        assert.deepEqual(
          ofId(c, 1).map((r) => r.type),
          [RecordType.END_REQUEST],
        );
        assert.equal(c.replyOf(1).protocolStatus, Status.REQUEST_COMPLETE);
        assertToldAllWays(s.seen);
        assert.equal(s.seen.lateWriteOk, true, 'writes after an abort are dropped without blocking');
        // The kept connection still serves, and so does a new one.
        c.clear();
        c.sendRequest(2, { REQUEST_URI: '/same' }, Buffer.alloc(0), true);
        assert.equal(parseCgi((await c.reply(2)).stdout).body.toString(), 'served /same');
        await servedOnNewConnection(s.l);
      }),
    );

    test('ABORT_REQUEST on one multiplexed request leaves the other running', { timeout: 5000 }, () =>
      withServer(kind, async (s, c) => {
        await sendWait(s, c);
        c.write(encodeBeginRequest(2, 1, true));
        c.write(encodeStream(RecordType.PARAMS, 2, encodeNameValues({ REQUEST_URI: '/other' })));
        c.write(encodeAbortRequest(1));
        c.write(encodeRecord(RecordType.STDIN, 2));
        const reply = await c.reply(2);
        await c.until(() => ofId(c, 1).some((r) => r.type === RecordType.END_REQUEST));
        assert.equal(parseCgi(reply.stdout).body.toString(), 'served /other');
        assert.deepEqual(
          ofId(c, 1).map((r) => r.type),
          [RecordType.END_REQUEST],
        );
        assert.equal(s.seen.signalAborted, true);
      }),
    );

    test('ABORT_REQUEST before the params are complete: one END_REQUEST, no handler', { timeout: 5000 }, () =>
      withServer(kind, async (s, c) => {
        const params = encodeNameValues({ REQUEST_URI: '/wait', REQUEST_METHOD: 'GET' });
        c.write(encodeBeginRequest(1, 1, true));
        c.write(encodeRecord(RecordType.PARAMS, 1, params.subarray(0, 10)));
        c.write(encodeAbortRequest(1));
        await c.until(() => ofId(c, 1).length > 0);
        // The rest of that request arriving late is ignored: its id is no longer active.
        c.write(encodeRecord(RecordType.PARAMS, 1, params.subarray(10)));
        c.write(encodeRecord(RecordType.PARAMS, 1));
        c.write(encodeRecord(RecordType.STDIN, 1));
        c.write(encodeAbortRequest(1));
        await sleep(300);
        assert.deepEqual(
          ofId(c, 1).map((r) => r.type),
          [RecordType.END_REQUEST],
        );
        assert.equal(s.seen.started, 0);
        assert.equal(c.closed, false);
        await servedOnNewConnection(s.l);
      }),
    );

    test('a lost connection aborts the running handler', { timeout: 5000 }, () =>
      withServer(kind, async (s, c) => {
        await sendWait(s, c);
        const aborted = s.aborted();
        c.close();
        await aborted;
        assertToldAllWays(s.seen);
        await servedOnNewConnection(s.l);
      }),
    );

    test('the web server half-closing mid-request counts as an abort too', { timeout: 5000 }, () =>
      withServer(kind, async (s, c) => {
        await sendWait(s, c);
        const aborted = s.aborted();
        c.socket.end(); // FIN only: spec 5.4, closing the connection aborts its requests
        await aborted;
        await c.closedByPeer(2000);
        assert.equal(s.seen.signalAborted, true);
        assert.equal(c.error, null);
      }),
    );
  });
}

test('ABORT_REQUEST while the handler writes through res.stdout: the stream is destroyed quietly, the server serves on', {
  timeout: 5000,
}, async () => {
  let closed: () => void;
  const stdoutClosed = new Promise<void>((resolve) => (closed = resolve));
  let started: () => void;
  const running = new Promise<void>((resolve) => (started = resolve));
  const l = await listenForTest(
    createFcgiServer(
      (req: FcgiRequest, res: FcgiResponse) => {
        if (req.url !== '/raw') return void res.end(`served ${req.url}`);
        res.stdout.write('Content-Type: text/plain\r\n\r\npart');
        // No 'error' listener on res.stdout: an abort emitted as 'error' would crash the process.
        res.stdout.on('close', () => closed());
        started();
      },
      { onConnectionError: () => {} },
    ),
    'unix',
  );
  const c = await l.connect();
  try {
    c.sendRequest(1, { REQUEST_URI: '/raw' }, Buffer.alloc(0), true);
    await running;
    c.write(encodeAbortRequest(1));
    await stdoutClosed;
    await c.until(() => ofId(c, 1).some((r) => r.type === RecordType.END_REQUEST));
    await servedOnNewConnection(l);
  } finally {
    c.close();
    await l.stop();
  }
});
