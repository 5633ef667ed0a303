// Slow peers: a web server reading a huge response slowly, one sending a huge upload faster than
// the handler reads it, and many uploads trickling in at once. Memory must stay bounded: the
// connection pauses the side that is ahead instead of buffering. (Scaled from the 1 GB at 1 MB/s
// case: 200 MB offered, read at 10 MB/s for 3 s.) Memory here is this process's: app and client.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { Readable, pipeline } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { createFcgiServer, type FcgiRequest, type FcgiResponse } from '@fcgi/core';
import { RecordType, encodeBeginRequest, encodeNameValues, encodeRecord, encodeStream } from '@fcgi/core/protocol';
import { listenForTest, parseCgi } from './helpers/raw-client.js';

const MB = 1024 * 1024;
const OFFERED = 200 * MB;
const RATE = 10 * MB; // bytes per second
const SECONDS = 3;
/**
 * Bounds on buffer memory growth (arrayBuffers: every Buffer in the process, app and client): what
 * is still held after a GC mid-transfer, and the peak including garbage not yet collected.
 */
const RETAINED_MB = 16;
const PEAK_MB = 64;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/**
 * Growth of arrayBuffers and rss over a baseline taken after GC: the peak (sampled every 25 ms) and
 * what is retained after a GC at stop(), called while the transfer is still in flight.
 */
function memoryWatch() {
  gc();
  const base = process.memoryUsage();
  let peakBuffers = 0;
  let peakRss = 0;
  const timer = setInterval(() => {
    const m = process.memoryUsage();
    peakBuffers = Math.max(peakBuffers, m.arrayBuffers - base.arrayBuffers);
    peakRss = Math.max(peakRss, m.rss - base.rss);
  }, 25);
  return {
    stop: async () => {
      clearInterval(timer);
      // Buffer backing stores are released after the GC that finds them dead, not during it: a
      // few GC rounds with a turn of the event loop between them, or a loaded machine reads
      // garbage as retained.
      for (let i = 0; i < 3; i++) {
        gc();
        await new Promise((r) => setTimeout(r, 20));
      }
      const retained = process.memoryUsage().arrayBuffers - base.arrayBuffers;
      return { buffersMB: peakBuffers / MB, retainedMB: retained / MB, rssMB: peakRss / MB };
    },
  };
}

/** Calls `take(n)` for each chunk, pausing `socket` to hold it to `rate` bytes per second. */
function throttle(stream: Socket | FcgiRequest, rate: number, take: (n: number) => void): void {
  const start = Date.now();
  let got = 0;
  stream.on('data', (chunk: Buffer) => {
    got += chunk.length;
    take(chunk.length);
    const ahead = (got / rate) * 1000 - (Date.now() - start);
    if (ahead > 5) {
      stream.pause();
      setTimeout(() => stream.resume(), ahead);
    }
  });
}

test(`slow reader: ${OFFERED / MB} MB offered, read at ${RATE / MB} MB/s for ${SECONDS} s; the app is held back, memory bounded`, {
  timeout: 30_000,
}, async (t) => {
  let produced = 0;
  let outcome: string | null = null;
  const server = createFcgiServer(
    (_req: FcgiRequest, res: FcgiResponse) => {
      const chunk = Buffer.alloc(64 * 1024, 'z');
      const source = Readable.from(
        (function* () {
          while (produced < OFFERED) {
            produced += chunk.length;
            yield chunk;
          }
        })(),
      );
      res.setHeader('Content-Type', 'application/octet-stream');
      pipeline(source, res, (err) => (outcome = err ? ((err as { code?: string }).code ?? err.message) : 'finished'));
    },
    { onConnectionError: () => {} },
  );
  const l = await listenForTest(server, 'unix');
  try {
    const watch = memoryWatch();
    const socket = connect(l.target as string);
    socket.on('error', () => {});
    await new Promise((r) => socket.once('connect', r));
    let received = 0;
    throttle(socket, RATE, (n) => (received += n));
    socket.write(
      Buffer.concat([
        encodeBeginRequest(1, 1, false),
        encodeStream(RecordType.PARAMS, 1, encodeNameValues({ REQUEST_URI: '/big' })),
        encodeStream(RecordType.STDIN, 1, Buffer.alloc(0)),
      ]),
    );
    await sleep(SECONDS * 1000);
    const lead = produced - received;
    const mem = await watch.stop();
    socket.destroy();
    t.diagnostic(
      `received ${(received / MB).toFixed(1)} MB, produced ${(produced / MB).toFixed(1)} MB; buffers: peak growth ${mem.buffersMB.toFixed(1)} MB, retained ${mem.retainedMB.toFixed(1)} MB; rss peak growth ${mem.rssMB.toFixed(1)} MB`,
    );
    assert.ok(received > RATE * SECONDS * 0.5 && received < RATE * SECONDS * 1.3, `read ${received} bytes`);
    assert.ok(lead < 16 * MB, `the app ran ${(lead / MB).toFixed(1)} MB ahead of the reader`);
    assert.ok(mem.retainedMB < RETAINED_MB, `buffers retained ${mem.retainedMB.toFixed(1)} MB`);
    assert.ok(mem.buffersMB < PEAK_MB, `buffers peaked ${mem.buffersMB.toFixed(1)} MB above the start`);
    // The web server went away: the pipeline ends with an error, the request is released.
    const deadline = Date.now() + 3000;
    while ((outcome === null || server.activeRequests > 0) && Date.now() < deadline) await sleep(10);
    assert.notEqual(outcome, null);
    assert.notEqual(outcome, 'finished');
    assert.equal(server.activeRequests, 0);
  } finally {
    await l.stop();
  }
});

