// What a handler sees of the params: environ, method, url, path, query, headers, httpVersion.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FcgiRequest } from '@fcgi/core';
import { inheritsNothing } from '@fcgi/core/protocol';
import { RawClient } from './helpers/raw-client.js';
import { nginxParams, request, withServer } from './helpers/http-harness.js';

const T = { timeout: 10_000 };

/** Answers with a JSON view of the request. */
function echo(req: FcgiRequest, res: { end(s: string): unknown }): void {
  res.end(
    JSON.stringify({
      environ: Object.entries(req.environ),
      environProto: inheritsNothing(req.environ),
      method: req.method,
      url: req.url,
      originalUrl: req.originalUrl,
      baseUrl: req.baseUrl,
      path: req.path,
      query: req.query,
      headers: req.headers,
      httpVersion: req.httpVersion,
      major: req.httpVersionMajor,
      minor: req.httpVersionMinor,
    }),
  );
}

type Echo = {
  environ: [string, string][];
  environProto: boolean;
  method: string;
  url: string;
  originalUrl: string;
  baseUrl: string;
  path: string;
  query: Record<string, string | string[]>;
  headers: Record<string, string>;
  httpVersion: string;
  major: number;
  minor: number;
};

async function ask(path: string, params: Record<string, string>): Promise<Echo> {
  const r = await request(path, params);
  assert.equal(r.status, 200);
  return JSON.parse(r.body.toString('utf8')) as Echo;
}

test('environ holds every param exactly as sent, UTF-8 and __proto__ included', T, async () => {
  await withServer(echo, async ({ path }) => {
    // Sent as pairs so the order and a `__proto__` name survive as they are.
    const pairs: [string, string][] = [
      ['REQUEST_METHOD', 'GET'],
      ['REQUEST_URI', '/caf%C3%A9?x=%E2%82%AC'],
      ['__proto__', 'polluted?'],
      ['constructor', 'c'],
      ['HTTP_X_NAME', 'Jürgen – 日本 🎉'],
      ['SCRIPT_FILENAME', '/srv/ünïcode/app.js'],
      ['EMPTY', ''],
      ['LONG', 'v'.repeat(70_000)],
    ];
    const e = await ask(path, Object.fromEntries(pairs));
    assert.deepEqual(e.environ, pairs);
    assert.equal(e.environProto, true);
    assert.equal(e.headers['x-name'], 'Jürgen – 日本 🎉');
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });
});

test('method comes from REQUEST_METHOD (GET when missing); httpVersion from SERVER_PROTOCOL', T, async () => {
  await withServer(echo, async ({ path }) => {
    let e = await ask(path, nginxParams({ REQUEST_METHOD: 'PATCH', SERVER_PROTOCOL: 'HTTP/1.0' }));
    assert.equal(e.method, 'PATCH');
    assert.deepEqual([e.httpVersion, e.major, e.minor], ['1.0', 1, 0]);
    e = await ask(path, nginxParams({ REQUEST_METHOD: undefined, SERVER_PROTOCOL: 'HTTP/2.0' }));
    assert.equal(e.method, 'GET');
    assert.deepEqual([e.httpVersion, e.major, e.minor], ['2.0', 2, 0]);
    e = await ask(path, nginxParams({ SERVER_PROTOCOL: 'HTTP/1.1' }));
    assert.deepEqual([e.httpVersion, e.major, e.minor], ['1.1', 1, 1]);
  });
});

// Field notes: what each front sends for GET /echo/p?q=1, and the base the app finds in it.
const FRONTS: [string, Record<string, string | undefined>, string, string][] = [
  [
    'nginx + Debian fastcgi_params',
    { SCRIPT_NAME: '/echo/p', PATH_INFO: undefined, REQUEST_URI: '/echo/p?q=1', CONTENT_LENGTH: '' },
    '/echo/p',
    '',
  ],
  [
    'mod_fcgid, AliasMatch',
    { SCRIPT_NAME: '', PATH_INFO: '/echo/p', REQUEST_URI: '/echo/p?q=1', CONTENT_LENGTH: '0' },
    '/echo/p',
    '',
  ],
  [
    'mod_fcgid, /app.fcgi/echo/p',
    { SCRIPT_NAME: '/app.fcgi', PATH_INFO: '/echo/p', REQUEST_URI: '/app.fcgi/echo/p?q=1', CONTENT_LENGTH: undefined },
    '/app.fcgi/echo/p',
    '/app.fcgi',
  ],
  [
    // Without fix-root-scriptname lighttpd splits the first segment off: it looks like a mount.
    'lighttpd, prefix / without fix-root-scriptname',
    { SCRIPT_NAME: '/echo', PATH_INFO: '/p', REQUEST_URI: '/echo/p?q=1', CONTENT_LENGTH: '0' },
    '/echo/p',
    '/echo',
  ],
  [
    'Caddy 2.6',
    { SCRIPT_NAME: '', PATH_INFO: '/echo/p', REQUEST_URI: '/echo/p?q=1', CONTENT_LENGTH: '0' },
    '/echo/p',
    '',
  ],
];

