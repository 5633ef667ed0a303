// The limits a hostile or broken peer runs into, with their DEFAULTS (no option set): params size
// and count (431), bodies buffered by req.json()/content() and by the app's parsers (413, also
// from Content-Length up front), JSON nesting and parameter counts, STDIN before PARAMS end
// (connection closed), and requests per connection (OVERLOADED).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  createApp,
  createFcgiServer,
  json,
  urlencoded,
  type FcgiRequest,
  type FcgiResponse,
  type Handler,
} from '@fcgi/core';
import {
  RecordType,
  Status,
  encodeBeginRequest,
  encodeNameValues,
  encodeRecord,
  encodeStream,
} from '@fcgi/core/protocol';
import { listenForTest, parseCgi } from './helpers/raw-client.js';
import { nginxParams, request, withServer } from './helpers/http-harness.js';

const T = { timeout: 20_000 };
const KiB = 1024;

/** A core handler that counts its calls and buffers the body with req.json() (default 1 MiB limit). */
function core() {
  const calls = { n: 0 };
  const handler = async (req: FcgiRequest, res: FcgiResponse) => {
    calls.n++;
    if (req.url === '/json') {
      const v = await req.json();
      return void res.end(typeof v);
    }
    res.end('ok');
  };
  return { calls, handler };
}

describe('protocol-level limits, defaults', () => {
  it(
    'params: 256 KiB pass, one byte more is a 431 without the handler; 1000 pairs pass, 1001 are a 431',
    T,
    async () => {
      const { calls, handler } = core();
      await withServer(handler, async ({ path }) => {
        const base = encodeNameValues({ REQUEST_URI: '/p' }).length;
        // A pair of name X (1 byte) and a value whose 4-byte length fills the params to the limit.
        const fill = (total: number) => 'v'.repeat(total - base - 1 - 1 - 4);
        let r = await request(path, { REQUEST_URI: '/p', X: fill(256 * KiB) });
        assert.equal(r.status, 200);
        r = await request(path, { REQUEST_URI: '/p', X: fill(256 * KiB + 1) });
        assert.equal(r.status, 431);
        assert.equal(calls.n, 1);
        const pairs = (n: number) =>
          Object.fromEntries([['REQUEST_URI', '/p'], ...Array.from({ length: n - 1 }, (_, i) => [`P${i}`, ''])]);
        assert.equal((await request(path, pairs(1000))).status, 200);
        assert.equal((await request(path, pairs(1001))).status, 431);
        assert.equal(calls.n, 2);
      });
    },
  );

  it(
    'req.json(): 1 MiB passes, more is a 413; a Content-Length over it is refused before the body is read',
    T,
    async () => {
      const { handler } = core();
      await withServer(handler, async ({ path }) => {
        const body = (n: number) => Buffer.from(`"${'j'.repeat(n - 2)}"`);
        assert.equal(
          (await request(path, { REQUEST_URI: '/json', REQUEST_METHOD: 'POST' }, body(1024 * KiB))).status,
          200,
        );
        assert.equal(
          (await request(path, { REQUEST_URI: '/json', REQUEST_METHOD: 'POST' }, body(1024 * KiB + 1))).status,
          413,
        );
        // Only the params, announcing 1 GB: the 413 comes without a byte of body sent.
        const server = await listenRaw(handler);
        try {
          const c = await server.l.connect();
          c.write(encodeBeginRequest(1, 1, false));
          c.write(
            encodeStream(
              RecordType.PARAMS,
              1,
              encodeNameValues({ REQUEST_URI: '/json', REQUEST_METHOD: 'POST', CONTENT_LENGTH: String(2 ** 30) }),
            ),
          );
          assert.equal(parseCgi((await c.reply(1, 3000)).stdout).status, 413);
        } finally {
          await server.l.stop();
        }
      });
    },
  );

  it(
    '64 KiB of STDIN before the params end is kept for the handler; one byte more closes the connection',
    T,
    async () => {
      const handler = async (req: FcgiRequest, res: FcgiResponse) => {
        let n = 0;
        for await (const chunk of req as AsyncIterable<Buffer>) n += chunk.length;
        res.end(String(n));
      };
      const { l } = await listenRaw(handler);
      try {
        const ok = await l.connect();
        ok.write(encodeBeginRequest(1, 1, true));
        ok.write(encodeRecord(RecordType.PARAMS, 1, encodeNameValues({ REQUEST_URI: '/p' })));
        ok.write(encodeRecord(RecordType.STDIN, 1, Buffer.alloc(32 * KiB)));
        ok.write(encodeRecord(RecordType.STDIN, 1, Buffer.alloc(32 * KiB)));
        ok.write(encodeRecord(RecordType.PARAMS, 1));
        ok.write(encodeRecord(RecordType.STDIN, 1));
        assert.equal(parseCgi((await ok.reply(1)).stdout).body.toString(), String(64 * KiB));
        const over = await l.connect();
        over.write(encodeBeginRequest(1, 1, true));
        over.write(encodeRecord(RecordType.PARAMS, 1, encodeNameValues({ REQUEST_URI: '/p' })));
        over.write(encodeRecord(RecordType.STDIN, 1, Buffer.alloc(64 * KiB - 8)));
        over.write(encodeRecord(RecordType.STDIN, 1, Buffer.alloc(9)));
        await over.closedByPeer(3000);
        assert.deepEqual(over.records, []);
      } finally {
        await l.stop();
      }
    },
  );

  it('101 requests multiplexed on one connection: the 101st gets OVERLOADED and a 503', T, async () => {
    const server = createFcgiServer((_req, res) => void setTimeout(() => res.end('ok'), 200), {
      onConnectionError: () => {},
    });
    const l = await listenForTest(server, 'unix');
    try {
      const c = await l.connect();
      for (let id = 1; id <= 101; id++) c.sendRequest(id, { REQUEST_URI: '/m' }, Buffer.alloc(0), true);
      const last = await c.reply(101, 3000);
      assert.equal(last.protocolStatus, Status.OVERLOADED);
      assert.equal(parseCgi(last.stdout).status, 503);
      const first = await c.reply(1, 3000);
      assert.equal(first.protocolStatus, Status.REQUEST_COMPLETE);
    } finally {
      await l.stop();
    }
  });
});

