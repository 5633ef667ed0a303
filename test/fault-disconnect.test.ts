// Faults injected at every stage of a request: the web server half-closes, resets, or sends
// ABORT_REQUEST after BEGIN_REQUEST, mid-PARAMS, mid-record, before the body, mid-STDIN and
// mid-response. Each time: the handler (if it started) sees the abort, nothing crashes, the server
// gets back to 0 requests in flight (and 0 connections), and it serves the next request.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createFcgiServer, type FcgiRequest, type FcgiResponse, type FcgiServer } from '@fcgi/core';
import {
  RecordType,
  encodeAbortRequest,
  encodeBeginRequest,
  encodeNameValues,
  encodeRecord,
  encodeStream,
} from '@fcgi/core/protocol';
import { listenForTest, parseCgi, type RawClient, type TestListen } from './helpers/raw-client.js';
import { drainOrClose } from './helpers/drain.js';

interface Seen {
  aborted: string | null;
  bodyBytes: number;
  bodyError: string | null;
  resClosed: boolean;
  sent: number;
}

const CHUNK = Buffer.alloc(64 * 1024, 'r');
const BODY = Buffer.alloc(1024 * 1024, 'b');

/** Reads the whole body, then streams output (respecting backpressure) until the client goes away. */
function makeServer(seen: Map<string, Seen>): FcgiServer {
  return createFcgiServer(
    async (req: FcgiRequest, res: FcgiResponse) => {
      const tag = req.headers['x-tag'] ?? '';
      if (tag === 'ping') return void res.end('pong');
      const s: Seen = { aborted: null, bodyBytes: 0, bodyError: null, resClosed: false, sent: 0 };
      seen.set(tag, s);
      req.signal.addEventListener(
        'abort',
        () => (s.aborted = (req.signal.reason as { code?: string }).code ?? 'abort'),
      );
      res.on('close', () => (s.resClosed = true));
      try {
        for await (const chunk of req as AsyncIterable<Buffer>) s.bodyBytes += chunk.length;
      } catch (err) {
        s.bodyError = (err as { code?: string }).code ?? String(err);
        return;
      }
      res.setHeader('Content-Type', 'application/octet-stream');
      while (!res.destroyed && s.sent < 1024 * 1024 * 1024) {
        s.sent += CHUNK.length;
        if (!res.write(CHUNK)) await drainOrClose(res);
      }
      res.end();
    },
    { onConnectionError: () => {} },
  );
}

