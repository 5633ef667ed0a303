import { test } from 'node:test';
import assert from 'node:assert/strict';
import { headersFromEnviron, httpVersion, urlFromEnviron } from './environ.js';

// What each front sends for `GET /echo/p?q=1` (field notes, "Seen on this kind of machine").
// `undefined` means the param is not sent at all.
const FRONTS: { front: string; env: Record<string, string | undefined>; url: string }[] = [
  {
    front: 'nginx + Debian fastcgi_params',
    env: { SCRIPT_NAME: '/echo/p', PATH_INFO: undefined, REQUEST_URI: '/echo/p?q=1' },
    url: '/echo/p?q=1',
  },
  {
    front: 'mod_fcgid with AliasMatch',
    env: { SCRIPT_NAME: '', PATH_INFO: '/echo/p', REQUEST_URI: '/echo/p?q=1' },
    url: '/echo/p?q=1',
  },
  {
    front: 'mod_fcgid /app.fcgi/...',
    env: { SCRIPT_NAME: '/app.fcgi', PATH_INFO: '/echo/p', REQUEST_URI: '/app.fcgi/echo/p?q=1' },
    url: '/app.fcgi/echo/p?q=1',
  },
  {
    front: 'mod_proxy_fcgi',
    env: { SCRIPT_NAME: '/echo/p', PATH_INFO: undefined, REQUEST_URI: '/echo/p?q=1' },
    url: '/echo/p?q=1',
  },
  {
    front: 'lighttpd, prefix /',
    env: { SCRIPT_NAME: '/echo', PATH_INFO: '/p', REQUEST_URI: '/echo/p?q=1' },
    url: '/echo/p?q=1',
  },
  {
    front: 'Caddy 2.6',
    env: { SCRIPT_NAME: '', PATH_INFO: '/echo/p', REQUEST_URI: '/echo/p?q=1' },
    url: '/echo/p?q=1',
  },
];

function env(fields: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) out[k] = v;
  return out;
}

test('urlFromEnviron takes REQUEST_URI as sent by every front', () => {
  for (const { front, env: e, url } of FRONTS) {
    assert.equal(urlFromEnviron(env({ ...e, QUERY_STRING: 'q=1' })), url, front);
  }
});

test('urlFromEnviron without REQUEST_URI rebuilds SCRIPT_NAME + PATH_INFO + ?QUERY_STRING', () => {
  for (const { front, env: e, url } of FRONTS) {
    assert.equal(urlFromEnviron(env({ ...e, REQUEST_URI: undefined, QUERY_STRING: 'q=1' })), url, front);
    // An empty REQUEST_URI counts as absent too.
    assert.equal(urlFromEnviron(env({ ...e, REQUEST_URI: '', QUERY_STRING: 'q=1' })), url, front);
  }
  assert.equal(urlFromEnviron(env({ SCRIPT_NAME: '/a', PATH_INFO: '/b', QUERY_STRING: '' })), '/a/b');
  assert.equal(urlFromEnviron(env({})), '/');
  assert.equal(urlFromEnviron(env({ QUERY_STRING: 'x=1' })), '/?x=1');
});

test('headersFromEnviron: HTTP_* lower-cased with -, CONTENT_* win, empty means absent', () => {
  const h = headersFromEnviron(
    env({
      HTTP_HOST: 'example.test',
      HTTP_ACCEPT_LANGUAGE: 'de, en;q=0.5',
      HTTP_X_FORWARDED_FOR: '10.0.0.1',
      HTTP_COOKIE: 'a=1; b=2',
      HTTP_CONTENT_TYPE: 'text/old',
      CONTENT_TYPE: 'application/json',
      CONTENT_LENGTH: '12',
      REQUEST_METHOD: 'POST',
      HTTPS: 'on',
    }),
  );
  assert.deepEqual(
    { ...h },
    {
      host: 'example.test',
      'accept-language': 'de, en;q=0.5',
      'x-forwarded-for': '10.0.0.1',
      cookie: 'a=1; b=2',
      'content-type': 'application/json',
      'content-length': '12',
    },
  );
});

test('headersFromEnviron: empty CONTENT_TYPE / CONTENT_LENGTH (nginx on GET) are absent', () => {
  const h = headersFromEnviron(
    env({
      CONTENT_TYPE: '',
      CONTENT_LENGTH: '',
      HTTP_CONTENT_TYPE: 'x/y',
      HTTP_CONTENT_LENGTH: '5',
      HTTP_HOST: 'h',
    }),
  );
  assert.deepEqual({ ...h }, { host: 'h' });
  assert.equal('content-type' in h, false);
  assert.equal('content-length' in h, false);
  // Apache: no HTTP_ copies, CONTENT_LENGTH "0" for an empty body stays.
  assert.deepEqual({ ...headersFromEnviron(env({ CONTENT_LENGTH: '0' })) }, { 'content-length': '0' });
  // Only the HTTP_ copy sent: it is used.
  assert.deepEqual(
    { ...headersFromEnviron(env({ HTTP_CONTENT_TYPE: 'text/plain' })) },
    { 'content-type': 'text/plain' },
  );
});

test('headersFromEnviron keeps a header named like an Object.prototype member as data', () => {
  const h = headersFromEnviron(env({ HTTP___PROTO__: 'x', HTTP_CONSTRUCTOR: 'y' }));
  // A plain object, as node:http's req.headers (Next.js calls headers.hasOwnProperty()).
  assert.equal(Object.getPrototypeOf(h), Object.prototype);
  assert.ok(Object.hasOwn(h, 'constructor'));
  assert.equal(h['--proto--'], 'x');
  assert.equal(h['constructor'], 'y');
});

test('httpVersion reads SERVER_PROTOCOL', () => {
  assert.deepEqual(httpVersion('HTTP/1.1'), [1, 1]);
  assert.deepEqual(httpVersion('HTTP/1.0'), [1, 0]);
  assert.deepEqual(httpVersion('HTTP/2.0'), [2, 0]);
  assert.deepEqual(httpVersion('HTTP/2'), [2, 0]);
  assert.deepEqual(httpVersion('HTTP/3'), [3, 0]);
  assert.deepEqual(httpVersion(undefined), [1, 0]);
  assert.deepEqual(httpVersion('INCLUDED'), [1, 0]);
});

test('headersFromEnviron fills the flat raw list with the same headers (CONTENT_* win, empty is absent)', () => {
  const raw: string[] = [];
  const h = headersFromEnviron(
    env({
      HTTP_HOST: 'h',
      HTTP_CONTENT_TYPE: 'text/old',
      HTTP_CONTENT_LENGTH: '5',
      CONTENT_TYPE: 'application/json',
      CONTENT_LENGTH: '',
    }),
    raw,
  );
  assert.deepEqual(raw, ['host', 'h', 'content-type', 'application/json']);
  const pairs: Record<string, string> = {};
  for (let i = 0; i < raw.length; i += 2) pairs[raw[i]!] = raw[i + 1]!;
  assert.deepEqual(pairs, { ...h });
});
