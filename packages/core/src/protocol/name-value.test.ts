// Name-value pairs: the 1- and 4-byte length forms, round trips, limits, and malformed input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeNameValues, encodeNameValues, MAX_NV_LENGTH, isProtocolError, writeLength } from './index.js';
import { inheritsNothing } from './dictionary.js';

const bytes = (b: Uint8Array): number[] => [...b];
const protocolErrorWith =
  (code: 'ERR_FCGI_MALFORMED' | 'ERR_FCGI_LIMIT') =>
  (e: unknown): boolean =>
    isProtocolError(e) && e.code === code;

test('writeLength byte table; the decoder reads each length back', () => {
  const table: [number, number[]][] = [
    [0, [0x00]],
    [1, [0x01]],
    [127, [0x7f]],
    [128, [0x80, 0x00, 0x00, 0x80]],
    [200, [0x80, 0x00, 0x00, 0xc8]],
    [1000, [0x80, 0x00, 0x03, 0xe8]],
    [65536, [0x80, 0x01, 0x00, 0x00]],
    [0x01020304, [0x81, 0x02, 0x03, 0x04]],
    [1_000_000_101, [0xbb, 0x9a, 0xca, 0x65]], // 0x3b9aca65 with the top bit set
    [MAX_NV_LENGTH, [0xff, 0xff, 0xff, 0xff]],
  ];
  for (const [len, wire] of table) {
    const buf = Buffer.alloc(6, 0xee);
    const next = writeLength(buf, 1, len);
    assert.equal(next, 1 + wire.length, `writeLength(${len}) end`);
    assert.deepEqual(bytes(buf.subarray(1, next)), wire, `writeLength(${len})`);
    assert.equal(buf[0], 0xee, 'nothing written before the offset');
    if (len <= 65536) {
      // A one-byte name, then a value of `len` bytes whose length is this wire form.
      const pair = Buffer.concat([Buffer.from([1]), Buffer.from(wire), Buffer.from('n'), Buffer.alloc(len, 'v')]);
      assert.equal(decodeNameValues(pair)['n']!.length, len, `decoded length ${len}`);
    }
  }
  assert.throws(() => writeLength(Buffer.alloc(4), 0, MAX_NV_LENGTH + 1), RangeError);
});

test('encodeNameValues byte table', () => {
  const name128 = 'N'.repeat(128);
  const table: [[string, string][], number[]][] = [
    [[], []],
    [[['a', 'b']], [1, 1, 97, 98]],
    [[['X', '']], [1, 0, 88]],
    [[['é', '✓']], [2, 3, 0xc3, 0xa9, 0xe2, 0x9c, 0x93]], // lengths count UTF-8 bytes, not characters
    [[['K', 'v'.repeat(200)]], [1, 0x80, 0, 0, 200, 75, ...new Array(200).fill(118)]],
    [[[name128, 'x']], [0x80, 0, 0, 128, 1, ...new Array(128).fill(78), 120]],
    [
      [
        ['A', '1'],
        ['B', '22'],
      ],
      [1, 1, 65, 49, 1, 2, 66, 50, 50],
    ],
  ];
  for (const [pairs, wire] of table) {
    assert.deepEqual(bytes(encodeNameValues(pairs)), wire);
    assert.deepEqual(bytes(encodeNameValues(new Map(pairs))), wire, 'a Map encodes the same');
    assert.deepEqual({ ...decodeNameValues(Buffer.from(wire)) }, Object.fromEntries(pairs));
  }
  assert.deepEqual(bytes(encodeNameValues({ a: 'b', c: '' })), [1, 1, 97, 98, 1, 0, 99]);
});

test('round trip: UTF-8, empty values, a 200-byte value, long names, odd keys', () => {
  const pairs: [string, string][] = [
    ['REQUEST_METHOD', 'POST'],
    ['CONTENT_LENGTH', ''],
    ['HTTP_X_NAME', 'Grüße aus Köln ✓ 😀'],
    ['ПУТЬ', '/путь'],
    ['HTTP_COOKIE', 'c'.repeat(200)],
    ['H'.repeat(300), 'long name'],
    ['', 'empty name'],
    ['constructor', 'c'],
    ['hasOwnProperty', 'h'],
    ['toString', 't'],
  ];
  const out = decodeNameValues(encodeNameValues(pairs));
  assert.ok(inheritsNothing(out));
  assert.deepEqual(Object.entries(out), pairs);
  assert.equal(out['HTTP_COOKIE']!.length, 200);
  // A plain Uint8Array (not a Buffer), and one that is a view at an offset, decode the same.
  const wire = encodeNameValues(pairs);
  const padded = new Uint8Array(wire.length + 10);
  padded.set(wire, 5);
  assert.deepEqual(Object.entries(decodeNameValues(padded.subarray(5, 5 + wire.length))), pairs);
});