async function listenRaw(handler: Handler) {
  const server = createFcgiServer(handler, { onConnectionError: () => {} });
  return { server, l: await listenForTest(server, 'unix') };
}

describe("the app's body parsers, defaults", () => {
  function app(): Handler {
    const a = createApp();
    a.set('env', 'production');
    a.use(json(), urlencoded({ extended: true }));
    a.use((req, res) => res.json({ keys: Object.keys(req.body ?? {}).length }));
    return a as unknown as Handler;
  }
  const post = (path: string, type: string, body: Buffer | string) =>
    request(
      path,
      nginxParams({
        REQUEST_URI: '/b',
        REQUEST_METHOD: 'POST',
        CONTENT_TYPE: type,
        CONTENT_LENGTH: String(Buffer.byteLength(body)),
      }),
      Buffer.from(body),
    );

  it(
    'json(): 100 KiB pass, more is a 413 (also from Content-Length alone); non-objects are a 400 (strict)',
    T,
    async () => {
      await withServer(app(), async ({ path }) => {
        const obj = (n: number) => `{"a":"${'x'.repeat(n - 8)}"}`;
        assert.equal((await post(path, 'application/json', obj(100 * KiB))).status, 200);
        assert.equal((await post(path, 'application/json', obj(100 * KiB + 1))).status, 413);
        assert.equal((await post(path, 'application/json', '"just a string"')).status, 400);
        const r = await request(
          path,
          nginxParams({
            REQUEST_URI: '/b',
            REQUEST_METHOD: 'POST',
            CONTENT_TYPE: 'application/json',
            CONTENT_LENGTH: String(2 ** 30),
          }),
        );
        assert.equal(r.status, 413);
      });
    },
  );

  it('json(): deep nesting within the size limit is parsed or refused, never a crash', T, async () => {
    await withServer(app(), async ({ path }) => {
      const deep = '['.repeat(50_000) + ']'.repeat(50_000);
      const r = await post(path, 'application/json', deep);
      assert.ok(r.status === 200 || r.status === 400, `status ${r.status}`);
      assert.equal((await post(path, 'application/json', '{"still":"alive"}')).status, 200);
    });
  });

  it('urlencoded(): more than 1000 parameters is a 413; nesting deeper than 32 levels a 400', T, async () => {
    await withServer(app(), async ({ path }) => {
      const form = (n: number) => Array.from({ length: n }, (_, i) => `k${i}=v`).join('&');
      assert.equal((await post(path, 'application/x-www-form-urlencoded', form(1000))).status, 200);
      assert.equal((await post(path, 'application/x-www-form-urlencoded', form(1001))).status, 413);
      assert.equal((await post(path, 'application/x-www-form-urlencoded', `a${'[b]'.repeat(40)}=1`)).status, 400);
    });
  });
});
