// RecordParser fed a realistic request stream at every chunking: whole, every two-chunk split, byte by
// byte, random. Every feeding must give the same logical records, and the sink contract must hold.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeNameValues, isStreamType, RecordType, RecordParser } from './index.js';

interface Call {
  type: number;
  id: number;
  content: Buffer;
}

/** One record written out by hand (not with encodeRecord), with chosen padding length and bytes. */
function raw(type: number, id: number, content: Buffer, pad = 0, padByte = 0): Buffer {
  const header = Buffer.from([1, type, id >> 8, id & 0xff, content.length >> 8, content.length & 0xff, pad, 0]);
  return Buffer.concat([header, content, Buffer.alloc(pad, padByte)]);
}

/** A parser whose sink copies each call (content may be a view of the chunk). */
function collect(): { calls: Call[]; parser: RecordParser } {
  const calls: Call[] = [];
  const parser = new RecordParser({
    record: (type, id, content) => calls.push({ type, id, content: Buffer.from(content) }),
  });
  return { calls, parser };
}

/** Joins consecutive non-empty fragments of one stream (type and id): record boundaries mean nothing there. */
function logical(calls: Call[]): Call[] {
  const out: Call[] = [];
  for (const c of calls) {
    const last = out[out.length - 1];
    if (
      last &&
      isStreamType(c.type) &&
      c.content.length > 0 &&
      last.type === c.type &&
      last.id === c.id &&
      last.content.length > 0
    ) {
      last.content = Buffer.concat([last.content, c.content]);
    } else {
      out.push({ ...c });
    }
  }
  return out;
}

