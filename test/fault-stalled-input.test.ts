// Input that stalls or trickles: a request's PARAMS must complete within paramsTimeout (each byte
// restarting an idle timer is not enough), a record left incomplete (3 of 8 header bytes) closes
// its connection, and at maxConnections peers that connect and trickle cannot keep a web server
// out: the connection longest without a running handler makes room.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { createFcgiServer, type FcgiRequest, type FcgiResponse, type ServerOptions } from '@fcgi/core';
import { defaultConnectionLimits } from '../packages/core/src/connection/limits.js';
import { RecordType, encodeBeginRequest, encodeNameValues, encodeRecord } from '@fcgi/core/protocol';
import { getParams, listenForTest, parseCgi, type RawClient } from './helpers/raw-client.js';

async function start(options: ServerOptions) {
  const seen = { handled: 0, errors: [] as string[] };
  const server = createFcgiServer(
    async (req: FcgiRequest, res: FcgiResponse) => {
      seen.handled++;
      for await (const _ of req as AsyncIterable<Buffer>);
      res.end('ok');
    },
    { ...options, onConnectionError: (err) => seen.errors.push(err.message) },
  );
  return { server, seen, l: await listenForTest(server, 'unix') };
}

/** Sends `bytes` one at a time every `ms` until `stop()` holds or the connection closed. */
async function trickle(c: RawClient, bytes: Buffer, ms: number, stop: () => boolean): Promise<void> {
  for (const b of bytes) {
    if (stop() || c.closed) return;
    c.write(Buffer.of(b));
    await sleep(ms);
  }
}

test('the default paramsTimeout is 60 s', () => {
  assert.equal(defaultConnectionLimits.paramsTimeout, 60_000);
});

test('PARAMS trickled one byte per 100 ms: a 408 after paramsTimeout (400 ms), the handler never runs', {
  timeout: 10_000,
}, async () => {
  const { seen, l } = await start({ paramsTimeout: 400, bodyTimeout: 10_000 });
  try {
    const c = await l.connect();
    const t0 = Date.now();
    c.write(encodeBeginRequest(1, 1, true));
    // One PARAMS record of 1 byte every 100 ms: the input never idles, it just never ends.
    const params = encodeNameValues(getParams('/slow'));
    let done = false;
    const sending = (async () => {
      for (const b of params) {
        if (done || c.closed) return;
        c.write(encodeRecord(RecordType.PARAMS, 1, Buffer.of(b)));
        await sleep(100);
      }
    })();
    const reply = await c.reply(1, 3000);
    done = true;
    await sending;
    const took = Date.now() - t0;
    assert.ok(took >= 380 && took < 1500, `answered after ${took} ms`);
    const { status, body } = parseCgi(reply.stdout);
    assert.equal(status, 408);
    assert.equal(body.toString(), 'Request params timed out\n');
    assert.equal(seen.handled, 0);
    // The connection serves on: a prompt request on it is answered.
    c.clear();
    c.sendRequest(2, getParams('/next'), undefined, true);
    assert.equal(parseCgi((await c.reply(2)).stdout).body.toString(), 'ok');
  } finally {
    await l.stop();
  }
});

for (const [what, bytes] of [
  ['3 of 8 header bytes, then nothing more', encodeBeginRequest(1, 1, true).subarray(0, 3)],
  ['a BEGIN_REQUEST with 3 of its 8 content bytes, then nothing more', encodeBeginRequest(1, 1, true).subarray(0, 11)],
  ['a 300-byte management record trickled a byte per 100 ms', encodeRecord(200, 0, Buffer.alloc(300))],
] as const) {
  test(`${what}: the connection is closed after paramsTimeout (400 ms), logged`, {
    timeout: 10_000,
  }, async () => {
    const { seen, l } = await start({ paramsTimeout: 400 });
    try {
      const c = await l.connect();
      const t0 = Date.now();
      if (what.includes('trickled')) void trickle(c, bytes, 100, () => false);
      else c.write(bytes);
      await c.closedByPeer(3000);
      const took = Date.now() - t0;
      assert.ok(took >= 380 && took < 1500, `closed after ${took} ms`);
      assert.ok(
        seen.errors.some((m) => m.includes('a record stayed incomplete')),
        JSON.stringify(seen.errors),
      );
      assert.equal(seen.handled, 0);
    } finally {
      await l.stop();
    }
  });
}

