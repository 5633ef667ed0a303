// parseContentLength: digits only, as RFC 9110 writes Content-Length; anything Number() would read otherwise is malformed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { parseContentLength } from './content-length.js';

test('absent is undefined; digits are the number; everything else is null', () => {
  assert.equal(parseContentLength(undefined), undefined);
  assert.equal(parseContentLength(''), undefined);
  for (const [text, n] of [
    ['0', 0],
    ['5', 5],
    ['007', 7],
    ['1048576', 1048576],
    ['999999999999999', 999999999999999],
  ] as const)
    assert.equal(parseContentLength(text), n);
  for (const bad of [
    '1e3',
    'abc',
    '-1',
    '+1',
    '0x10',
    ' 5',
    '5 ',
    '5, 5',
    '1.5',
    'Infinity',
    '1_000',
    '\u0665',
    '9999999999999999',
  ])
    assert.equal(parseContentLength(bad), null, JSON.stringify(bad));
});

test('property: a value is read as a number exactly when it is 1-15 ASCII digits, and then as Number() reads it', () => {
  fc.assert(
    fc.property(fc.oneof(fc.string(), fc.stringMatching(/^[0-9]{1,16}$/), fc.nat().map(String)), (text) => {
      const got = parseContentLength(text);
      if (text === '') return got === undefined;
      return /^[0-9]{1,15}$/.test(text) ? got === Number(text) : got === null;
    }),
    { numRuns: 2000 },
  );
});
