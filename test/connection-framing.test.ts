// Record framing both ways over real sockets: padding, split records, early STDIN, large bodies.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { createFcgiServer, type FcgiRequest, type FcgiResponse } from '@fcgi/core';
import { RecordType, encodeBeginRequest, encodeNameValues, encodeRecord } from '@fcgi/core/protocol';
import { FrameLog, encodeRecordPadded, listenForTest, parseCgi, type RawClient } from './helpers/raw-client.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

const BIG_OUT = randomBytes(3 * 1024 * 1024 + 77);

/** /echo answers the body; /hash its digest and size; /one and /many send BIG_OUT. */
async function handler(req: FcgiRequest, res: FcgiResponse): Promise<void> {
  res.setHeader('Content-Type', 'application/octet-stream');
  if (req.url === '/echo') return void res.end(await req.content({ limit: 1 << 20 }));
  if (req.url === '/hash') {
    const h = createHash('sha256');
    let n = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      h.update(chunk);
      n += chunk.length;
    }
    return void res.end(`${h.digest('hex')} ${n}`);
  }
  if (req.url === '/one') return void res.end(BIG_OUT);
  // /many: pieces of uneven sizes, some larger than a record, honouring backpressure.
  const sizes = [1, 100, 65535, 65536, 70000, 7, 16384, 16385, 200000];
  let at = 0;
  for (let i = 0; at < BIG_OUT.length; i++) {
    const n = Math.min(sizes[i % sizes.length]!, BIG_OUT.length - at);
    if (!res.write(BIG_OUT.subarray(at, at + n))) await new Promise((resolve) => res.once('drain', resolve));
    at += n;
  }
  res.end();
}

const answer = (c: RawClient, id: number) => parseCgi(c.replyOf(id).stdout).body;