test(`fast upload, slow handler: ${OFFERED / MB} MB offered, read at ${RATE / MB} MB/s for ${SECONDS} s; the socket is paused, memory bounded`, {
  timeout: 30_000,
}, async (t) => {
  let consumed = 0;
  const server = createFcgiServer(
    (req: FcgiRequest, res: FcgiResponse) => {
      throttle(req, RATE, (n) => (consumed += n));
      req.on('error', () => {});
      res.on('close', () => req.destroy());
    },
    { onConnectionError: () => {} },
  );
  const l = await listenForTest(server, 'unix');
  try {
    const watch = memoryWatch();
    const socket = connect(l.target as string);
    socket.on('error', () => {});
    await new Promise((r) => socket.once('connect', r));
    socket.write(
      Buffer.concat([
        encodeBeginRequest(1, 1, false),
        encodeStream(
          RecordType.PARAMS,
          1,
          encodeNameValues({ REQUEST_URI: '/up', REQUEST_METHOD: 'POST', CONTENT_LENGTH: String(OFFERED) }),
        ),
      ]),
    );
    // The client writes as fast as the server lets it: only its own socket's backpressure stops it.
    const piece = encodeRecord(RecordType.STDIN, 1, Buffer.alloc(65528, 'u'));
    let written = 0;
    const stopAt = Date.now() + SECONDS * 1000;
    while (Date.now() < stopAt && written < OFFERED) {
      written += 65528;
      if (!socket.write(piece))
        await Promise.race([new Promise((r) => socket.once('drain', r)), sleep(stopAt - Date.now())]);
    }
    const lead = written - consumed;
    const mem = await watch.stop();
    socket.destroy();
    t.diagnostic(
      `written ${(written / MB).toFixed(1)} MB, consumed ${(consumed / MB).toFixed(1)} MB; buffers: peak growth ${mem.buffersMB.toFixed(1)} MB, retained ${mem.retainedMB.toFixed(1)} MB; rss peak growth ${mem.rssMB.toFixed(1)} MB`,
    );
    assert.ok(consumed > RATE * SECONDS * 0.5, `consumed ${consumed} bytes`);
    assert.ok(lead < 16 * MB, `the upload ran ${(lead / MB).toFixed(1)} MB ahead of the handler`);
    assert.ok(mem.retainedMB < RETAINED_MB, `buffers retained ${mem.retainedMB.toFixed(1)} MB`);
    assert.ok(mem.buffersMB < PEAK_MB, `buffers peaked ${mem.buffersMB.toFixed(1)} MB above the start`);
    const deadline = Date.now() + 3000;
    while (server.activeRequests > 0 && Date.now() < deadline) await sleep(10);
    assert.equal(server.activeRequests, 0);
  } finally {
    await l.stop();
  }
});

test('200 uploads trickling in at once (100 bytes every 50 ms for 2 s): all served whole, memory bounded', {
  timeout: 30_000,
}, async (t) => {
  const server = createFcgiServer(
    async (req: FcgiRequest, res: FcgiResponse) => {
      const hash = createHash('sha1');
      for await (const chunk of req as AsyncIterable<Buffer>) hash.update(chunk);
      res.end(hash.digest('hex'));
    },
    { onConnectionError: () => {}, bodyTimeout: 1000 },
  );
  const l = await listenForTest(server, 'unix');
  try {
    const watch = memoryWatch();
    const clients = await Promise.all(Array.from({ length: 200 }, () => l.connect()));
    const bodies = clients.map((_, i) => Buffer.alloc(4000, String(i % 10)));
    for (const c of clients) {
      c.write(encodeBeginRequest(1, 1, false));
      c.write(
        encodeStream(RecordType.PARAMS, 1, encodeNameValues({ REQUEST_URI: '/trickle', REQUEST_METHOD: 'POST' })),
      );
    }
    for (let at = 0; at < 4000; at += 100) {
      clients.forEach((c, i) => c.write(encodeRecord(RecordType.STDIN, 1, bodies[i]!.subarray(at, at + 100))));
      await sleep(50);
    }
    for (const c of clients) c.write(encodeRecord(RecordType.STDIN, 1));
    const replies = await Promise.all(clients.map((c) => c.reply(1, 10_000)));
    const mem = await watch.stop();
    t.diagnostic(`with 200 open uploads: buffers ${mem.buffersMB.toFixed(1)} MB, rss ${mem.rssMB.toFixed(1)} MB`);
    replies.forEach((r, i) =>
      assert.equal(parseCgi(r.stdout).body.toString(), createHash('sha1').update(bodies[i]!).digest('hex')),
    );
    assert.ok(mem.retainedMB < RETAINED_MB, `buffers retained ${mem.retainedMB.toFixed(1)} MB`);
    assert.ok(mem.buffersMB < PEAK_MB, `buffers peaked ${mem.buffersMB.toFixed(1)} MB above the start`);
    assert.equal(server.activeRequests, 0);
  } finally {
    await l.stop();
  }
});