/** Small seeded PRNG (mulberry32), so a failing chunking can be reproduced. */
function mulberry32(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const params = encodeNameValues([
  ['SCRIPT_NAME', '/app'],
  ['REQUEST_URI', '/app/x?y=1'],
  ['HTTP_X_LONG', 'L'.repeat(200)],
  ['CONTENT_LENGTH', '13'],
]);
// Cut inside the HTTP_X_LONG pair: its name is in the first record, its value straddles into the second.
const cut = params.indexOf('HTTP_X_LONG') + 5;
const body = Buffer.from('hello, world!');
const getValues = encodeNameValues([
  ['FCGI_MAX_CONNS', ''],
  ['FCGI_MAX_REQS', ''],
  ['FCGI_MPXS_CONNS', ''],
]);

/** The request stream, with nonzero padding bytes wherever padding appears. */
const STREAM = Buffer.concat([
  raw(RecordType.BEGIN_REQUEST, 1, Buffer.from([0, 1, 1, 0, 0, 0, 0, 0])),
  raw(RecordType.PARAMS, 1, params.subarray(0, cut), 3, 0xaa),
  raw(RecordType.PARAMS, 1, params.subarray(cut), 7, 0xbb),
  raw(RecordType.PARAMS, 1, Buffer.alloc(0)),
  raw(RecordType.STDIN, 1, body, 3, 0xff),
  raw(RecordType.STDIN, 1, Buffer.alloc(0), 8, 0x01), // an empty record may carry padding too
  raw(RecordType.GET_VALUES, 0, getValues, 255, 0x01),
  raw(99, 0, Buffer.from('unknown!'), 0),
  raw(99, 3, Buffer.from('odd'), 5, 0x99),
  raw(RecordType.ABORT_REQUEST, 1, Buffer.alloc(0)),
]);

/** What every feeding must produce: stream fragments joined, end records and non-stream records as is. */
const EXPECTED: Call[] = [
  { type: RecordType.BEGIN_REQUEST, id: 1, content: Buffer.from([0, 1, 1, 0, 0, 0, 0, 0]) },
  { type: RecordType.PARAMS, id: 1, content: params },
  { type: RecordType.PARAMS, id: 1, content: Buffer.alloc(0) },
  { type: RecordType.STDIN, id: 1, content: body },
  { type: RecordType.STDIN, id: 1, content: Buffer.alloc(0) },
  { type: RecordType.GET_VALUES, id: 0, content: getValues },
  { type: 99, id: 0, content: Buffer.from('unknown!') },
  { type: 99, id: 3, content: Buffer.from('odd') },
  { type: RecordType.ABORT_REQUEST, id: 1, content: Buffer.alloc(0) },
];

/** Feeds `chunks` (each a fresh copy, scribbled over after the push) and checks the sink contract. */
function feed(chunks: Buffer[], label: string): Call[] {
  const { calls, parser } = collect();
  for (const c of chunks) {
    const copy = Buffer.from(c);
    parser.push(copy);
    // The parser must not keep views of a chunk it has returned from: later records would read junk.
    copy.fill(0xee);
  }
  assert.ok(parser.idle, `${label}: idle after the whole stream`);
  for (const c of calls) {
    if (isStreamType(c.type)) continue;
    assert.ok(
      EXPECTED.some((e) => e.type === c.type && e.id === c.id && e.content.equals(c.content)),
      `${label}: non-stream record ${c.type}/${c.id} arrived whole in one call`,
    );
  }
  assert.deepEqual(logical(calls), EXPECTED, label);
  return calls;
}

test('the whole stream in one chunk: one call per record', { timeout: 10_000 }, () => {
  const calls = feed([STREAM], 'whole');
  assert.equal(calls.length, 10, 'two PARAMS records with content, each delivered in one fragment');
  assert.deepEqual(calls[1]!.content, params.subarray(0, cut));
  assert.deepEqual(calls[2]!.content, params.subarray(cut));
});

test('split into two chunks at every byte boundary', { timeout: 30_000 }, () => {
  for (let i = 0; i <= STREAM.length; i++) {
    feed([STREAM.subarray(0, i), STREAM.subarray(i)], `split at ${i}`);
  }
});

test('one byte at a time', { timeout: 10_000 }, () => {
  const chunks: Buffer[] = [];
  for (let i = 0; i < STREAM.length; i++) chunks.push(STREAM.subarray(i, i + 1));
  const calls = feed(chunks, 'bytewise');
  // Stream content comes byte by byte, and none of its fragments is empty except the end records.
  assert.equal(calls.filter((c) => c.type === RecordType.STDIN && c.content.length > 0).length, body.length);
  assert.equal(calls.filter((c) => isStreamType(c.type) && c.content.length === 0).length, 2);
});

test('random chunkings (fixed seed)', { timeout: 30_000 }, () => {
  const rand = mulberry32(20240611);
  for (let round = 0; round < 500; round++) {
    const chunks: Buffer[] = [];
    const maxLen = 1 + Math.floor(rand() * 64);
    for (let at = 0; at < STREAM.length; ) {
      const n = Math.floor(rand() * (maxLen + 1)); // includes empty chunks, which must be harmless
      chunks.push(STREAM.subarray(at, at + n));
      at += n;
    }
    feed(chunks, `round ${round}`);
  }
});

test('two streams back to back and an empty push', { timeout: 10_000 }, () => {
  const { calls, parser } = collect();
  parser.push(Buffer.alloc(0));
  assert.ok(parser.idle);
  parser.push(Buffer.concat([STREAM, STREAM]));
  assert.deepEqual(logical(calls), logical([...EXPECTED, ...EXPECTED]));
});

test('a padded empty stream record is one call with empty content', () => {
  const { calls, parser } = collect();
  parser.push(raw(RecordType.STDOUT, 2, Buffer.alloc(0), 255, 0x42));
  assert.deepEqual(calls, [{ type: RecordType.STDOUT, id: 2, content: Buffer.alloc(0) }]);
  assert.ok(parser.idle, 'padding consumed');
  assert.ok(new RecordParser({ record() {} }).idle, 'a new parser is idle');
});
