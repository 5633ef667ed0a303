import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeRecord, paddingFor, decodeHeader, Record } from './index.js';

test('paddingFor rounds up to 8', () => {
  assert.deepEqual([0, 1, 7, 8, 9, 65535].map(paddingFor), [0, 7, 1, 0, 7, 1]);
});

test('encodeRecord writes header, content and zero padding', () => {
  const rec = encodeRecord(Record.STDOUT, 0x0102, Buffer.from('abc'));
  assert.deepEqual([...rec], [1, 6, 1, 2, 0, 3, 5, 0, 97, 98, 99, 0, 0, 0, 0, 0]);
  assert.deepEqual(decodeHeader(rec), { version: 1, type: 6, requestId: 258, contentLength: 3, paddingLength: 5 });
});
