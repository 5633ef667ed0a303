// The request body: req as a Readable, req.stdin, content()/text()/json() with limits, and reading
// the body after a framework swapped the request's prototype (as Express does).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { createHash } from 'node:crypto';
import { FcgiError, type FcgiRequest, type FcgiResponse } from '@fcgi/core';
import { RawClient } from './helpers/raw-client.js';
import { nginxParams, request, withServer } from './helpers/http-harness.js';

const T = { timeout: 15_000 };

function post(body: Buffer | string, extra: Record<string, string | undefined> = {}) {
  const buf = typeof body === 'string' ? Buffer.from(body) : body;
  return {
    params: nginxParams({
      REQUEST_METHOD: 'POST',
      CONTENT_TYPE: 'application/octet-stream',
      CONTENT_LENGTH: String(buf.length),
      ...extra,
    }),
    body: buf,
  };
}

test('req is a Readable and req.stdin is the same stream; data/end deliver the body', T, async () => {
  const body = Buffer.alloc(300_000);
  for (let i = 0; i < body.length; i++) body[i] = (i * 7) & 0xff;
  await withServer(
    (req, res) => {
      const hash = createHash('sha256');
      let n = 0;
      req.stdin.on('data', (c: Buffer) => {
        n += c.length;
        hash.update(c);
      });
      req.on('end', () =>
        res.end(
          JSON.stringify({
            readable: req instanceof Readable,
            same: req.stdin === req,
            n,
            sha: hash.digest('hex'),
            complete: req.complete,
          }),
        ),
      );
    },
    async ({ path }) => {
      const p = post(body);
      const r = await request(path, p.params, p.body);
      const got = JSON.parse(r.body.toString());
      assert.deepEqual(got, {
        readable: true,
        same: true,
        n: body.length,
        sha: createHash('sha256').update(body).digest('hex'),
        complete: true,
      });
    },
  );
});

test('content(), text() and json() buffer the whole body', T, async () => {
  await withServer(
    async (req, res) => {
      const kind = req.environ.KIND;
      if (kind === 'content') {
        const b = await req.content();
        res.end(`${Buffer.isBuffer(b)} ${b.length} ${b.toString('hex')}`);
      } else if (kind === 'text') res.end(`[${await req.text()}]`);
      else res.end(JSON.stringify({ parsed: await req.json() }));
    },
    async ({ path }) => {
      let p = post(Buffer.from([0, 1, 2, 0xff, 0xfe]), { KIND: 'content' });
      assert.equal((await request(path, p.params, p.body)).body.toString(), 'true 5 000102fffe');
      p = post('grüße, 世界', { KIND: 'text' });
      assert.equal((await request(path, p.params, p.body)).body.toString(), '[grüße, 世界]');
      p = post(JSON.stringify({ a: [1, 'ü'], b: null }), { KIND: 'json', CONTENT_TYPE: 'application/json' });
      assert.deepEqual(JSON.parse((await request(path, p.params, p.body)).body.toString()), {
        parsed: { a: [1, 'ü'], b: null },
      });
      // No body at all (nginx GET: empty CONTENT_LENGTH): an empty buffer.
      const g = await request(path, nginxParams({ KIND: 'content' }));
      assert.equal(g.body.toString(), 'true 0 ');
    },
  );
});

test('a body over the limit rejects with a 413 error; the handler error becomes a 413 response', T, async () => {
  const seen: unknown[] = [];
  await withServer(
    async (req, res) => {
      try {
        await req.content({ limit: Number(req.environ.LIMIT) });
      } catch (err) {
        seen.push(err);
        throw err;
      }
      res.end('read');
    },
    async ({ path }) => {
      // Streamed past the limit (and no CONTENT_LENGTH, as mod_proxy_fcgi may stream).
      let p = post(Buffer.alloc(200_000, 1), { LIMIT: '100000', CONTENT_LENGTH: undefined });
      let r = await request(path, p.params, p.body);
      assert.equal(r.status, 413);
      assert.match(r.body.toString(), /larger than 100000 bytes/);
      // CONTENT_LENGTH alone declares too much: refused before reading.
      p = post(Buffer.from('tiny'), { LIMIT: '100', CONTENT_LENGTH: '5000000' });
      r = await request(path, p.params, p.body);
      assert.equal(r.status, 413);
      // Exactly at the limit is fine.
      p = post(Buffer.alloc(100, 2), { LIMIT: '100' });
      r = await request(path, p.params, p.body);
      assert.equal(r.status, 200);
      assert.equal(r.body.toString(), 'read');
    },
  );
  assert.equal(seen.length, 2);
  for (const err of seen) {
    assert.ok(err instanceof FcgiError);
    assert.equal(err.status, 413);
    assert.equal(err.code, 'ERR_FCGI_BODY_TOO_LARGE');
  }
});

