// Streaming a file over real FastCGI: a client that stops reading stalls the file reads (memory
// stays flat while 1 GB waits), a client that goes away closes the file and tells sendFile's
// callback (ECONNABORTED), and a whole file arrives byte-exact through the HTTP gateway.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readlinkSync } from 'node:fs';
import { mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createApp, createFcgiServer, sendFile, serve, type FcgiServer, type Handler } from '@fcgi/core';
import { RecordType, encodeBeginRequest, encodeNameValues, encodeStream } from '@fcgi/core/protocol';
import { serveStatic } from '@fcgi/static';
import { nginxParams, request } from './helpers/http-harness.js';

const GB = 1024 * 1024 * 1024;
const onLinux = process.platform === 'linux';

/** Descriptors of this process open on `path` (Linux /proc). */
function openCount(path: string): number {
  let n = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) === path) n++;
    } catch {
      // closed meanwhile
    }
  }
  return n;
}

async function waitFor(cond: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Starts a request on a raw socket and counts the bytes that come back, without keeping them. */
function rawGet(socketPath: string, uri: string): Promise<{ socket: Socket; received: () => number }> {
  return new Promise((resolve, reject) => {
    const socket = connect(socketPath);
    let received = 0;
    socket.on('data', (c: Buffer) => {
      received += c.length;
    });
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.write(encodeBeginRequest(1, 1, false));
      socket.write(
        encodeStream(RecordType.PARAMS, 1, encodeNameValues(nginxParams({ REQUEST_URI: uri, SCRIPT_NAME: uri }))),
      );
      socket.write(encodeStream(RecordType.STDIN, 1, Buffer.alloc(0)));
      resolve({ socket, received: () => received });
    });
  });
}

describe('send: streaming', { timeout: 60_000 }, () => {
  let dir: string;
  let big: string;
  let server: FcgiServer;
  let socketPath: string;
  const callbacks: (string | undefined)[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fcgi-send-stream-'));
    big = join(dir, 'big.bin');
    await writeFile(big, '');
    await truncate(big, GB);
    const app = createApp();
    app.use('/cb', (_req, res) =>
      sendFile(res, big, (err) => callbacks.push((err as { code?: string } | undefined)?.code)),
    );
    app.use(serveStatic(dir));
    socketPath = join(dir, 'app.sock');
    server = createFcgiServer(app as unknown as Handler, { onConnectionError: () => {} });
    await server.listenOn({ kind: 'unix', path: socketPath });
  });

  after(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('a client that stops reading stalls the reads: memory stays flat, then the file closes on abort', {
    skip: !onLinux && 'needs /proc',
  }, async () => {
    const before = process.memoryUsage();
    const c = await rawGet(socketPath, '/big.bin');
    await waitFor(() => c.received() > 1024 * 1024, 5000, 'the first megabyte');
    c.socket.pause();
    await waitFor(() => openCount(big) === 1, 2000, 'the file to be open');
    let peakRss = 0;
    let peakBuffers = 0;
    for (let i = 0; i < 25; i++) {
      await new Promise((r) => setTimeout(r, 40));
      const m = process.memoryUsage();
      peakRss = Math.max(peakRss, m.rss);
      peakBuffers = Math.max(peakBuffers, m.arrayBuffers);
    }
    // Unthrottled, a second of sparse reads would be hundreds of MB.
    assert.ok(
      peakBuffers - before.arrayBuffers < 32 * 1048576,
      `arrayBuffers grew ${peakBuffers - before.arrayBuffers}`,
    );
    assert.ok(peakRss - before.rss < 64 * 1048576, `rss grew ${peakRss - before.rss}`);
    assert.ok(c.received() < 64 * 1048576, 'the client did not read it all');
    c.socket.destroy();
    await waitFor(() => openCount(big) === 0, 3000, 'the file to be closed after the abort');
  });

  it('no descriptor is left open after HEAD, 304, 412, 416 and ranges', {
    skip: !onLinux && 'needs /proc',
  }, async () => {
    const cases: [Record<string, string>, string, number][] = [
      [{}, 'HEAD', 200],
      [{ HTTP_IF_NONE_MATCH: '*' }, 'GET', 304],
      [{ HTTP_IF_MATCH: '"x"' }, 'GET', 412],
      [{ HTTP_RANGE: `bytes=${GB}-` }, 'GET', 416],
      [{ HTTP_RANGE: 'bytes=0-9,100-109' }, 'GET', 206],
      [{ HTTP_RANGE: 'bytes=-10' }, 'GET', 206],
    ];
    for (const [headers, method, status] of cases) {
      const r = await request(
        socketPath,
        nginxParams({ REQUEST_URI: '/big.bin', SCRIPT_NAME: '/big.bin', REQUEST_METHOD: method, ...headers }),
      );
      assert.equal(r.status, status, JSON.stringify(headers));
    }
    await waitFor(() => openCount(big) === 0, 2000, 'every descriptor to be closed');
  });

  it("sendFile's callback hears ECONNABORTED when the client leaves mid-file", {
    skip: !onLinux && 'needs /proc',
  }, async () => {
    const c = await rawGet(socketPath, '/cb');
    await waitFor(() => c.received() > 256 * 1024, 5000, 'some bytes');
    c.socket.destroy();
    await waitFor(() => callbacks.length === 1, 3000, 'the callback');
    assert.deepEqual(callbacks, ['ECONNABORTED']);
    await waitFor(() => openCount(big) === 0, 3000, 'the file to be closed');
  });
});

describe('send: a whole file byte-exact through the HTTP gateway', { timeout: 30_000 }, () => {
  it('24 MB of random bytes, hash equal; a multi-range response of it too', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fcgi-send-gw-'));
    const data = randomBytes(24 * 1024 * 1024 + 123);
    await writeFile(join(dir, 'random.bin'), data);
    const app = createApp();
    app.use(serveStatic(dir));
    const s = await serve(app, { port: 0, announce: false });
    try {
      if (s.mode !== 'gateway') throw new Error('expected the gateway');
      const r = await fetch(`${s.url}/random.bin`);
      assert.equal(r.status, 200);
      const body = Buffer.from(await r.arrayBuffer());
      assert.equal(body.length, data.length);
      assert.equal(createHash('sha256').update(body).digest('hex'), createHash('sha256').update(data).digest('hex'));
      const ranged = await fetch(`${s.url}/random.bin`, { headers: { range: 'bytes=1000000-1000009,-10' } });
      assert.equal(ranged.status, 206);
      const text = Buffer.from(await ranged.arrayBuffer());
      assert.ok(text.includes(data.subarray(1_000_000, 1_000_010)));
      assert.ok(text.includes(data.subarray(data.length - 10)));
      assert.equal(Number(ranged.headers.get('content-length')), text.length);
    } finally {
      await s.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