for (const kind of ['unix', 'tcp'] as const) {
  describe(`framing over ${kind}`, () => {
    const serve = () => listenForTest(createFcgiServer(handler, { onConnectionError: () => {} }), kind);

    test('records with nonzero, garbage padding are accepted', { timeout: 5000 }, async () => {
      const l = await serve();
      try {
        const c = await l.connect();
        const params = encodeNameValues({ REQUEST_URI: '/echo', REQUEST_METHOD: 'POST' });
        c.write(encodeRecordPadded(RecordType.BEGIN_REQUEST, 1, encodeBeginRequest(1, 1, false).subarray(8), 7, 0xff));
        c.write(encodeRecordPadded(RecordType.PARAMS, 1, params.subarray(0, 9), 255, 0x01));
        c.write(encodeRecordPadded(RecordType.PARAMS, 1, params.subarray(9), 3, 0x08));
        c.write(encodeRecordPadded(RecordType.PARAMS, 1, Buffer.alloc(0), 5, 0x01)); // an empty record with padding
        c.write(encodeRecordPadded(RecordType.STDIN, 1, Buffer.from('padded '), 1, 0x01));
        c.write(encodeRecordPadded(RecordType.STDIN, 1, Buffer.from('body'), 200, 0x08));
        c.write(encodeRecordPadded(RecordType.STDIN, 1, Buffer.alloc(0), 8, 0xaa));
        await c.reply(1);
        assert.equal(answer(c, 1).toString(), 'padded body');
      } finally {
        await l.stop();
      }
    });

    test('a request split at every few bytes is read whole', { timeout: 5000 }, async () => {
      const l = await serve();
      try {
        const c = await l.connect();
        const bytes = Buffer.concat([
          encodeBeginRequest(1, 1, false),
          encodeRecordPadded(
            RecordType.PARAMS,
            1,
            encodeNameValues({ REQUEST_URI: '/echo', REQUEST_METHOD: 'POST' }),
            3,
          ),
          encodeRecord(RecordType.PARAMS, 1),
          encodeRecordPadded(RecordType.STDIN, 1, Buffer.from('trickle'), 2),
          encodeRecord(RecordType.STDIN, 1),
        ]);
        for (let at = 0; at < bytes.length; at += 3) {
          c.write(bytes.subarray(at, at + 3));
          await sleep(1);
        }
        await c.reply(1);
        assert.equal(answer(c, 1).toString(), 'trickle');
      } finally {
        await l.stop();
      }
    });

    test('STDIN sent before PARAMS end reaches the handler intact', { timeout: 5000 }, async () => {
      const l = await serve();
      try {
        const c = await l.connect();
        const params = encodeNameValues({ REQUEST_URI: '/echo', REQUEST_METHOD: 'POST' });
        c.write(encodeBeginRequest(1, 1, true));
        c.write(encodeRecord(RecordType.STDIN, 1, Buffer.from('early-')));
        c.write(encodeRecord(RecordType.PARAMS, 1, params.subarray(0, 4)));
        c.write(encodeRecord(RecordType.STDIN, 1, Buffer.from('between-')));
        c.write(encodeRecord(RecordType.PARAMS, 1, params.subarray(4)));
        c.write(encodeRecord(RecordType.PARAMS, 1));
        c.write(encodeRecord(RecordType.STDIN, 1, Buffer.from('late')));
        c.write(encodeRecord(RecordType.STDIN, 1));
        await c.reply(1);
        assert.equal(answer(c, 1).toString(), 'early-between-late');

        // The whole body, its end included, before the params end.
        c.clear();
        c.write(encodeBeginRequest(2, 1, true));
        c.write(encodeRecord(RecordType.STDIN, 2, Buffer.from('all early')));
        c.write(encodeRecord(RecordType.STDIN, 2));
        c.write(encodeRecord(RecordType.PARAMS, 2, params));
        c.write(encodeRecord(RecordType.PARAMS, 2));
        await c.reply(2);
        assert.equal(answer(c, 2).toString(), 'all early');
      } finally {
        await l.stop();
      }
    });

    test('a 5 MB upload in STDIN records of many sizes arrives intact', { timeout: 15000 }, async () => {
      const l = await serve();
      try {
        const c = await l.connect();
        const upload = randomBytes(5 * 1024 * 1024 + 3);
        c.write(encodeBeginRequest(1, 1, false));
        c.write(encodeRecord(RecordType.PARAMS, 1, encodeNameValues({ REQUEST_URI: '/hash', REQUEST_METHOD: 'PUT' })));
        c.write(encodeRecord(RecordType.PARAMS, 1));
        const sizes = [1, 7, 8, 9, 1000, 65535, 4096, 30001, 65534, 12345];
        for (let at = 0, i = 0; at < upload.length; i++) {
          const n = Math.min(sizes[i % sizes.length]!, upload.length - at);
          c.write(encodeRecordPadded(RecordType.STDIN, 1, upload.subarray(at, at + n), i % 9, 0x77));
          at += n;
        }
        c.write(encodeRecord(RecordType.STDIN, 1));
        await c.reply(1, 12000);
        assert.equal(answer(c, 1).toString(), `${sha(upload)} ${upload.length}`);
      } finally {
        await l.stop();
      }
    });

    for (const how of ['one', 'many'] as const) {
      test(`a 3 MB response (${how === 'one' ? 'one res.end(buffer)' : 'many res.write()'}) is framed correctly`, {
        timeout: 15000,
      }, async () => {
        const l = await serve();
        try {
          const c = await l.connect();
          const log = new FrameLog(c.socket);
          c.sendRequest(1, { REQUEST_URI: `/${how}` }, Buffer.alloc(0), true);
          await c.reply(1, 12000);
          await sleep(200); // anything sent after END_REQUEST would show up now
          const body = answer(c, 1);
          assert.equal(body.length, BIG_OUT.length);
          assert.equal(sha(body), sha(BIG_OUT));
          const frames = log.frames.filter((f) => f.requestId === 1);
          const last = frames.at(-1)!;
          assert.equal(last.type, RecordType.END_REQUEST, 'END_REQUEST is the last record of the request');
          assert.equal(frames.filter((f) => f.type === RecordType.END_REQUEST).length, 1);
          const out = frames.filter((f) => f.type === RecordType.STDOUT);
          assert.ok(out.length >= Math.ceil(BIG_OUT.length / 65535));
          for (const f of out) {
            assert.ok(f.contentLength <= 65535);
            assert.equal((f.contentLength + f.paddingLength) % 8, 0, 'records are padded to 8');
            assert.ok(f.paddingZero);
          }
          const empties = out.filter((f) => f.contentLength === 0);
          assert.equal(empties.length, 1, 'exactly one empty STDOUT record');
          assert.equal(frames.at(-2), empties[0], 'the empty STDOUT record comes right before END_REQUEST');
          assert.ok(
            log.frames.every((f) => f.requestId === 1),
            'nothing on other ids',
          );
        } finally {
          await l.stop();
        }
      });
    }
  });
}
