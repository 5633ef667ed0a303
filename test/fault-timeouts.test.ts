// The per-request timeouts: requestTimeout (a handler that never ends) and bodyTimeout (input that
// stalls). On expiry: 503 / 408 if nothing was sent, else the output is cut (appStatus 1); either
// way one END_REQUEST, the handler aborted (req.signal), the request released.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { createFcgiServer, FcgiError, type FcgiRequest, type FcgiResponse, type ServerOptions } from '@fcgi/core';
import { defaultConnectionLimits } from '../packages/core/src/connection/limits.js';
import { RecordType, encodeBeginRequest, encodeNameValues, encodeRecord, encodeStream } from '@fcgi/core/protocol';
import { listenForTest, parseCgi, type RawClient } from './helpers/raw-client.js';

interface Seen {
  reason: unknown;
  lateWrite: boolean | null;
  bodyError: string | null;
  body: string | null;
}

/** /hang never ends; /partial writes, then hangs; /read hashes its body; /lazy reads it only after 600 ms. */
async function start(options: ServerOptions) {
  const seen: Seen = { reason: null, lateWrite: null, bodyError: null, body: null };
  const handler = async (req: FcgiRequest, res: FcgiResponse) => {
    req.signal.addEventListener('abort', () => {
      seen.reason = req.signal.reason;
      seen.lateWrite = res.write('too late');
      res.end();
    });
    if (req.url === '/hang') return;
    if (req.url === '/partial') {
      res.setHeader('Content-Type', 'text/plain');
      res.write('partial output');
      return;
    }
    if (req.url === '/lazy') await sleep(600);
    try {
      const hash = createHash('sha1');
      let n = 0;
      for await (const chunk of req as AsyncIterable<Buffer>) {
        hash.update(chunk);
        n += chunk.length;
      }
      seen.body = `${n} ${hash.digest('hex')}`;
      res.end(seen.body);
    } catch (err) {
      seen.bodyError = (err as { code?: string }).code ?? String(err);
    }
  };
  const server = createFcgiServer(handler, { onConnectionError: () => {}, ...options });
  const l = await listenForTest(server, 'unix');
  return { server, l, seen };
}

const ofId = (c: RawClient, id: number) => c.records.filter((r) => r.requestId === id);

test('the defaults: requestTimeout off, bodyTimeout 120 s', () => {
  assert.equal(defaultConnectionLimits.requestTimeout, 0);
  assert.equal(defaultConnectionLimits.bodyTimeout, 120_000);
});

test('requestTimeout, nothing sent yet: a 503, END_REQUEST, req.signal aborted, later writes dropped', {
  timeout: 10_000,
}, async () => {
  const { server, l, seen } = await start({ requestTimeout: 300 });
  try {
    const c = await l.connect();
    const t0 = Date.now();
    c.sendRequest(1, { REQUEST_URI: '/hang' }, Buffer.alloc(0), true);
    const reply = await c.reply(1, 3000);
    const took = Date.now() - t0;
    assert.ok(took >= 280 && took < 2000, `answered after ${took} ms`);
    const { status, body } = parseCgi(reply.stdout);
    assert.equal(status, 503);
    assert.equal(body.toString(), 'Request timed out\n');
    assert.equal(reply.appStatus, 0);
    assert.ok(seen.reason instanceof FcgiError);
    assert.equal((seen.reason as FcgiError).status, 503);
    assert.equal((seen.reason as FcgiError).code, 'ERR_FCGI_REQUEST_TIMEOUT');
    assert.equal(seen.lateWrite, true, 'a write after the timeout is dropped, not blocked');
    await sleep(100);
    const types = ofId(c, 1).map((r) => r.type);
    assert.equal(types.filter((t) => t === RecordType.END_REQUEST).length, 1);
    assert.equal(types[types.length - 1], RecordType.END_REQUEST, 'nothing after END_REQUEST');
    assert.equal(server.activeRequests, 0);
    // The kept connection serves on; a fast request is not cut.
    c.clear();
    c.sendRequest(2, { REQUEST_URI: '/read' }, Buffer.from('abc'), true);
    assert.equal(parseCgi((await c.reply(2)).stdout).status, 200);
  } finally {
    await l.stop();
  }
});

test('requestTimeout after output started: the response is cut (appStatus 1), the handler aborted', {
  timeout: 10_000,
}, async () => {
  const { server, l, seen } = await start({ requestTimeout: 300 });
  try {
    const c = await l.connect();
    c.sendRequest(1, { REQUEST_URI: '/partial' });
    const reply = await c.reply(1, 3000);
    assert.equal(reply.appStatus, 1);
    const { status, body } = parseCgi(reply.stdout);
    assert.equal(status, 200);
    assert.equal(body.toString(), 'partial output', 'no 503 glued onto a started response');
    assert.equal((seen.reason as FcgiError).code, 'ERR_FCGI_REQUEST_TIMEOUT');
    await c.closedByPeer(2000); // no KEEP_CONN: closed after END_REQUEST
    assert.equal(server.activeRequests, 0);
  } finally {
    await l.stop();
  }
});

