// What the app shows and trusts: no stack traces to clients in production (and none from the core
// responder at all), signed cookies that reject tampering, and query strings / JSON / form bodies
// that cannot pollute Object.prototype.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createApp, json, urlencoded, type Handler } from '@fcgi/core';
import { nginxParams, request, send, withServer } from './helpers/http-harness.js';

const T = { timeout: 20_000 };
const SECRET_TEXT = 'db password is hunter2';

describe('error pages', () => {
  function app(env: string): Handler {
    const a = createApp();
    a.set('env', env);
    a.use((req, _res, next) => {
      if (req.path === '/async') return Promise.reject(new Error(SECRET_TEXT));
      if (req.path === '/402') return next(Object.assign(new Error(SECRET_TEXT), { status: 402, expose: false }));
      throw new TypeError(SECRET_TEXT);
    });
    return a as unknown as Handler;
  }
  const get = (path: string, uri: string) => send(path, nginxParams({ REQUEST_URI: uri, SCRIPT_NAME: uri }));

  it('production: a 500 page with neither the message nor a stack; the stack goes to FCGI_STDERR', T, async () => {
    await withServer(app('production'), async ({ path }) => {
      for (const uri of ['/sync', '/async', '/402']) {
        const r = await get(path, uri);
        const text = r.stdout.toString('utf8');
        assert.ok(!text.includes(SECRET_TEXT), `${uri} shows the message`);
        assert.ok(!/\bat .+:\d+:\d+/.test(text), `${uri} shows a stack frame`);
        assert.ok(!text.includes('node_modules') && !text.includes('.ts'), `${uri} shows paths`);
        assert.match(text, uri === '/402' ? /Payment Required/ : /Internal Server Error/);
        assert.ok(r.stderr.toString().includes(SECRET_TEXT), `${uri}: the log has the error`);
      }
    });
  });

  it('outside production the stack is shown (so the setting is what hides it)', T, async () => {
    await withServer(app('development'), async ({ path }) => {
      const text = (await get(path, '/sync')).stdout.toString('utf8');
      assert.ok(text.includes(SECRET_TEXT));
      assert.match(text, /\bat .+:\d+:\d+/);
    });
  });

  it('the core responder (no app) answers a thrown error with a bare 500 in any environment', T, async () => {
    await withServer(
      () => {
        throw new Error(SECRET_TEXT);
      },
      async ({ path }) => {
        const r = await get(path, '/');
        assert.equal(r.stdout.toString().split('\r\n\r\n')[1], '500 Internal Server Error\n');
        assert.ok(r.stderr.toString().includes(SECRET_TEXT));
      },
    );
  });
});

describe('signed cookies', () => {
  const SECRET = 'cookie-secret';
  const sign = (v: string, secret = SECRET) =>
    `s:${v}.${createHmac('sha256', secret).update(v).digest('base64').replace(/=+$/, '')}`;

  it(
    'a valid signature verifies; a changed value, another secret, a cut or missing signature give false',
    T,
    async () => {
      const a = createApp();
      a.set('cookie secret', SECRET);
      a.use((req, res) => res.json({ signed: req.signedCookies, plain: req.cookies }));
      await withServer(a as unknown as Handler, async ({ path }) => {
        const good = sign('alice');
        const cases: [string, unknown][] = [
          [good, 'alice'],
          [good.replace('alice', 'admin'), false],
          [sign('alice', 'other-secret'), false],
          [good.slice(0, -3), false],
          ['s:alice', false],
          ['s:alice.', false],
        ];
        for (const [value, expected] of cases) {
          const r = await request(path, nginxParams({ HTTP_COOKIE: `user=${encodeURIComponent(value)}` }));
          const body = JSON.parse(r.body.toString()) as {
            signed: Record<string, unknown>;
            plain: Record<string, unknown>;
          };
          assert.equal(body.signed.user, expected, `cookie ${value}`);
          // A signed-looking value never shows up as a plain cookie either.
          assert.equal(body.plain.user, undefined);
        }
      });
    },
  );
});

describe('prototype pollution', () => {
  function app(): Handler {
    const a = createApp();
    a.use(json(), urlencoded({ extended: true }));
    a.use((req, res) => {
      const q = req.query as Record<string, unknown>;
      // A copy made the common way: at worst the copy's own prototype changes, never Object.prototype.
      Object.assign({}, req.body);
      res.json({
        polluted: ({} as Record<string, unknown>).polluted !== undefined,
        queryProto: Object.getPrototypeOf(q) === null ? 'null' : 'object',
        queryKeys: Object.keys(q),
      });
    });
    return a as unknown as Handler;
  }

  it('__proto__ and constructor keys in the query string stay plain keys of a prototype-less object', T, async () => {
    await withServer(app(), async ({ path }) => {
      const qs = '__proto__[polluted]=1&constructor[prototype][polluted]=1&__proto__=x&a[__proto__]=1';
      const r = await request(path, nginxParams({ REQUEST_URI: `/q?${qs}`, QUERY_STRING: qs }));
      const body = JSON.parse(r.body.toString());
      assert.equal(body.polluted, false);
      assert.equal(body.queryProto, 'null');
      assert.deepEqual(body.queryKeys, [
        '__proto__[polluted]',
        'constructor[prototype][polluted]',
        '__proto__',
        'a[__proto__]',
      ]);
    });
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  it('JSON and extended form bodies cannot reach Object.prototype, even copied with Object.assign', T, async () => {
    await withServer(app(), async ({ path }) => {
      const post = (type: string, body: string) =>
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
      for (const [type, body] of [
        ['application/json', '{"__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":1}}}'],
        ['application/json', '[{"__proto__":{"polluted":1}}]'],
        [
          'application/x-www-form-urlencoded',
          '__proto__[polluted]=1&constructor[prototype][polluted]=1&a[__proto__][polluted]=1',
        ],
      ] as const) {
        const r = await post(type, body);
        assert.equal(r.status, 200, body);
        assert.equal(JSON.parse(r.body.toString()).polluted, false, body);
      }
    });
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal((Object.prototype as Record<string, unknown>).polluted, undefined);
  });
});
