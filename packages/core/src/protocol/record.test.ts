// Record headers and whole records, checked against byte tables written out by hand from the spec.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  decodeHeader,
  encodeRecord,
  encodeStream,
  paddingFor,
  RecordType,
  streamRecordViews,
  streamRecordsLength,
  writeHeader,
  writeStreamRecords,
} from './index.js';

const bytes = (b: Uint8Array): number[] => [...b];
/** `n` bytes that differ from their neighbours, so a misplaced slice shows. */
const pattern = (n: number): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => (i * 7 + 3) & 0xff));

test('paddingFor rounds up to 8', () => {
  const table: [number, number][] = [
    [0, 0],
    [1, 7],
    [2, 6],
    [7, 1],
    [8, 0],
    [9, 7],
    [15, 1],
    [16, 0],
    [465, 7],
    [65528, 0],
    [65535, 1],
  ];
  for (const [len, pad] of table) assert.equal(paddingFor(len), pad, `paddingFor(${len})`);
});

test('writeHeader / decodeHeader byte table', () => {
  const table: { type: number; id: number; len: number; pad: number; wire: number[] }[] = [
    { type: RecordType.BEGIN_REQUEST, id: 1, len: 8, pad: 0, wire: [1, 1, 0, 1, 0, 8, 0, 0] },
    { type: RecordType.STDOUT, id: 0x0102, len: 3, pad: 5, wire: [1, 6, 1, 2, 0, 3, 5, 0] },
    { type: RecordType.GET_VALUES, id: 0, len: 0, pad: 0, wire: [1, 9, 0, 0, 0, 0, 0, 0] },
    { type: RecordType.STDIN, id: 0xffff, len: 65535, pad: 255, wire: [1, 5, 0xff, 0xff, 0xff, 0xff, 0xff, 0] },
    { type: 99, id: 0x8000, len: 0x0100, pad: 1, wire: [1, 99, 0x80, 0, 1, 0, 1, 0] },
  ];
  for (const { type, id, len, pad, wire } of table) {
    // Pre-filled with junk: the reserved byte must be written as 0, and nothing outside the 8 bytes touched.
    const buf = Buffer.alloc(12, 0xee);
    writeHeader(buf, 2, type, id, len, pad);
    assert.deepEqual(bytes(buf), [0xee, 0xee, ...wire, 0xee, 0xee]);
    assert.deepEqual(decodeHeader(buf, 2), { version: 1, type, requestId: id, contentLength: len, paddingLength: pad });
    assert.deepEqual(decodeHeader(Buffer.from(wire)), decodeHeader(buf, 2));
  }
});

test('decodeHeader reports the version as sent and refuses fewer than 8 bytes', () => {
  assert.equal(decodeHeader(Buffer.from([2, 1, 0, 1, 0, 0, 0, 0])).version, 2);
  assert.throws(() => decodeHeader(Buffer.from([1, 1, 0, 1, 0, 0, 0])), RangeError);
  assert.throws(() => decodeHeader(Buffer.alloc(16), 9), RangeError);
});

test('encodeRecord: header, content, zero padding', () => {
  assert.deepEqual(
    bytes(encodeRecord(RecordType.STDOUT, 0x0102, Buffer.from('abc'))),
    [1, 6, 1, 2, 0, 3, 5, 0, 97, 98, 99, 0, 0, 0, 0, 0],
  );
  assert.deepEqual(bytes(encodeRecord(RecordType.STDIN, 1)), [1, 5, 0, 1, 0, 0, 0, 0]);
  assert.deepEqual(
    bytes(encodeRecord(RecordType.STDERR, 3, Buffer.from('12345678'))),
    [1, 7, 0, 3, 0, 8, 0, 0, 49, 50, 51, 52, 53, 54, 55, 56],
  );
  const max = encodeRecord(RecordType.DATA, 2, pattern(65535));
  assert.equal(max.length, 8 + 65535 + 1);
  assert.deepEqual(bytes(max.subarray(0, 8)), [1, 8, 0, 2, 0xff, 0xff, 1, 0]);
  assert.deepEqual(max.subarray(8, 8 + 65535), pattern(65535));
  assert.equal(max[8 + 65535], 0);
  assert.throws(() => encodeRecord(RecordType.STDOUT, 1, Buffer.alloc(65536)), RangeError);
});