test('an upload trickled inside a STDIN record is not cut by paramsTimeout (bodyTimeout governs it)', {
  timeout: 10_000,
}, async () => {
  const { l } = await start({ paramsTimeout: 300 });
  try {
    const c = await l.connect();
    c.write(encodeBeginRequest(1, 1, false));
    c.write(encodeRecord(RecordType.PARAMS, 1, encodeNameValues(getParams('/up'))));
    c.write(encodeRecord(RecordType.PARAMS, 1));
    const body = encodeRecord(RecordType.STDIN, 1, Buffer.alloc(16, 'b'));
    const t0 = Date.now();
    // The header whole (a header itself must not take paramsTimeout), then the content byte by byte.
    c.write(body.subarray(0, 8));
    await trickle(c, body.subarray(8), 80, () => false);
    c.write(encodeRecord(RecordType.STDIN, 1));
    assert.ok(Date.now() - t0 > 1000, 'the upload took longer than 3 x paramsTimeout');
    assert.equal(parseCgi((await c.reply(1)).stdout).body.toString(), 'ok');
  } finally {
    await l.stop();
  }
});

test('maxConnections=4 and 64 peers trickling one PARAMS byte per second: real requests are still served', {
  timeout: 30_000,
}, async (t) => {
  const { server, seen, l } = await start({ maxConnections: 4 });
  let stop = false;
  try {
    const slow: Promise<void>[] = [];
    const params = encodeNameValues(getParams('/slow'));
    for (let i = 0; i < 64; i++) {
      const c = await l.connect().catch(() => null);
      if (!c) continue;
      c.write(encodeBeginRequest(1, 1, true));
      slow.push(
        (async () => {
          for (const b of params) {
            if (stop || c.closed) return;
            c.write(encodeRecord(RecordType.PARAMS, 1, Buffer.of(b)));
            await sleep(1000);
          }
        })(),
      );
    }
    await sleep(1500);
    // Each real request comes on a fresh connection, as from nginx without keepalive.
    const times: number[] = [];
    for (let i = 0; i < 3; i++) {
      const c = await l.connect();
      const t0 = Date.now();
      c.sendRequest(1, getParams(`/real/${i}`));
      const reply = await c.reply(1, 3000);
      times.push(Date.now() - t0);
      assert.equal(parseCgi(reply.stdout).body.toString(), 'ok');
      await sleep(300);
    }
    t.diagnostic(`real requests answered in ${times.join(', ')} ms; ${seen.errors.length} connections made room`);
    assert.equal(seen.handled, 3);
    assert.ok(server.connections <= 4 + 1, `${server.connections} connections open`);
    assert.ok(seen.errors.some((m) => m.includes('maxConnections (4) reached')));
    stop = true;
    await Promise.all(slow);
  } finally {
    stop = true;
    await l.stop();
  }
});

test('maxConnections=2, both connections running a handler: a third is closed unserved, they finish', {
  timeout: 10_000,
}, async () => {
  const server = createFcgiServer((_req, res) => void setTimeout(() => res.end('done'), 1500), {
    maxConnections: 2,
    onConnectionError: () => {},
  });
  const l = await listenForTest(server, 'unix');
  try {
    const a = await l.connect();
    const b = await l.connect();
    a.sendRequest(1, getParams('/a'));
    b.sendRequest(1, getParams('/b'));
    await sleep(1200);
    const c = await l.connect();
    c.sendRequest(1, getParams('/c'));
    await c.closedByPeer(3000);
    assert.deepEqual(c.records, []);
    assert.equal(parseCgi((await a.reply(1)).stdout).body.toString(), 'done');
    assert.equal(parseCgi((await b.reply(1)).stdout).body.toString(), 'done');
  } finally {
    await l.stop();
  }
});