test('requestTimeout: a request that ends in time is not touched by the timer', { timeout: 10_000 }, async () => {
  const { l, seen } = await start({ requestTimeout: 200 });
  try {
    const c = await l.connect();
    c.sendRequest(1, { REQUEST_URI: '/read' }, Buffer.from('x'.repeat(1000)), true);
    assert.equal(parseCgi((await c.reply(1)).stdout).status, 200);
    await sleep(400); // past the timeout: nothing more may arrive
    assert.equal(ofId(c, 1).filter((r) => r.type === RecordType.END_REQUEST).length, 1);
    assert.equal(seen.reason, null);
  } finally {
    await l.stop();
  }
});

test('bodyTimeout: STDIN that stalls gets a 408 and the reading handler an error; the connection serves on', {
  timeout: 10_000,
}, async () => {
  const { server, l, seen } = await start({ bodyTimeout: 300 });
  try {
    const c = await l.connect();
    c.write(encodeBeginRequest(1, 1, true));
    c.write(encodeStream(RecordType.PARAMS, 1, encodeNameValues({ REQUEST_URI: '/read', CONTENT_LENGTH: '1000' })));
    c.write(encodeRecord(RecordType.STDIN, 1, Buffer.alloc(100, 'a')));
    const t0 = Date.now();
    const reply = await c.reply(1, 3000);
    assert.ok(Date.now() - t0 >= 250);
    const { status, body } = parseCgi(reply.stdout);
    assert.equal(status, 408);
    assert.equal(body.toString(), 'Request body timed out\n');
    assert.equal((seen.reason as FcgiError).code, 'ERR_FCGI_BODY_TIMEOUT');
    assert.notEqual(seen.bodyError, null, 'the body stream failed instead of waiting forever');
    assert.equal(server.activeRequests, 0);
    // The rest arriving late is ignored (its id is no longer active); the same id then works again.
    c.write(encodeStream(RecordType.STDIN, 1, Buffer.alloc(900, 'a')));
    c.clear();
    c.sendRequest(1, { REQUEST_URI: '/read' }, Buffer.from('ok'), true);
    assert.equal(
      parseCgi((await c.reply(1)).stdout)
        .body.toString()
        .split(' ')[0],
      '2',
    );
  } finally {
    await l.stop();
  }
});

test('bodyTimeout: PARAMS that stall get a 408 without running the handler', { timeout: 10_000 }, async () => {
  let ran = 0;
  const server = createFcgiServer(() => void ran++, { bodyTimeout: 200, onConnectionError: () => {} });
  const l = await listenForTest(server, 'unix');
  try {
    const c = await l.connect();
    c.write(encodeBeginRequest(1, 1, false));
    c.write(encodeRecord(RecordType.PARAMS, 1, encodeNameValues({ REQUEST_URI: '/x' })));
    const reply = await c.reply(1, 3000);
    assert.equal(parseCgi(reply.stdout).status, 408);
    assert.equal(ran, 0);
    await c.closedByPeer(2000);
  } finally {
    await l.stop();
  }
});

test('bodyTimeout: a body trickling in slower than the bound in total, but never stalling, is served', {
  timeout: 10_000,
}, async () => {
  const { l, seen } = await start({ bodyTimeout: 300 });
  try {
    const c = await l.connect();
    c.write(encodeBeginRequest(1, 1, false));
    c.write(encodeStream(RecordType.PARAMS, 1, encodeNameValues({ REQUEST_URI: '/read' })));
    const body = Buffer.alloc(20 * 1024, 't');
    for (let at = 0; at < body.length; at += 1024) {
      c.write(encodeRecord(RecordType.STDIN, 1, body.subarray(at, at + 1024)));
      await sleep(60); // 20 pieces, 1.2 s in all: four times the bound
    }
    c.write(encodeRecord(RecordType.STDIN, 1));
    const reply = await c.reply(1, 3000);
    assert.equal(parseCgi(reply.stdout).status, 200);
    assert.equal(seen.body, `${body.length} ${createHash('sha1').update(body).digest('hex')}`);
  } finally {
    await l.stop();
  }
});

test('bodyTimeout: time paused because the handler is not reading does not count', { timeout: 10_000 }, async () => {
  const { l, seen } = await start({ bodyTimeout: 200, bodyHighWaterMark: 16 * 1024 });
  try {
    const c = await l.connect();
    const body = Buffer.alloc(4 * 1024 * 1024, 'p');
    // /lazy reads nothing for 600 ms (three bounds) while the socket is paused on its full buffer.
    c.sendRequest(1, { REQUEST_URI: '/lazy' }, body);
    const reply = await c.reply(1, 5000);
    assert.equal(parseCgi(reply.stdout).status, 200);
    assert.equal(seen.reason, null);
    assert.equal(seen.body?.split(' ')[0], String(body.length));
  } finally {
    await l.stop();
  }
});
