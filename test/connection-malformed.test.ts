// Malformed input over real sockets: only the offending connection closes; others are served,
// the process lives on, and onConnectionError hears about it.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { createFcgiServer, type FcgiRequest, type FcgiResponse } from '@fcgi/core';
import { RecordType, encodeBeginRequest, encodeNameValues, encodeRecord } from '@fcgi/core/protocol';
import { listenForTest, parseCgi } from './helpers/raw-client.js';

function header(version: number, type: number, id: number, len: number, pad = 0): Buffer {
  const h = Buffer.alloc(8);
  h[0] = version;
  h[1] = type;
  h.writeUInt16BE(id, 2);
  h.writeUInt16BE(len, 4);
  h[6] = pad;
  return h;
}

const begin = (id: number) => encodeBeginRequest(id, 1, true);

/** Bytes that break the protocol, each sent on a fresh connection. */
const cases: [name: string, bytes: Buffer, message: RegExp][] = [
  ['a version 2 header', Buffer.concat([header(2, RecordType.BEGIN_REQUEST, 1, 8), Buffer.alloc(8)]), /version/],
  [
    'BEGIN_REQUEST on request id 0',
    Buffer.concat([header(1, RecordType.BEGIN_REQUEST, 0, 8), Buffer.from([0, 1, 1, 0, 0, 0, 0, 0])]),
    /id 0/,
  ],
  [
    'a BEGIN_REQUEST body of 3 bytes',
    Buffer.concat([header(1, RecordType.BEGIN_REQUEST, 1, 3, 5), Buffer.alloc(8)]),
    /BEGIN_REQUEST/,
  ],
  ['BEGIN_REQUEST for an active id', Buffer.concat([begin(1), begin(1)]), /active/],
  // Name length 5, value length 3, but only "ab" follows before the stream ends.
  [
    'a truncated name-value pair in PARAMS',
    Buffer.concat([
      begin(1),
      encodeRecord(RecordType.PARAMS, 1, Buffer.from([5, 3, 0x61, 0x62])),
      encodeRecord(RecordType.PARAMS, 1),
    ]),
    /name-value/,
  ],
  [
    'a truncated 4-byte length in PARAMS',
    Buffer.concat([
      begin(1),
      encodeRecord(RecordType.PARAMS, 1, Buffer.from([0x80, 0])),
      encodeRecord(RecordType.PARAMS, 1),
    ]),
    /truncated/,
  ],
  ['garbage bytes (HTTP to a FastCGI port)', Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'), /version/],
];

const echo = async (req: FcgiRequest, res: FcgiResponse) => {
  const body = await req.text();
  res.setHeader('Content-Type', 'text/plain');
  res.end(`ok ${req.url} ${body}`);
};

for (const kind of ['unix', 'tcp'] as const) {
  describe(`malformed input over ${kind}`, () => {
    for (const [name, bytes, message] of cases) {
      test(`${name} closes only that connection`, { timeout: 5000 }, async () => {
        const errors: Error[] = [];
        let handled = 0;
        const server = createFcgiServer(
          async (req, res) => {
            handled++;
            await echo(req, res);
          },
          { onConnectionError: (err) => errors.push(err) },
        );
        const l = await listenForTest(server, kind);
        try {
          // A bystander with a request half sent, open at the same time.
          const other = await l.connect();
          other.write(begin(7));
          other.write(
            encodeRecord(RecordType.PARAMS, 7, encodeNameValues({ REQUEST_URI: '/bystander', REQUEST_METHOD: 'POST' })),
          );
          const bad = await l.connect();
          await sleep(20);
          assert.equal(server.connections, 2);
          bad.write(bytes);
          await bad.closedByPeer(3000);
          assert.equal(errors.length, 1, 'onConnectionError got the error');
          assert.ok(errors[0] instanceof Error);
          assert.match(errors[0]!.message, message);
          assert.equal(handled, 0, 'no handler ran for the malformed connection');
          // The bystander finishes its request, then another, on the same connection.
          other.write(encodeRecord(RecordType.PARAMS, 7));
          other.write(encodeRecord(RecordType.STDIN, 7, Buffer.from('still here')));
          other.write(encodeRecord(RecordType.STDIN, 7));
          assert.equal(parseCgi((await other.reply(7)).stdout).body.toString(), 'ok /bystander still here');
          other.clear();
          other.sendRequest(1, { REQUEST_URI: '/again' }, Buffer.alloc(0), true);
          assert.equal(parseCgi((await other.reply(1)).stdout).body.toString(), 'ok /again ');
          assert.equal(server.connections, 1);
          // And new connections are accepted.
          const fresh = await l.connect();
          fresh.sendRequest(1, { REQUEST_URI: '/fresh' });
          assert.equal(parseCgi((await fresh.reply(1)).stdout).body.toString(), 'ok /fresh ');
          assert.equal(errors.length, 1);
        } finally {
          await l.stop();
        }
      });
    }

    test('a malformed record aborts the requests in flight on that connection', { timeout: 5000 }, async () => {
      const errors: Error[] = [];
      let aborted = false;
      let started!: () => void;
      const running = new Promise<void>((resolve) => (started = resolve));
      const server = createFcgiServer(
        (req) => {
          req.signal.addEventListener('abort', () => (aborted = true));
          started();
        },
        { onConnectionError: (err) => errors.push(err) },
      );
      const l = await listenForTest(server, kind);
      try {
        const c = await l.connect();
        c.sendRequest(1, { REQUEST_URI: '/wait' }, Buffer.alloc(0), true);
        await running;
        c.write(header(9, 1, 1, 0));
        await c.closedByPeer(3000);
        await sleep(20);
        assert.equal(aborted, true);
        assert.equal(errors.length, 1);
        assert.equal(server.activeRequests, 0);
      } finally {
        await l.stop();
      }
    });
  });
}
