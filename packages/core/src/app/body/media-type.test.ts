// Content-Type parsing, the `type` option, byte limits, charsets, and the JSON rules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseBytes } from '../../semantics/index.js';
import { decoderFor } from './charset.js';
import { parseJson } from './json.js';
import { charsetOf, hasBody, typeMatcher } from './media-type.js';
import { parseDisposition, parsePartHeaders } from './part-headers.js';

const req = (headers: Record<string, string>) => ({ headers });

test('charsetOf: the charset parameter, lower case', () => {
  assert.equal(charsetOf(req({ 'content-type': 'text/plain; charset=ISO-8859-1' })), 'iso-8859-1');
  assert.equal(charsetOf(req({ 'content-type': 'text/plain' })), undefined);
});

test('typeMatcher: media types, extensions, wildcards, suffixes, functions', () => {
  const t = (spec: Parameters<typeof typeMatcher>[0], ct: string) => typeMatcher(spec)(req({ 'content-type': ct }));
  assert.equal(t('application/json', 'application/json; charset=utf-8'), true);
  assert.equal(t('json', 'application/json'), true);
  assert.equal(t('urlencoded', 'application/x-www-form-urlencoded'), true);
  assert.equal(t('*/*', 'image/png'), true);
  assert.equal(t('text/*', 'text/csv'), true);
  assert.equal(t('+json', 'application/vnd.api+json'), true);
  assert.equal(t('application/*+json', 'application/ld+json'), true);
  assert.equal(t(['text/plain', 'json'], 'application/json'), true);
  assert.equal(t('application/json', 'text/json'), false);
  assert.equal(t('application/json', 'not a type'), false);
  assert.equal(
    t(() => true, 'anything'),
    true,
  );
  assert.equal(t('+json', 'application/json'), false);
});

test('hasBody: Content-Length (even 0) or Transfer-Encoding', () => {
  assert.equal(hasBody(req({})), false);
  assert.equal(hasBody(req({ 'content-length': '0' })), true);
  assert.equal(hasBody(req({ 'content-length': '12' })), true);
  assert.equal(hasBody(req({ 'content-length': 'x' })), false);
  assert.equal(hasBody(req({ 'transfer-encoding': 'chunked' })), true);
});

test('parseBytes: numbers and unit strings', () => {
  assert.equal(parseBytes(undefined, 7), 7);
  assert.equal(parseBytes(10, 7), 10);
  assert.equal(parseBytes('100kb', 0), 102400);
  assert.equal(parseBytes('1MB', 0), 1048576);
  assert.equal(parseBytes('1.5 kb', 0), 1536);
  assert.equal(parseBytes('42', 0), 42);
  assert.throws(() => parseBytes('lots', 0), TypeError);
  assert.throws(() => parseBytes(-1, 0), TypeError);
});

test('decoderFor: utf-8 without BOM, exact latin1, utf-16le, unknown is null', () => {
  assert.equal(decoderFor('utf-8')!(Buffer.from('\ufeffgrüß')), 'grüß');
  assert.equal(decoderFor('ISO-8859-1')!(Buffer.from([0x80, 0xe9])), '\u0080é');
  assert.equal(decoderFor('utf-16le')!(Buffer.from('hé', 'utf16le')), 'hé');
  assert.equal(decoderFor('koi8-r')!(Buffer.from([0xc1])), 'а');
  assert.equal(decoderFor('utf-32le')!(Buffer.from([0x61, 0, 0, 0])), 'a', 'iconv-lite knows UTF-32, as body-parser');
  assert.equal(decoderFor('nope'), null);
});

test('parseJson: strict mode, empty body, clear messages', () => {
  assert.deepEqual(parseJson('', true), {});
  assert.deepEqual(parseJson(' \n[1]', true), [1]);
  assert.equal(parseJson('true', false), true);
  assert.throws(
    () => parseJson('  "str"', true),
    (e: Error) => e instanceof SyntaxError && /position 2/.test(e.message) && /object or an array/.test(e.message),
  );
  assert.throws(
    () => parseJson('{"a":', true),
    (e: Error) => e instanceof SyntaxError && /^Invalid JSON body/.test(e.message),
  );
  const r = parseJson('{"__proto__":{"x":1}}', true) as Record<string, unknown>;
  assert.equal(({} as Record<string, unknown>).x, undefined);
  assert.equal(Object.getPrototypeOf(r), Object.prototype);
  assert.deepEqual(
    parseJson('{"a":2}', true, (k, v) => (k === 'a' ? v * 10 : v)),
    { a: 20 },
  );
});

test('part headers and Content-Disposition', () => {
  const h = parsePartHeaders(
    Buffer.from(
      'Content-Disposition: form-data;\r\n name="f"; filename="C:\\dir\\ä.txt"\r\nContent-Type: text/plain\r\ncontent-type: ignored',
    ),
  );
  assert.equal(h['content-type'], 'text/plain');
  const d = parseDisposition(h['content-disposition']);
  assert.deepEqual({ ...d }, { type: 'form-data', name: 'f', filename: 'ä.txt' });
  assert.deepEqual(
    { ...parseDisposition(`form-data; name="f"; filename="a.txt"; filename*=UTF-8''%E2%82%AC%20rates.txt`) },
    { type: 'form-data', name: 'f', filename: '€ rates.txt' },
  );
  assert.deepEqual(
    { ...parseDisposition('form-data; name=plain') },
    { type: 'form-data', name: 'plain', filename: undefined },
  );
  assert.equal(parseDisposition('form-data; name="unterminated'), null);
  assert.throws(() => parsePartHeaders(Buffer.from('no colon here')), { status: 400 });
  assert.throws(() => parsePartHeaders(Buffer.from('A: 1\r\nB: 2\r\nC: 3'), 2), { status: 413 });
});
