// Set-Cookie values as Express's res.cookie() writes them (cookie 0.7 + cookie-signature).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { unsign } from '../semantics/index.js';
import { firstSecret, serializeCookie } from './set-cookie.js';

test('values: strings encodeURIComponent-ed, objects as "j:" + JSON, Path=/ by default', () => {
  assert.equal(serializeCookie('a', 'b'), 'a=b; Path=/');
  assert.equal(serializeCookie('a', 'x y;z'), 'a=x%20y%3Bz; Path=/');
  assert.equal(serializeCookie('a', { x: 1 }), 'a=j%3A%7B%22x%22%3A1%7D; Path=/');
  assert.equal(serializeCookie('a', [1, 'two']), 'a=j%3A%5B1%2C%22two%22%5D; Path=/');
  assert.equal(serializeCookie('a', 42), 'a=42; Path=/');
  assert.equal(serializeCookie('a', 'b', { path: '/admin' }), 'a=b; Path=/admin');
  assert.equal(serializeCookie('a', 'b', { encode: (v) => v.toUpperCase() }), 'a=B; Path=/');
});

test('attributes in the cookie package order; maxAge is milliseconds: Max-Age in seconds and Expires', () => {
  const before = Date.now();
  const line = serializeCookie('id', '1', {
    maxAge: 90_500,
    domain: 'example.com',
    httpOnly: true,
    secure: true,
    sameSite: 'lax',
    priority: 'high',
    partitioned: true,
  });
  const m =
    /^id=1; Max-Age=90; Domain=example\.com; Path=\/; Expires=([^;]+); HttpOnly; Secure; Partitioned; Priority=High; SameSite=Lax$/.exec(
      line,
    );
  assert.ok(m, line);
  const expires = Date.parse(m[1]!);
  // Expires is a whole second in the HTTP date; it must be now + 90.5 s.
  assert.ok(expires >= Math.floor((before + 90_500) / 1000) * 1000 && expires <= Date.now() + 90_500, m[1]);
  assert.equal(serializeCookie('x', '', { expires: new Date(1) }), 'x=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT');
  assert.match(serializeCookie('x', 'y', { maxAge: 0 }), /^x=y; Max-Age=0; Path=\/; Expires=/);
  assert.throws(() => serializeCookie('x', 'y', { maxAge: 'soon' as never }), /maxAge is invalid/);
  assert.throws(() => serializeCookie('bad name', 'y'), /argument name is invalid: bad name/);
});

test('signed: "s:" + value.signature, the same bytes Express and cookie-parser write; needs a secret', () => {
  // Made by Express 5.3 with cookieParser('sekrit'): res.cookie('s', 'v+/=', { signed: true }).
  assert.equal(
    serializeCookie('s', 'v+/=', { signed: true }, 'sekrit'),
    's=s%3Av%2B%2F%3D.rzXgNMO6hJP7m7kPHZUwOl7a3J1fHzJgecpi6aH1mX8; Path=/',
  );
  const line = serializeCookie('o', { n: 1 }, { signed: true }, 'k');
  const value = decodeURIComponent(line.slice(2, line.indexOf(';')));
  assert.ok(value.startsWith('s:'));
  assert.equal(unsign(value.slice(2), 'k'), 'j:{"n":1}');
  assert.equal(unsign(value.slice(2), 'other'), false);
  assert.throws(() => serializeCookie('s', 'v', { signed: true }), /need a secret/);
});

test("firstSecret: a string, or a list's first", () => {
  assert.equal(firstSecret('a'), 'a');
  assert.equal(firstSecret(['b', 'c']), 'b');
  assert.equal(firstSecret(undefined), undefined);
  assert.equal(firstSecret(''), undefined);
  assert.equal(firstSecret([]), undefined);
});
