// Flow control over real sockets: a slow reader pauses the socket, a slow web server pauses the
// handler, and unread input is drained before the server closes.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { createFcgiServer, type FcgiRequest, type FcgiResponse } from '@fcgi/core';
import { RecordType, encodeBeginRequest, encodeNameValues, encodeRecord, encodeStream } from '@fcgi/core/protocol';
import { listenForTest, parseCgi } from './helpers/raw-client.js';

const MB = 1024 * 1024;
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Deterministic bytes: chunk i of `size` is filled with i % 251, so a 50 MB body needs no copy to check. */
function patternDigest(total: number, size: number): string {
  const h = createHash('sha256');
  for (let i = 0, at = 0; at < total; i++, at += size) h.update(Buffer.alloc(Math.min(size, total - at), i % 251));
  return h.digest('hex');
}

function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}

for (const kind of ['unix', 'tcp'] as const) {
  describe(`backpressure over ${kind}`, () => {
    test('a handler not reading its body pauses the socket; 20 MB still arrive', { timeout: 20000 }, async () => {
      const release = gate();
      let started = false;
      const server = createFcgiServer(
        async (req: FcgiRequest, res: FcgiResponse) => {
          started = true;
          await release.opened;
          const h = createHash('sha256');
          let n = 0;
          for await (const chunk of req as AsyncIterable<Buffer>) {
            h.update(chunk);
            n += chunk.length;
          }
          res.setHeader('Content-Type', 'text/plain');
          res.end(`${h.digest('hex')} ${n}`);
        },
        { onConnectionError: () => {} },
      );
      const serverSockets: Socket[] = [];
      server.net.on('connection', (s: Socket) => serverSockets.push(s));
      const l = await listenForTest(server, kind);
      try {
        const upload = Buffer.alloc(20 * MB);
        for (let i = 0; i < upload.length; i += 4096) upload.writeUInt32BE(i, i);
        const wire = Buffer.concat([
          encodeBeginRequest(1, 1, false),
          encodeStream(RecordType.PARAMS, 1, encodeNameValues({ REQUEST_URI: '/slow', REQUEST_METHOD: 'POST' })),
          encodeStream(RecordType.STDIN, 1, upload),
        ]);
        const c = await l.connect();
        const before = process.memoryUsage().arrayBuffers;
        c.write(wire); // queued by reference: no copy on the client side
        await sleep(1000);
        assert.ok(started, 'the handler runs before its body arrived');
        const taken = serverSockets[0]!.bytesRead;
        const grown = process.memoryUsage().arrayBuffers - before;
        assert.ok(taken < 4 * MB, `the server took ${taken} bytes from a socket it should have paused`);
        assert.ok(grown < 8 * MB, `buffers grew by ${grown} bytes while the handler was not reading`);
        assert.ok(c.socket.writableLength > 0, 'the client could not send everything');
        release.open();
        const reply = await c.reply(1, 15000);
        assert.equal(parseCgi(reply.stdout).body.toString(), `${sha(upload)} ${upload.length}`);
        assert.ok(serverSockets[0]!.bytesRead >= wire.length);
      } finally {
        release.open();
        await l.stop();
      }
    });

    test('a web server not reading pauses the handler on drain; 50 MB still arrive', { timeout: 30000 }, async () => {
      const TOTAL = 50 * MB;
      const CHUNK = 64 * 1024;
      const state = { written: 0, refused: 0, waiting: false };
      const server = createFcgiServer(
        async (_req: FcgiRequest, res: FcgiResponse) => {
          res.setHeader('Content-Type', 'application/octet-stream');
          for (let i = 0, at = 0; at < TOTAL; i++, at += CHUNK) {
            const ok = res.write(Buffer.alloc(Math.min(CHUNK, TOTAL - at), i % 251));
            state.written += Math.min(CHUNK, TOTAL - at);
            if (!ok) {
              state.refused++;
              state.waiting = true;
              await new Promise((resolve) => res.once('drain', resolve));
              state.waiting = false;
            }
          }
          res.end();
        },
        { onConnectionError: () => {} },
      );
      const serverSockets: Socket[] = [];
      server.net.on('connection', (s: Socket) => serverSockets.push(s));
      const l = await listenForTest(server, kind);
      try {
        const c = await l.connect();
        c.socket.pause(); // a web server that does not read
        c.sendRequest(1, { REQUEST_URI: '/flood' });
        await sleep(1000);
        assert.ok(state.refused >= 1, 'res.write returned false');
        assert.equal(state.waiting, true, 'the handler is waiting for drain');
        assert.ok(state.written < 20 * MB, `the handler wrote ${state.written} bytes to a peer that reads nothing`);
        assert.ok(serverSockets[0]!.writableLength < 2 * MB, 'the server socket buffers little');
        c.socket.resume();
        const reply = await c.reply(1, 25000);
        const body = parseCgi(reply.stdout).body;
        assert.equal(body.length, TOTAL);
        assert.equal(sha(body), patternDigest(TOTAL, CHUNK));
      } finally {
        await l.stop();
      }
    });

    test('an unread body is drained before the server closes: no reset, whole reply', { timeout: 15000 }, async () => {
      let bodyRead = -1;
      const server = createFcgiServer(
        (req: FcgiRequest, res: FcgiResponse) => {
          bodyRead = req.readableLength;
          res.setHeader('Content-Type', 'text/plain');
          res.end('answered without reading\n'.repeat(1000));
        },
        { onConnectionError: () => {} },
      );
      const l = await listenForTest(server, kind);
      try {
        const c = await l.connect({ allowHalfOpen: true }); // keeps sending after the server's FIN
        c.write(encodeBeginRequest(1, 1, false));
        c.write(
          encodeStream(RecordType.PARAMS, 1, encodeNameValues({ REQUEST_URI: '/quick', REQUEST_METHOD: 'POST' })),
        );
        // The body keeps coming after the reply: 2 MB in 64 KiB records, a few at a time.
        const piece = Buffer.alloc(65528, 0x42);
        let sentAfterReply = 0;
        for (let i = 0; i < 32; i++) {
          c.write(encodeRecord(RecordType.STDIN, 1, piece));
          if (c.records.some((r) => r.type === RecordType.END_REQUEST)) sentAfterReply++;
          await sleep(5);
        }
        c.write(encodeRecord(RecordType.STDIN, 1));
        c.socket.end();
        await c.reply(1);
        await c.closedByPeer(10000);
        assert.equal(c.error, null, 'the client saw no ECONNRESET/EPIPE');
        assert.equal(bodyRead, 0);
        assert.ok(sentAfterReply > 0, 'part of the body was sent after the reply arrived');
        assert.equal(parseCgi(c.replyOf(1).stdout).body.toString(), 'answered without reading\n'.repeat(1000));
      } finally {
        await l.stop();
      }
    });
  });
}
