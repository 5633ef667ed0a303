// Faults on the app's side of a response: a handler that throws or rejects after the headers went
// out, a stream that fails mid-pipe, a handler that ignores backpressure while the web server
// resets the connection (EPIPE / ECONNRESET). The response is cut (END_REQUEST, appStatus 1),
// the error logged to FCGI_STDERR, nothing crashes, and the server serves on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable, pipeline } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { createFcgiServer, type FcgiRequest, type FcgiResponse } from '@fcgi/core';
import { listenForTest, parseCgi } from './helpers/raw-client.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const MB = 1024 * 1024;

function failingSource(): Readable {
  let n = 0;
  return new Readable({
    read() {
      if (++n > 20) this.destroy(new Error('disk read failed'));
      else this.push(Buffer.alloc(64 * 1024, 'd'));
    },
  });
}

const handler = async (req: FcgiRequest, res: FcgiResponse) => {
  switch (req.url) {
    case '/sync':
      res.setHeader('Content-Type', 'text/plain');
      res.write('first part');
      throw new Error('thrown after the headers');
    case '/async':
      res.flushHeaders();
      await sleep(10);
      throw new Error('rejected after the headers');
    case '/after-end':
      res.end('complete');
      throw new Error('thrown after end');
    case '/pipe':
      pipeline(failingSource(), res, () => {});
      return;
    default:
      res.end('ok');
  }
};

test('errors after the headers: the response is cut (appStatus 1), the error on STDERR, the server serves on', {
  timeout: 10_000,
}, async () => {
  const server = createFcgiServer(handler, { onConnectionError: () => {} });
  const l = await listenForTest(server, 'unix');
  try {
    for (const [uri, prefix, log] of [
      ['/sync', 'first part', 'thrown after the headers'],
      ['/async', '', 'rejected after the headers'],
      ['/pipe', 'dddd', null],
    ] as const) {
      const c = await l.connect();
      c.sendRequest(1, { REQUEST_URI: uri });
      const r = await c.reply(1, 5000);
      assert.equal(r.appStatus, 1, `${uri}: cut`);
      const { status, body } = parseCgi(r.stdout);
      assert.equal(status, 200, `${uri}: the status already sent stays`);
      assert.ok(body.toString().startsWith(prefix), uri);
      if (uri === '/pipe') assert.ok(body.length < 21 * 64 * 1024, 'no byte after the failure');
      if (log) assert.match(r.stderr.toString(), new RegExp(log));
      c.close();
    }
    // Throwing after end(): the response stands whole, the error is only logged.
    const c = await l.connect();
    c.sendRequest(1, { REQUEST_URI: '/after-end' });
    const r = await c.reply(1);
    assert.equal(r.appStatus, 0);
    assert.equal(parseCgi(r.stdout).body.toString(), 'complete');
    c.close();
    await sleep(50);
    assert.equal(server.activeRequests, 0);
  } finally {
    await l.stop();
  }
});

for (const kind of ['unix', 'tcp'] as const) {
  test(`an app ignoring backpressure writes 50 MB while the web server resets, over ${kind}: no crash, memory freed`, {
    timeout: 20_000,
  }, async () => {
    let writes = 0;
    let closed = false;
    const server = createFcgiServer(
      (_req, res) => {
        res.on('close', () => (closed = true));
        const chunk = Buffer.alloc(MB, 'w');
        // No waiting for 'drain': everything queues in the socket until the peer goes away.
        for (let i = 0; i < 50; i++) {
          res.write(chunk);
          writes++;
        }
        res.end();
      },
      { onConnectionError: () => {} },
    );
    const l = await listenForTest(server, kind);
    try {
      gc();
      const base = process.memoryUsage().arrayBuffers;
      const c = await l.connect();
      c.sendRequest(1, { REQUEST_URI: '/flood' });
      await c.until(() => c.records.reduce((n, r) => n + r.content.length, 0) > MB, 5000);
      if (kind === 'tcp') c.socket.resetAndDestroy();
      else c.socket.destroy();
      const deadline = Date.now() + 5000;
      while ((!closed || server.activeRequests > 0 || server.connections > 0) && Date.now() < deadline) await sleep(10);
      assert.equal(writes, 50);
      assert.equal(closed, true, "res emitted 'close'");
      assert.equal(server.activeRequests, 0);
      assert.equal(server.connections, 0);
      await sleep(50);
      gc();
      const left = (process.memoryUsage().arrayBuffers - base) / MB;
      assert.ok(left < 16, `${left.toFixed(1)} MB of buffers still held after the connection went away`);
      // The process is alive and serves.
      const c2 = await l.connect();
      c2.sendRequest(1, { REQUEST_URI: '/' });
      assert.ok((await c2.reply(1)).stdout.length > 0);
    } finally {
      await l.stop();
    }
  });
}
