// The response body and side streams: write/print/end, err() and res.stderr on FCGI_STDERR, raw
// res.stdout, write after end, and piping a large file with backpressure.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createReadStream, type ReadStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { RecordType } from '@fcgi/core/protocol';
import type { FcgiResponse } from '@fcgi/core';
import { RawClient } from './helpers/raw-client.js';
import { nginxParams, request, send, splitCgi, withServer } from './helpers/http-harness.js';

const T = { timeout: 15_000 };

test('write / print / end put the body after the block; print formats like console.log', T, async () => {
  await withServer(
    (_req, res) => {
      res.setHeader('Content-Type', 'text/plain; charset=utf-8');
      res.write('a');
      res.write(Buffer.from('b'));
      res.write('63', 'hex');
      res.print('line');
      res.print('n=%d s=%s', 5, 'x', { k: [1] });
      res.print(1, 'two', [3], null);
      res.end('zß');
    },
    async ({ path }) => {
      const r = await request(path, nginxParams());
      assert.equal(r.body.toString('utf8'), 'abcline\nn=5 s=x { k: [ 1 ] }\n1 two [ 3 ] null\nzß');
      assert.equal(r.headers['content-type'], 'text/plain; charset=utf-8');
      assert.equal(r.appStatus, 0);
    },
  );
});

test('res.err() goes to FCGI_STDERR; the empty STDERR record precedes END_REQUEST', T, async () => {
  await withServer(
    (_req, res) => {
      res.err('warn:', 42, { a: 1 });
      res.write('body');
      res.err('second');
      res.end();
    },
    async ({ path }) => {
      const r = await send(path, nginxParams());
      assert.match(
        r.stderr.toString(),
        /^\S+Z \[req (\d+-\d+)\] GET \/\S*: warn: 42 \{ a: 1 \}\n\S+Z \[req \1\] GET \/\S*: second\n$/,
      );
      assert.equal(splitCgi(r.stdout).body.toString(), 'body');
      assert.deepEqual(
        r.records.slice(-3).map((x) => [x.type, x.content.length]),
        [
          [RecordType.STDOUT, 0],
          [RecordType.STDERR, 0],
          [RecordType.END_REQUEST, 8],
        ],
      );
      assert.equal(r.records.filter((x) => x.type === RecordType.END_REQUEST).length, 1);
    },
  );
});

test('res.stderr is a stream onto FCGI_STDERR', T, async () => {
  await withServer(
    (_req, res) => {
      res.stderr.write('from ');
      res.stderr.write(Buffer.from('the stream\n'));
      res.stderr.end(() => res.end('ok'));
    },
    async ({ path }) => {
      const r = await send(path, nginxParams());
      assert.equal(r.stderr.toString(), 'from the stream\n');
      assert.equal(splitCgi(r.stdout).body.toString(), 'ok');
    },
  );
});

test('raw res.stdout: a handler writing its own block gets exactly those bytes on STDOUT', T, async () => {
  const raw = 'Status: 201 Created\r\nContent-Type: text/plain\r\n\r\nhi';
  await withServer(
    (_req, res) => {
      res.setHeader('X-Never', 'sent'); // the raw stream owns the output: no block of ours
      res.stdout.write(raw.slice(0, 20));
      res.stdout.end(raw.slice(20));
    },
    async ({ path }) => {
      const r = await send(path, nginxParams());
      assert.equal(r.stdout.toString('latin1'), raw);
      assert.equal(r.appStatus, 0);
      assert.deepEqual(
        r.records.slice(-2).map((x) => x.type),
        [RecordType.STDOUT, RecordType.END_REQUEST],
      );
    },
  );
});

test('write after end: the callback and an error listener get ERR_FCGI_WRITE_AFTER_END, no crash', T, async () => {
  const seen: string[] = [];
  await withServer(
    (req, res) => {
      res.end('done');
      if (req.path === '/listener') res.on('error', (err: NodeJS.ErrnoException) => seen.push(`listener ${err.code}`));
      const ret = res.write('late', (err) => seen.push(`callback ${(err as NodeJS.ErrnoException | null)?.code}`));
      seen.push(`returned ${ret} writable ${res.writable}`);
      if (req.path === '/bare') res.write('late again'); // no callback, no listener: must not throw
    },
    async ({ path }) => {
      assert.equal((await request(path, nginxParams({ REQUEST_URI: '/listener' }))).body.toString(), 'done');
      const bare = await request(path, nginxParams({ REQUEST_URI: '/bare' }));
      assert.equal(bare.body.toString(), 'done');
      await sleep(20);
    },
  );
  assert.deepEqual(seen.sort(), [
    'callback ERR_FCGI_WRITE_AFTER_END',
    'callback ERR_FCGI_WRITE_AFTER_END',
    'listener ERR_FCGI_WRITE_AFTER_END',
    'returned false writable false',
    'returned false writable false',
  ]);
});

test('stream.pipeline(fs.createReadStream(3 MB), res) streams it whole, with backpressure', T, async () => {
  const size = 3 * 1024 * 1024;
  const data = Buffer.alloc(size);
  for (let i = 0; i < size; i += 4) data.writeUInt32BE(i, i);
  const state: { rs?: ReadStream; res?: FcgiResponse; drains: number; error?: unknown; done: boolean } = {
    drains: 0,
    done: false,
  };
  let file = '';
  await withServer(
    (_req, res) => {
      const rs = (state.rs = createReadStream(file));
      state.res = res;
      res.on('drain', () => state.drains++);
      res.setHeader('Content-Type', 'application/octet-stream');
      pipeline(rs, res as unknown as NodeJS.WritableStream).then(
        () => {
          state.done = true;
        },
        (err: unknown) => {
          state.error = err;
          state.done = true;
        },
      );
    },
    async ({ path, dir }) => {
      file = join(dir, 'big.bin');
      await writeFile(file, data);
      const client = await RawClient.connect(path);
      try {
        client.socket.pause(); // a slow web server: nothing read yet
        client.sendRequest(1, nginxParams());
        for (let i = 0; i < 200 && !state.res?.writableNeedDrain; i++) await sleep(10);
        assert.equal(state.res?.writableNeedDrain, true, 'the response reported a full socket');
        await sleep(100);
        const readWhileBlocked = state.rs!.bytesRead;
        assert.ok(readWhileBlocked < size, `file reading paused (${readWhileBlocked} of ${size} bytes read)`);
        assert.equal(state.done, false);
        client.socket.resume();
        const r = await client.reply(1, 10_000);
        const { headers, body } = splitCgi(r.stdout);
        assert.equal(headers['content-type'], 'application/octet-stream');
        assert.equal(headers['content-length'], undefined);
        assert.equal(body.length, size);
        assert.ok(body.equals(data), 'the bytes arrived intact and in order');
        assert.equal(r.appStatus, 0);
        for (let i = 0; i < 100 && !state.done; i++) await sleep(10);
        assert.equal(state.done, true);
        assert.equal(state.error, undefined);
        assert.ok(state.drains > 0, 'drain was emitted');
      } finally {
        client.close();
      }
    },
  );
});