test('a pair named __proto__ stays a plain key and changes no prototype', () => {
  const wire = Buffer.from([9, 5, ...Buffer.from('__proto__'), ...Buffer.from('value'), 1, 1, 97, 98]);
  assert.deepEqual(
    bytes(
      encodeNameValues([
        ['__proto__', 'value'],
        ['a', 'b'],
      ]),
    ),
    bytes(wire),
  );
  assert.deepEqual(
    bytes(
      encodeNameValues(
        Object.fromEntries([
          ['__proto__', 'value'],
          ['a', 'b'],
        ]),
      ),
    ),
    bytes(wire),
  );
  const out = decodeNameValues(wire);
  assert.ok(inheritsNothing(out));
  assert.deepEqual(Object.keys(out), ['__proto__', 'a']);
  assert.equal(Object.getOwnPropertyDescriptor(out, '__proto__')?.value, 'value');
  assert.equal(({} as Record<string, unknown>)['value'], undefined);
  assert.equal(Object.hasOwn(Object.prototype, 'value'), false);
});

test('a later duplicate name replaces an earlier one', () => {
  const out = decodeNameValues(
    encodeNameValues([
      ['A', '1'],
      ['B', '2'],
      ['A', '3'],
    ]),
  );
  assert.deepEqual(Object.entries(out), [
    ['A', '3'],
    ['B', '2'],
  ]);
});

test('maxPairs: exactly the limit passes, one more is a LIMIT ProtocolError', () => {
  const wire = encodeNameValues([
    ['A', '1'],
    ['B', '2'],
    ['C', '3'],
  ]);
  assert.equal(Object.keys(decodeNameValues(wire, { maxPairs: 3 })).length, 3);
  assert.throws(() => decodeNameValues(wire, { maxPairs: 2 }), protocolErrorWith('ERR_FCGI_LIMIT'));
  assert.throws(() => decodeNameValues(wire, { maxPairs: 0 }), protocolErrorWith('ERR_FCGI_LIMIT'));
  assert.deepEqual({ ...decodeNameValues(Buffer.alloc(0), { maxPairs: 0 }) }, {});
});

test('truncated or overrunning pairs are MALFORMED ProtocolErrors, never RangeErrors', () => {
  const table: [string, number[]][] = [
    ['only a name length', [0x05]],
    ['name length cut in its 4-byte form', [0x80, 0x00]],
    ['value length cut in its 4-byte form', [0x01, 0x80, 0x00, 0x00]],
    ['name shorter than its length', [0x03, 0x03, 97, 98]],
    ['value shorter than its length', [0x01, 0x03, 97, 98, 99]],
    ['a good pair, then a cut one', [0x01, 0x01, 97, 98, 0x02]],
    ['a good pair, then a pair one byte short', [0x01, 0x01, 97, 98, 0x01, 0x01, 97]],
    ['a 4-byte name length of 2^31-1 with 2 bytes', [0xff, 0xff, 0xff, 0xff, 0x00, 120]],
    ['a 4-byte value length of 2^31-1 with 1 byte', [0x01, 0xff, 0xff, 0xff, 0xff, 97]],
    ['both lengths 2^31-1', [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]],
    ['1_000_000_101 bytes claimed', [0x01, 0xbb, 0x9a, 0xca, 0x65, 97, 98]],
  ];
  for (const [what, wire] of table) {
    assert.throws(() => decodeNameValues(Buffer.from(wire)), protocolErrorWith('ERR_FCGI_MALFORMED'), what);
  }
});

test('random bytes either decode or throw a ProtocolError (fixed seed)', () => {
  let seed = 0x5eed;
  const rand = (): number => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed >>> 16;
  };
  let decoded = 0;
  let refused = 0;
  for (let i = 0; i < 3000; i++) {
    // Mostly small bytes so that some inputs are well formed; some high bytes for 4-byte lengths.
    const wire = Buffer.from(
      Array.from({ length: rand() % 24 }, () => (rand() % 8 === 0 ? rand() & 0xff : rand() % 6)),
    );
    try {
      decodeNameValues(wire);
      decoded++;
    } catch (e) {
      assert.ok(isProtocolError(e), `only ProtocolError for ${wire.toString('hex')}, got ${String(e)}`);
      refused++;
    }
  }
  assert.ok(decoded > 0 && refused > 0, `both outcomes seen (${decoded} decoded, ${refused} refused)`);
});