async function waitUntil(what: string, pred: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const params = (tag: string) =>
  encodeNameValues({
    REQUEST_METHOD: 'POST',
    REQUEST_URI: '/work',
    CONTENT_LENGTH: String(BODY.length),
    HTTP_X_TAG: tag,
  });

interface Stage {
  name: string;
  /** Writes the request up to the stage; resolves once the server is there. */
  reach(c: RawClient, tag: string, seen: Map<string, Seen>): Promise<void>;
  /** Whether the handler runs by then. */
  started: boolean;
  /** A record cut in half: only a disconnect can follow, not a record. */
  midRecord?: boolean;
}

const stdoutBytes = (c: RawClient) =>
  c.records.filter((r) => r.type === RecordType.STDOUT && r.requestId === 1).reduce((n, r) => n + r.content.length, 0);

const STAGES: Stage[] = [
  {
    name: 'after BEGIN_REQUEST',
    started: false,
    async reach(c) {
      c.write(encodeBeginRequest(1, 1, true));
    },
  },
  {
    name: 'mid-PARAMS (whole records)',
    started: false,
    async reach(c, tag) {
      const p = params(tag);
      c.write(encodeBeginRequest(1, 1, true));
      c.write(encodeRecord(RecordType.PARAMS, 1, p.subarray(0, 20)));
    },
  },
  {
    name: 'mid-PARAMS (inside a record)',
    started: false,
    midRecord: true,
    async reach(c, tag) {
      const rec = encodeRecord(RecordType.PARAMS, 1, params(tag));
      c.write(encodeBeginRequest(1, 1, true));
      c.write(rec.subarray(0, 13));
    },
  },
  {
    name: 'params complete, no body yet',
    started: true,
    async reach(c, tag, seen) {
      c.write(encodeBeginRequest(1, 1, true));
      c.write(encodeStream(RecordType.PARAMS, 1, params(tag)));
      await waitUntil('handler started', () => seen.has(tag));
    },
  },
  {
    name: 'mid-STDIN',
    started: true,
    async reach(c, tag, seen) {
      c.write(encodeBeginRequest(1, 1, true));
      c.write(encodeStream(RecordType.PARAMS, 1, params(tag)));
      c.write(encodeStream(RecordType.STDIN, 1, BODY.subarray(0, 200_000), false));
      await waitUntil('body arriving', () => (seen.get(tag)?.bodyBytes ?? 0) >= 200_000);
    },
  },
  {
    name: 'mid-STDIN (inside a record)',
    started: true,
    midRecord: true,
    async reach(c, tag, seen) {
      c.write(encodeBeginRequest(1, 1, true));
      c.write(encodeStream(RecordType.PARAMS, 1, params(tag)));
      c.write(encodeRecord(RecordType.STDIN, 1, BODY.subarray(0, 60_000)).subarray(0, 30_000));
      await waitUntil('body arriving', () => (seen.get(tag)?.bodyBytes ?? 0) > 0);
    },
  },
  {
    name: 'mid-response',
    started: true,
    async reach(c, tag) {
      c.write(encodeBeginRequest(1, 1, true));
      c.write(encodeStream(RecordType.PARAMS, 1, params(tag)));
      c.write(encodeStream(RecordType.STDIN, 1, BODY));
      await c.until(() => stdoutBytes(c) > 512 * 1024, 5000);
    },
  },
];

async function assertRecovered(server: FcgiServer, l: TestListen, connections: number): Promise<void> {
  await waitUntil('no request in flight', () => server.activeRequests === 0);
  await waitUntil(`${connections} connections left`, () => server.connections === connections);
  const c = await l.connect();
  c.sendRequest(1, { REQUEST_URI: '/', HTTP_X_TAG: 'ping' });
  assert.equal(parseCgi((await c.reply(1)).stdout).body.toString(), 'pong');
  c.close();
}

function assertHandlerTold(stage: Stage, s: Seen | undefined): void {
  if (!stage.started) return assert.equal(s, undefined, 'no handler ran for an incomplete request');
  assert.ok(s, 'the handler ran');
  assert.notEqual(s.aborted, null, 'req.signal aborted');
  assert.equal(s.resClosed, true, "res emitted 'close'");
  if (stage.name.startsWith('mid-response')) assert.ok(s.sent < 64 * 1024 * 1024, 'output stopped soon after');
  else assert.notEqual(s.bodyError, null, 'reading the body failed instead of hanging');
}

for (const kind of ['unix', 'tcp'] as const) {
  describe(`the web server goes away, over ${kind}`, () => {
    for (const stage of STAGES) {
      for (const how of ['FIN', kind === 'tcp' ? 'RST' : 'close'] as const) {
        test(`${how} ${stage.name}`, { timeout: 10_000 }, async () => {
          const seen = new Map<string, Seen>();
          const server = makeServer(seen);
          const l = await listenForTest(server, kind);
          try {
            const c = await l.connect({ allowHalfOpen: true });
            const tag = `${how} ${stage.name}`;
            await stage.reach(c, tag, seen);
            if (how === 'FIN') c.socket.end();
            else if (how === 'RST') c.socket.resetAndDestroy();
            else c.socket.destroy();
            if (stage.started) await waitUntil('handler told', () => seen.get(tag)?.aborted != null);
            if (how === 'FIN') await c.closedByPeer(3000);
            await assertRecovered(server, l, 0);
            assertHandlerTold(stage, seen.get(tag));
          } finally {
            await l.stop();
          }
        });
      }
    }
  });
}

describe('ABORT_REQUEST at every stage', () => {
  for (const stage of STAGES.filter((s) => !s.midRecord)) {
    test(`ABORT_REQUEST ${stage.name}: one END_REQUEST, nothing after it, the connection serves on`, {
      timeout: 10_000,
    }, async () => {
      const seen = new Map<string, Seen>();
      const server = makeServer(seen);
      const l = await listenForTest(server, 'unix');
      try {
        const c = await l.connect();
        const tag = `abort ${stage.name}`;
        await stage.reach(c, tag, seen);
        c.write(encodeAbortRequest(1));
        await c.until(() => c.records.some((r) => r.type === RecordType.END_REQUEST && r.requestId === 1), 3000);
        if (stage.started) await waitUntil('handler told', () => seen.get(tag)?.aborted === 'ERR_FCGI_ABORTED');
        await new Promise((r) => setTimeout(r, 100)); // room for stray records to show up
        const mine = c.records.filter((r) => r.requestId === 1);
        assert.equal(mine.filter((r) => r.type === RecordType.END_REQUEST).length, 1);
        assert.equal(mine[mine.length - 1]!.type, RecordType.END_REQUEST, 'no record after END_REQUEST');
        assertHandlerTold(stage, seen.get(tag));
        // The late rest of the aborted request is ignored; the same id then serves a new request.
        if (stage.name === 'mid-STDIN') c.write(encodeStream(RecordType.STDIN, 1, BODY.subarray(0, 1000)));
        c.clear();
        c.sendRequest(1, { REQUEST_URI: '/', HTTP_X_TAG: 'ping' }, Buffer.alloc(0), true);
        assert.equal(parseCgi((await c.reply(1)).stdout).body.toString(), 'pong');
        await assertRecovered(server, l, 1);
      } finally {
        await l.stop();
      }
    });
  }
});
