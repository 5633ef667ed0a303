import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RecordType, RecordParser, decodeNameValues } from '../protocol/index.js';
import { encodeParams, withContentLength } from './params.js';

function records(buf: Buffer): { type: number; content: Buffer }[] {
  const out: { type: number; content: Buffer }[] = [];
  new RecordParser({ record: (type, _id, content) => void out.push({ type, content: Buffer.from(content) }) }).push(
    buf,
  );
  return out;
}

test('encodeParams packs whole pairs per record: every record decodes on its own (as PHP-FPM reads them)', () => {
  const params: Record<string, string> = {};
  for (let i = 0; i < 40; i++) params[`HTTP_X_P${i}`] = String(i).repeat(2000).slice(0, 2000);
  const recs = records(encodeParams(1, params));
  assert.ok(recs.length >= 3, 'over 64 KiB needs several records');
  assert.equal(recs.at(-1)!.content.length, 0, 'ends with the empty record');
  const merged: Record<string, string> = {};
  for (const r of recs.slice(0, -1)) {
    assert.equal(r.type, RecordType.PARAMS);
    assert.ok(r.content.length <= 65535);
    Object.assign(merged, decodeNameValues(r.content)); // throws if a pair straddles
  }
  assert.deepEqual(merged, params);
});

test('only a pair larger than a record spans records; list params keep their order', () => {
  const big = 'b'.repeat(100_000);
  const recs = records(
    encodeParams(1, [
      ['A', '1'],
      ['BIG', big],
      ['C', '3'],
    ]),
  );
  assert.deepEqual({ ...decodeNameValues(recs[0]!.content) }, { A: '1' });
  const all = decodeNameValues(Buffer.concat(recs.map((r) => r.content)));
  assert.deepEqual(Object.keys(all), ['A', 'BIG', 'C']);
  assert.equal(all.BIG, big);
  assert.equal(records(encodeParams(1, {})).length, 1, 'no params: just the empty record');
});

test('withContentLength adds CONTENT_LENGTH unless given', () => {
  assert.deepEqual(withContentLength({ A: '1' }, 5), { A: '1', CONTENT_LENGTH: '5' });
  assert.deepEqual(withContentLength({ CONTENT_LENGTH: '9' }, 5), { CONTENT_LENGTH: '9' });
  assert.deepEqual(withContentLength([['A', '1']], 5), [
    ['A', '1'],
    ['CONTENT_LENGTH', '5'],
  ]);
});