test(
  'originalUrl is REQUEST_URI, else SCRIPT_NAME + PATH_INFO + ?QUERY_STRING; url what follows the base',
  T,
  async () => {
    await withServer(echo, async ({ path }) => {
      for (const [front, params, wantPath, wantBase] of FRONTS) {
        const wantUrl = `${wantPath}?q=1`;
        const local = wantPath.slice(wantBase.length);
        let e = await ask(path, nginxParams({ ...params, QUERY_STRING: 'q=1', DOCUMENT_URI: undefined }));
        assert.equal(e.originalUrl, wantUrl, front);
        assert.equal(e.baseUrl, wantBase, front);
        assert.equal(e.url, `${local}?q=1`, front);
        assert.equal(e.path, local, front);
        assert.deepEqual(e.query, { q: '1' }, front);
        e = await ask(
          path,
          nginxParams({ ...params, REQUEST_URI: undefined, QUERY_STRING: 'q=1', DOCUMENT_URI: undefined }),
        );
        assert.equal(e.originalUrl, wantUrl, `${front} without REQUEST_URI`);
        assert.equal(e.url, `${local}?q=1`, `${front} without REQUEST_URI`);
        assert.equal(e.path, local, `${front} without REQUEST_URI`);
      }
    });
  },
);

test('query: repeated keys become arrays, QUERY_STRING preferred over the URL', T, async () => {
  await withServer(echo, async ({ path }) => {
    let e = await ask(path, nginxParams({ REQUEST_URI: '/s?a=1&a=2&b=x%20y&c', QUERY_STRING: 'a=1&a=2&b=x%20y&c' }));
    assert.deepEqual(e.query, { a: ['1', '2'], b: 'x y', c: '' });
    assert.equal(e.path, '/s');
    // After an internal rewrite QUERY_STRING may differ from the original target: it wins.
    e = await ask(path, nginxParams({ REQUEST_URI: '/old?from=uri', QUERY_STRING: 'from=qs' }));
    assert.deepEqual(e.query, { from: 'qs' });
    // No QUERY_STRING at all: taken from the URL.
    e = await ask(path, nginxParams({ REQUEST_URI: '/p?z=9&z=8', QUERY_STRING: undefined }));
    assert.deepEqual(e.query, { z: ['9', '8'] });
    e = await ask(path, nginxParams({ REQUEST_URI: '/p', QUERY_STRING: '' }));
    assert.deepEqual(e.query, {});
  });
});

test('headers: HTTP_* lower-cased with -, content-type/length from CONTENT_*, empty ones absent', T, async () => {
  await withServer(echo, async ({ path }) => {
    // nginx GET: empty CONTENT_TYPE and CONTENT_LENGTH mean no such headers.
    let e = await ask(
      path,
      nginxParams({
        HTTP_USER_AGENT: 'curl/8',
        HTTP_ACCEPT_ENCODING: 'gzip, br',
        HTTP_COOKIE: 'a=1; b=2',
        HTTP_X_REAL_IP: '10.1.2.3',
      }),
    );
    assert.deepEqual(e.headers, {
      host: 'localhost',
      'user-agent': 'curl/8',
      'accept-encoding': 'gzip, br',
      cookie: 'a=1; b=2',
      'x-real-ip': '10.1.2.3',
    });
    // nginx POST: CONTENT_* plus their HTTP_ copies; Apache: CONTENT_* only.
    e = await ask(
      path,
      nginxParams({
        REQUEST_METHOD: 'POST',
        CONTENT_TYPE: 'application/json',
        CONTENT_LENGTH: '0',
        HTTP_CONTENT_TYPE: 'application/json',
        HTTP_CONTENT_LENGTH: '0',
      }),
    );
    assert.equal(e.headers['content-type'], 'application/json');
    assert.equal(e.headers['content-length'], '0');
    e = await ask(path, { REQUEST_METHOD: 'POST', REQUEST_URI: '/', CONTENT_TYPE: 'text/plain', CONTENT_LENGTH: '0' });
    assert.deepEqual(e.headers, { 'content-type': 'text/plain', 'content-length': '0' });
  });
});

test('each request on a kept connection gets its own environ', T, async () => {
  await withServer(echo, async ({ path }) => {
    const client = await RawClient.connect(path);
    try {
      client.sendRequest(1, nginxParams({ REQUEST_URI: '/one', HTTP_X_A: 'a' }), undefined, true);
      const r1 = await client.reply(1);
      client.sendRequest(2, nginxParams({ REQUEST_URI: '/two' }), undefined, true);
      const r2 = await client.reply(2);
      const body = (b: Buffer) => JSON.parse(b.subarray(b.indexOf('\r\n\r\n') + 4).toString()) as Echo;
      assert.equal(body(r1.stdout).url, '/one');
      assert.equal(body(r1.stdout).headers['x-a'], 'a');
      assert.equal(body(r2.stdout).url, '/two');
      assert.equal(body(r2.stdout).headers['x-a'], undefined);
    } finally {
      client.close();
    }
  });
});
