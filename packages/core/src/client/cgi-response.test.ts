import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HeadReader, parseCgiHead } from './cgi-response.js';
import { resolveClientTarget } from './client-connection.js';

function feed(reader: HeadReader, bytes: Buffer, step: number) {
  for (let at = 0; at < bytes.length; at += step) {
    const r = reader.push(bytes.subarray(at, at + step));
    if (r) return { ...r, consumedTo: at + step };
  }
  return null;
}

test('HeadReader finds a CRLF block split at every byte and hands on the body after it', () => {
  const out = Buffer.from(
    'Status: 404 Not Here\r\nContent-Type: text/plain\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n\r\nbody\r\n\r\nmore',
  );
  const r = feed(new HeadReader(1024), out, 1);
  assert.ok(r);
  assert.equal(r.head.status, 404);
  assert.equal(r.head.statusText, 'Not Here');
  assert.deepEqual({ ...r.head.headers }, { 'content-type': 'text/plain', 'set-cookie': ['a=1', 'b=2'] });
  assert.deepEqual(r.head.rawHeaders, [
    ['Status', '404 Not Here'],
    ['Content-Type', 'text/plain'],
    ['Set-Cookie', 'a=1'],
    ['Set-Cookie', 'b=2'],
  ]);
  // Split per byte: the block ends with the byte that completes the empty line.
  assert.equal(r.consumedTo, out.indexOf('body'));
  assert.equal(r.rest.length, 0);
});

test('HeadReader accepts bare LF line ends and keeps the rest of the chunk as body', () => {
  const r = new HeadReader(1024).push(Buffer.from('X-A: 1\n\nhello'));
  assert.ok(r);
  assert.equal(r.head.status, 200);
  assert.equal(r.head.statusText, 'OK');
  assert.equal(r.rest.toString(), 'hello');
});

test('an empty header block is a 200 without headers', () => {
  const r = new HeadReader(1024).push(Buffer.from('\r\nraw'));
  assert.ok(r);
  assert.equal(r.head.status, 200);
  assert.deepEqual(r.head.rawHeaders, []);
  assert.equal(r.rest.toString(), 'raw');
});

test('Location without Status is a 302 (as nginx reads it); with Status the Status wins', () => {
  assert.equal(parseCgiHead('Location: /next').status, 302);
  assert.equal(parseCgiHead('Location: /next').statusText, 'Found');
  assert.equal(parseCgiHead('Status: 201\r\nLocation: /made').status, 201);
  assert.equal(parseCgiHead('Status: 201\r\nLocation: /made').statusText, 'Created');
  assert.equal(parseCgiHead('Status: 299').statusText, '');
});

test('malformed blocks are BAD_RESPONSE errors', () => {
  for (const text of ['no colon here', ': empty name', 'Bad Name: x', 'Status: abc', 'Status: 99 Low', ' folded: x']) {
    assert.throws(() => parseCgiHead(text), { code: 'ERR_FCGI_CLIENT_BAD_RESPONSE' }, text);
  }
});

test('a header block over maxHeaderBytes is refused, whole or in pieces', () => {
  const big = Buffer.from(`X-Big: ${'a'.repeat(200)}\r\n\r\n`);
  assert.throws(() => new HeadReader(100).push(big), { code: 'ERR_FCGI_CLIENT_BAD_RESPONSE' });
  const reader = new HeadReader(100);
  assert.throws(() => feed(reader, Buffer.from(`X-Big: ${'a'.repeat(200)}`), 16), {
    code: 'ERR_FCGI_CLIENT_BAD_RESPONSE',
  });
  assert.ok(new HeadReader(big.length).push(big));
});

test('HeadReader keeps its own copy of a partial block', () => {
  const reader = new HeadReader(1024);
  const chunk = Buffer.from('X-A: 1\r\n');
  assert.equal(reader.push(chunk), null);
  chunk.fill(0x7a);
  const r = reader.push(Buffer.from('\r\n'));
  assert.deepEqual(r?.head.rawHeaders, [['X-A', '1']]);
});

test('resolveClientTarget reads paths, host:port and objects', () => {
  assert.deepEqual(resolveClientTarget('/run/php/php-fpm.sock'), { path: '/run/php/php-fpm.sock' });
  assert.deepEqual(resolveClientTarget('unix:/tmp/a.sock'), { path: '/tmp/a.sock' });
  assert.deepEqual(resolveClientTarget('127.0.0.1:9000'), { host: '127.0.0.1', port: 9000 });
  assert.deepEqual(resolveClientTarget('[::1]:9000'), { host: '::1', port: 9000 });
  assert.deepEqual(resolveClientTarget({ host: 'localhost', port: 9 }), { host: 'localhost', port: 9 });
  assert.throws(() => resolveClientTarget('127.0.0.1:0'), { code: 'ERR_FCGI_CLIENT_INVALID_TARGET' });
  assert.throws(() => resolveClientTarget(''), { code: 'ERR_FCGI_CLIENT_INVALID_TARGET' });
});
