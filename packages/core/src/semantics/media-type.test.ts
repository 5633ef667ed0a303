// Media types: req.is() (extensions, wildcards, +suffixes, shortcuts, malformed types, no body),
// Content-Type parsing and the charset res.send() sets.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  hasBody,
  mimeMatch,
  normalizeContentType,
  parseMediaType,
  requestTypeIs,
  setCharset,
  typeIs,
} from './media-type.js';

describe('typeIs', () => {
  it('returns the type as given, or the actual type for wildcards and suffixes', { timeout: 5_000 }, () => {
    const rows: [string | undefined, string[], string | false][] = [
      ['application/json', ['json'], 'json'],
      ['application/json; charset=utf-8', ['json'], 'json'],
      ['application/json', ['html', 'json'], 'json'],
      ['application/json', ['application/json'], 'application/json'],
      ['application/json', ['html', 'application/*'], 'application/json'],
      ['application/json', ['html'], false],
      ['text/html; charset=utf-8', ['text/*'], 'text/html'],
      ['text/html', ['*/*'], 'text/html'],
      ['text/html', ['*/html'], 'text/html'],
      ['TEXT/HTML; Charset="UTF-8"', ['html'], 'html'],
      ['text/html', [], 'text/html'],
      ['application/vnd.api+json', ['+json'], 'application/vnd.api+json'],
      ['application/ld+json', ['*/*+json'], 'application/ld+json'],
      ['application/ld+json', ['application/*+json'], 'application/ld+json'],
      ['application/json', ['+json'], false],
      ['application/x-www-form-urlencoded', ['urlencoded'], 'urlencoded'],
      ['multipart/form-data; boundary=xyz', ['multipart'], 'multipart'],
      ['multipart/form-data', ['multipart/*'], 'multipart/form-data'],
      ['image/png', ['no-such-extension'], false],
      // Missing or malformed Content-Type: false.
      [undefined, ['json'], false],
      ['', [], false],
      // Only the type is checked: odd parameters do not spoil it (type-is 2.1).
      ['text/html;', ['html'], 'html'],
      ['text/html; charset', ['html'], 'html'],
      ['text/', ['text/*'], false],
      ['text/html/x', ['*/*'], false],
      ['te xt/html', ['*/*'], false],
    ];
    for (const [value, types, expected] of rows) {
      assert.equal(typeIs(value, types), expected, `${JSON.stringify(value)} is ${JSON.stringify(types)}`);
    }
  });

  it('normalizes Content-Type and matches parts', { timeout: 5_000 }, () => {
    assert.equal(normalizeContentType(' Application/JSON ; charset="utf-8" '), 'application/json');
    assert.equal(normalizeContentType('text/plain; a=1; b="x; y"'), 'text/plain');
    assert.equal(normalizeContentType('\ttext/plain\t; a=1 b'), 'text/plain');
    assert.equal(normalizeContentType('text/plain ,x'), null);
    assert.equal(normalizeContentType('/plain'), null);
    assert.equal(mimeMatch('*/*+xml', 'image/svg+xml'), true);
    assert.equal(mimeMatch('*/*+xml', 'application/xml'), false);
    assert.equal(mimeMatch(false, 'text/html'), false);
  });

  it('null without a body; a body is a Transfer-Encoding or a numeric Content-Length', { timeout: 5_000 }, () => {
    assert.equal(hasBody({}), false);
    assert.equal(hasBody({ 'content-length': '0' }), true);
    assert.equal(hasBody({ 'content-length': 'abc' }), false);
    assert.equal(hasBody({ 'transfer-encoding': 'chunked' }), true);
    assert.equal(requestTypeIs({ 'content-type': 'application/json' }, ['json']), null);
    assert.equal(requestTypeIs({ 'content-type': 'application/json', 'content-length': '2' }, ['json']), 'json');
    assert.equal(requestTypeIs({ 'content-length': '2' }, ['json']), false);
  });
});

describe('parseMediaType', () => {
  it('reads type and parameters as content-type 2 does', { timeout: 5_000 }, () => {
    const mt = parseMediaType('Application/JSON; Charset="UTF-8"; q=1')!;
    assert.deepEqual(
      { type: mt.type, params: { ...mt.params } },
      { type: 'application/json', params: { charset: 'UTF-8', q: '1' } },
    );
    assert.equal(parseMediaType('multipart/form-data; boundary="a \\"b\\" c"')!.params.boundary, 'a "b" c');
    assert.equal(parseMediaType('json'), null);
    assert.equal(parseMediaType(''), null);
    assert.equal(parseMediaType(undefined), null);
    assert.equal(parseMediaType('te xt/plain'), null);
    // Deliberately as body-parser 2 (content-type 2): a malformed parameter is skipped, not fatal.
    assert.deepEqual({ ...parseMediaType('text/plain; charset')!.params }, {});
    assert.deepEqual({ ...parseMediaType('text/plain; charset="utf-8')!.params }, {});
    assert.equal(parseMediaType('text/plain; charset=a; charset=b')!.params.charset, 'a');
  });
});

describe('setCharset', () => {
  it('replaces a charset in place, else appends one', { timeout: 5_000 }, () => {
    assert.equal(setCharset('text/html', 'utf-8'), 'text/html; charset=utf-8');
    assert.equal(setCharset('image/png', 'utf-8'), 'image/png; charset=utf-8');
    assert.equal(setCharset('text/plain; charset=iso-8859-1', 'utf-8'), 'text/plain; charset=utf-8');
    assert.equal(setCharset('text/plain;foo=bar', 'utf-8'), 'text/plain; foo=bar; charset=utf-8');
    assert.equal(setCharset('text/plain; Charset=latin1; foo=bar', 'utf-8'), 'text/plain; charset=utf-8; foo=bar');
    assert.equal(setCharset('not a type', 'utf-8'), 'not a type');
  });
});
