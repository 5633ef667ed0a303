// A peer that writes and never reads: 8 MiB of 8-byte unknown-type records (each answered with a
// 16-byte UNKNOWN_TYPE record), or thousands of pipelined keep-conn requests. The connection stops
// reading while its output is backed up, so the app (another process, measured from outside)
// stays small, its queued output bounded, and it serves others meanwhile and after.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { createFcgiServer, type FcgiRequest, type FcgiResponse } from '@fcgi/core';
import { RecordType, encodeBeginRequest, encodeNameValues, encodeRecord, encodeStream } from '@fcgi/core/protocol';
import { startApp, type AppProcess } from './helpers/app-process.js';
import { MiB, rssOf, statsOf } from './helpers/peer-stats.js';
import { fcgiGet, getParams, listenForTest } from './helpers/raw-client.js';

/** Growth of the app's RSS allowed while the peer writes (the unfixed app grew ~310 MB). */
const RSS_GROWTH_MAX = 40 * MiB;
/** Output the app may hold for the peer: the socket's buffer plus the answers to one read chunk. */
const QUEUED_MAX = 1 * MiB;

/** Connects to `path` and never reads: no 'data' listener, so the kernel's buffers fill up. */
async function deafPeer(path: string): Promise<Socket> {
  const s = connect(path);
  s.on('error', () => {});
  await new Promise((r) => s.once('connect', r));
  return s;
}

async function attack(app: AppProcess, payload: Buffer, t: { diagnostic(s: string): void }): Promise<void> {
  const pid = app.child.pid!;
  // Warm up, so the baseline is the RSS of an app that has served.
  for (let i = 0; i < 20; i++) assert.equal((await fcgiGet(app.socket, '/')).body.toString(), 'ok');
  const base = rssOf(pid);
  const peer = await deafPeer(app.socket);
  // In 64 KiB writes, so what the app has not taken shows in writableLength.
  for (let at = 0; at < payload.length; at += 64 * 1024) peer.write(payload.subarray(at, at + 64 * 1024));
  let peakRss = 0;
  let peakQueued = 0;
  const until = Date.now() + 2000;
  while (Date.now() < until) {
    await sleep(100);
    peakRss = Math.max(peakRss, rssOf(pid) - base);
    // Asking serves a request on another connection: the app is not stalled by the deaf one.
    const stats = await statsOf(app.socket);
    peakQueued = Math.max(peakQueued, stats.queued);
  }
  const unsent = peer.writableLength;
  t.diagnostic(
    `offered ${(payload.length / MiB).toFixed(1)} MiB, ${(unsent / MiB).toFixed(1)} MiB never taken; app rss growth peak ${(peakRss / MiB).toFixed(1)} MiB, queued output peak ${(peakQueued / 1024).toFixed(0)} KiB`,
  );
  assert.ok(unsent > payload.length / 2, `the app read ${payload.length - unsent} bytes from a peer that never reads`);
  assert.ok(peakQueued < QUEUED_MAX, `queued output peaked at ${peakQueued} bytes`);
  assert.ok(peakRss < RSS_GROWTH_MAX, `the app grew by ${(peakRss / MiB).toFixed(1)} MiB`);
  peer.destroy();
  // Once the peer is gone its output is dropped: nothing queued, only the asking connection left.
  const deadline = Date.now() + 3000;
  let after = await statsOf(app.socket);
  while ((after.queued > 0 || after.connections > 1) && Date.now() < deadline) {
    await sleep(50);
    after = await statsOf(app.socket);
  }
  assert.equal(after.queued, 0);
  assert.equal(after.connections, 1);
  assert.ok(rssOf(pid) - base < RSS_GROWTH_MAX, 'memory stays bounded after the peer left');
  assert.equal((await fcgiGet(app.socket, '/')).body.toString(), 'ok');
}

test('8 MiB of 8-byte unknown-type records, never read: the app stops reading; rss and queued output bounded, others served', {
  timeout: 60_000,
}, async (t) => {
  const app = await startApp('test/fixtures/hostile-peer-app.ts');
  try {
    const one = encodeRecord(200, 0);
    await attack(app, Buffer.concat(Array.from({ length: (8 * MiB) / one.length }, () => one)), t);
  } finally {
    await app.stop();
  }
});

test('pipelined keep-conn requests, never read: the app stops taking requests; rss and queued output bounded', {
  timeout: 60_000,
}, async (t) => {
  const app = await startApp('test/fixtures/hostile-peer-app.ts');
  try {
    const one = Buffer.concat([
      encodeBeginRequest(1, 1, true),
      encodeStream(RecordType.PARAMS, 1, encodeNameValues(getParams('/'))),
      encodeRecord(RecordType.STDIN, 1),
    ]);
    await attack(app, Buffer.concat(Array.from({ length: Math.ceil((16 * MiB) / one.length) }, () => one)), t);
  } finally {
    await app.stop();
  }
});

test('a handler that ignores backpressure to a peer that never reads: closed past maxOutputQueueBytes, logged', {
  timeout: 20_000,
}, async () => {
  const errors: string[] = [];
  let writes = 0;
  const server = createFcgiServer(
    (req: FcgiRequest, res: FcgiResponse) => {
      if (req.url !== '/flood') return void res.end('ok');
      const chunk = Buffer.alloc(64 * 1024, 'f');
      // Writes on whatever write() returns: only the bound stops it.
      const timer = setInterval(() => {
        for (let i = 0; i < 8; i++) {
          writes++;
          res.write(chunk);
        }
      }, 5);
      res.on('close', () => clearInterval(timer));
    },
    { maxOutputQueueBytes: 2 * MiB, onConnectionError: (err) => errors.push(err.message) },
  );
  const l = await listenForTest(server, 'unix');
  try {
    const peer = await deafPeer(l.target as string);
    peer.write(
      Buffer.concat([
        encodeBeginRequest(1, 1, false),
        encodeStream(RecordType.PARAMS, 1, encodeNameValues(getParams('/flood'))),
        encodeRecord(RecordType.STDIN, 1),
      ]),
    );
    const deadline = Date.now() + 5000;
    while (!peer.destroyed && Date.now() < deadline) {
      if (peer.readableEnded || server.connections === 0) break;
      await sleep(20);
    }
    await sleep(50);
    assert.equal(server.connections, 0, 'the connection was closed');
    assert.ok(writes * 64 * 1024 < 32 * MiB, `the handler wrote ${writes} chunks before the close`);
    assert.ok(
      errors.some((m) => m.includes('maxOutputQueueBytes')),
      `logged: ${JSON.stringify(errors)}`,
    );
    assert.equal(server.queuedOutputBytes, 0);
    assert.equal((await fcgiGet(l.target, '/')).body.toString(), 'ok');
    peer.destroy();
  } finally {
    await l.stop();
  }
});