test('encodeStream splits 66000 bytes into 65535 + 465, each padded to 8, then the empty record', () => {
  const content = pattern(66000);
  const out = encodeStream(RecordType.STDOUT, 1, content);
  assert.equal(out.length, 8 + 65535 + 1 + (8 + 465 + 7) + 8);
  let at = 0;
  assert.deepEqual(bytes(out.subarray(at, at + 8)), [1, 6, 0, 1, 0xff, 0xff, 1, 0]);
  at += 8;
  assert.deepEqual(out.subarray(at, at + 65535), content.subarray(0, 65535));
  at += 65535;
  assert.deepEqual(bytes(out.subarray(at, at + 1)), [0]);
  at += 1;
  assert.deepEqual(bytes(out.subarray(at, at + 8)), [1, 6, 0, 1, 0x01, 0xd1, 7, 0]); // 465 = 0x01d1
  at += 8;
  assert.deepEqual(out.subarray(at, at + 465), content.subarray(65535));
  at += 465;
  assert.deepEqual(bytes(out.subarray(at, at + 7)), [0, 0, 0, 0, 0, 0, 0]);
  at += 7;
  assert.deepEqual(bytes(out.subarray(at)), [1, 6, 0, 1, 0, 0, 0, 0]);

  // end = false: the same bytes without the final empty record.
  assert.deepEqual(encodeStream(RecordType.STDOUT, 1, content, false), out.subarray(0, out.length - 8));
});

test('encodeStream edge sizes', () => {
  assert.deepEqual(bytes(encodeStream(RecordType.PARAMS, 7, Buffer.alloc(0))), [1, 4, 0, 7, 0, 0, 0, 0]);
  assert.equal(encodeStream(RecordType.PARAMS, 7, Buffer.alloc(0), false).length, 0);
  // Exactly one full record, then the end record; one byte more makes a second record of 1 byte.
  const full = encodeStream(RecordType.STDIN, 1, pattern(65535));
  assert.equal(full.length, 8 + 65535 + 1 + 8);
  assert.deepEqual(bytes(full.subarray(full.length - 8)), [1, 5, 0, 1, 0, 0, 0, 0]);
  const over = encodeStream(RecordType.STDIN, 1, pattern(65536), false);
  assert.equal(over.length, 8 + 65535 + 1 + 8 + 1 + 7);
  assert.deepEqual(bytes(over.subarray(65544)), [1, 5, 0, 1, 0, 1, 7, 0, pattern(65536)[65535]!, 0, 0, 0, 0, 0, 0, 0]);
});

test('streamRecordsLength matches what writeStreamRecords writes', () => {
  const table: [number, number][] = [
    [0, 0],
    [1, 16],
    [8, 16],
    [9, 24],
    [65535, 65544],
    [65536, 65560],
    [66000, 66024],
    [3 * 65535, 3 * 65544],
  ];
  for (const [len, total] of table) {
    assert.equal(streamRecordsLength(len), total, `streamRecordsLength(${len})`);
    assert.equal(encodeStream(RecordType.STDOUT, 1, Buffer.alloc(len), false).length, total);
  }
});

test('writeStreamRecords writes a sub-range at an offset and returns the end', () => {
  const out = Buffer.alloc(4 + 16 + 4, 0xee);
  const end = writeStreamRecords(out, 4, RecordType.STDERR, 5, Buffer.from('xxabcxx'), 2, 5);
  assert.equal(end, 20);
  assert.deepEqual(
    bytes(out),
    [0xee, 0xee, 0xee, 0xee, 1, 7, 0, 5, 0, 3, 5, 0, 97, 98, 99, 0, 0, 0, 0, 0, 0xee, 0xee, 0xee, 0xee],
  );
  assert.equal(
    writeStreamRecords(out, 4, RecordType.STDERR, 5, Buffer.from('abc'), 1, 1),
    4,
    'empty range writes nothing',
  );
});

test('streamRecordViews: views concatenate to encodeStream without the end record, content not copied', () => {
  for (const len of [0, 1, 8, 465, 65535, 65536, 66000, 2 * 65535 + 8]) {
    const chunk = pattern(len);
    const into: Uint8Array[] = [Buffer.from('prefix')];
    streamRecordViews(RecordType.STDOUT, 0x0203, chunk, into);
    assert.deepEqual(bytes(into[0]!), bytes(Buffer.from('prefix')), 'appends to what is there');
    const views = into.slice(1);
    assert.deepEqual(Buffer.concat(views), encodeStream(RecordType.STDOUT, 0x0203, chunk, false), `len ${len}`);
    // Per record: an 8-byte header, a view into `chunk`, and padding only when needed.
    let i = 0;
    for (let start = 0; start < len; start += 65535) {
      const n = Math.min(65535, len - start);
      const header = views[i++]!;
      assert.equal(header.length, 8);
      const content = views[i++]!;
      assert.equal(content.buffer, chunk.buffer, 'content is a view of the chunk');
      assert.equal(content.byteOffset, chunk.byteOffset + start);
      assert.equal(content.length, n);
      if (paddingFor(n) > 0) assert.deepEqual(bytes(views[i++]!), new Array(paddingFor(n)).fill(0));
    }
    assert.equal(i, views.length, `no extra views for len ${len}`);
  }
});