test('over the limit on a kept connection: the next request on it still works', T, async () => {
  await withServer(
    async (req, res) => {
      res.end((await req.content({ limit: 1000 })).length.toString());
    },
    async ({ path }) => {
      const client = await RawClient.connect(path);
      try {
        const big = post(Buffer.alloc(500_000, 3), { CONTENT_LENGTH: undefined });
        client.sendRequest(1, big.params, big.body, true);
        const r1 = await client.reply(1);
        assert.match(r1.stdout.toString(), /^Status: 413 /);
        const small = post('hello');
        client.sendRequest(2, small.params, small.body, true);
        const r2 = await client.reply(2);
        assert.match(r2.stdout.toString(), /\r\n\r\n5$/);
      } finally {
        client.close();
      }
    },
  );
});

test('malformed JSON rejects with a 400 error with a clear message', T, async () => {
  let caught: unknown;
  await withServer(
    async (req, res) => {
      try {
        await req.json();
      } catch (err) {
        caught = err;
        throw err;
      }
      res.end('parsed');
    },
    async ({ path }) => {
      const p = post('{"a": 1,', { CONTENT_TYPE: 'application/json' });
      const r = await request(path, p.params, p.body);
      assert.equal(r.status, 400);
      assert.match(r.body.toString(), /malformed JSON body/);
    },
  );
  assert.ok(caught instanceof FcgiError);
  assert.equal(caught.status, 400);
  assert.equal(caught.code, 'ERR_FCGI_BODY_INVALID');
  assert.match(caught.message, /^malformed JSON body: /);
});

test(
  'a malformed CONTENT_LENGTH (1e3, abc, -1, 0x10, " 5") is a 400 from json() before the body is read',
  T,
  async () => {
    const caught: unknown[] = [];
    await withServer(
      async (req, res) => {
        try {
          await req.json();
        } catch (err) {
          caught.push(err);
          throw err;
        }
        res.end('parsed');
      },
      async ({ path }) => {
        for (const length of ['1e3', 'abc', '-1', '0x10', ' 5', '5, 5']) {
          const p = post('{"a":1}', { CONTENT_TYPE: 'application/json', CONTENT_LENGTH: length });
          const r = await request(path, p.params, p.body);
          assert.equal(r.status, 400, length);
          assert.match(r.body.toString(), /malformed Content-Length/, length);
        }
        // Absent (nginx sends '' for no body) and well-formed lengths read as before.
        const ok = post('{"a":1}', { CONTENT_TYPE: 'application/json' });
        assert.equal((await request(path, ok.params, ok.body)).body.toString(), 'parsed');
      },
    );
    assert.equal(caught.length, 6);
    for (const err of caught) {
      assert.ok(err instanceof FcgiError);
      assert.equal(err.status, 400);
      assert.equal(err.code, 'ERR_FCGI_BODY_INVALID');
    }
    assert.match((caught[0] as Error).message, /^malformed Content-Length "1e3": digits only$/);
  },
);

test('after an Express-style prototype swap, req.on(data/end) still reads the body', T, async () => {
  // Larger than the body high-water mark, so reading has to resume the paused flow after the swap.
  const body = Buffer.alloc(200_000, 0x61);
  await withServer(
    (req: FcgiRequest, res: FcgiResponse) => {
      Object.setPrototypeOf(req, Object.create(IncomingMessage.prototype));
      // res keeps its prototype here: a swapped res is a separate issue.
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        res.end(
          `${req instanceof IncomingMessage} ${chunks.length > 1} ${Buffer.concat(chunks).equals(body)} ${req.headers['content-length']}`,
        );
      });
    },
    async ({ path }) => {
      const p = post(body);
      const r = await request(path, p.params, p.body);
      assert.equal(r.body.toString(), `true true true ${body.length}`);
    },
  );
});
