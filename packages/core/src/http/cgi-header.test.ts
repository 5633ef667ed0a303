import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '../errors.js';
import { checkHeaderName, checkHeaderValue, checkStatus, serializeHead } from './cgi-header.js';
import type { HeaderEntry } from './out-headers.js';

function headers(...entries: [string, string | string[]][]): Record<string, HeaderEntry> {
  const out: Record<string, HeaderEntry> = Object.create(null);
  for (const [name, value] of entries) out[name.toLowerCase()] = [name, value];
  return out;
}

test('serializeHead leaves out Status for a plain 200, unless the block would be empty (CGI wants a field)', () => {
  assert.equal(serializeHead(200, '', headers(['Content-Type', 'text/plain'])), 'Content-Type: text/plain\r\n\r\n');
  assert.equal(serializeHead(200, '', headers()), 'Status: 200 OK\r\n\r\n');
});

test('serializeHead writes Status for other codes, for a reason, and for 200 with Location', () => {
  assert.equal(serializeHead(404, '', headers()), 'Status: 404 Not Found\r\n\r\n');
  assert.equal(serializeHead(404, 'Nope', headers()), 'Status: 404 Nope\r\n\r\n');
  assert.equal(serializeHead(200, 'Fine', headers()), 'Status: 200 Fine\r\n\r\n');
  assert.equal(serializeHead(299, '', headers()), 'Status: 299 Unknown\r\n\r\n');
  assert.equal(serializeHead(200, '', headers(['Location', '/x'])), 'Status: 200 OK\r\nLocation: /x\r\n\r\n');
});

test('serializeHead repeats a multi-valued header and drops hop-by-hop headers', () => {
  const h = headers(
    ['Set-Cookie', ['a=1', 'b=2']],
    ['Connection', 'close'],
    ['Transfer-Encoding', 'chunked'],
    ['Keep-Alive', 'timeout=5'],
    ['X-A', 'y'],
  );
  assert.equal(
    serializeHead(201, '', h),
    'Status: 201 Created\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nX-A: y\r\n\r\n',
  );
});

test('checkHeaderName refuses CR, LF, NUL, spaces, colons and empty names', () => {
  for (const bad of ['X-A\r\nB', 'X\n', 'X\0', 'X A', 'X:', '', 'Ä']) {
    assert.throws(() => checkHeaderName(bad), { code: ErrorCode.INVALID_HEADER }, JSON.stringify(bad));
  }
  checkHeaderName('X-Custom_header.1');
});

test('checkHeaderValue refuses CR, LF, NUL and characters above latin1', () => {
  for (const bad of ['a\r\nSet-Cookie: x=1', 'a\rb', 'a\nb', 'a\0b', 'a\x7fb', 'snow \u2603']) {
    assert.throws(() => checkHeaderValue('X', bad), { code: ErrorCode.INVALID_HEADER }, JSON.stringify(bad));
  }
  checkHeaderValue('X', 'tab\tand latin1 \u00e9, "quoted"; q=0.5');
});

test('checkStatus accepts 200-999 integers only: a 1xx is not a final status', () => {
  for (const ok of [200, 299, 999]) checkStatus(ok);
  for (const bad of [99, 1000, 200.5, NaN]) assert.throws(() => checkStatus(bad), { code: ErrorCode.INVALID_STATUS });
  for (const interim of [100, 103, 199])
    assert.throws(() => checkStatus(interim), {
      code: ErrorCode.INVALID_STATUS,
      message: /1xx is an interim response/,
    });
  // An upgrade says why it cannot be: the web server keeps the client's connection.
  assert.throws(() => checkStatus(101), {
    code: ErrorCode.UNSUPPORTED,
    message: /101 Switching Protocols cannot pass FastCGI/,
  });
});
