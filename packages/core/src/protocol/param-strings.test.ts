// The string cache behind decodeNameValuesTo must be invisible: every decode gives exactly what
// decoding the bytes afresh gives, and `repeated` is exact, whatever was decoded before.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeNameValuesTo, encodeNameValues, type NameValueSink } from './name-value.js';
import { keptValue } from './param-strings.js';

type Pair = [name: string, value: string, repeated: boolean];

function decode(wire: Uint8Array): Pair[] {
  const out: Pair[] = [];
  const sink: NameValueSink = { pair: (name, value, repeated) => void out.push([name, value, repeated]) };
  decodeNameValuesTo(wire, sink);
  return out;
}

/** What the decoder must report: UTF-8 as Buffer#toString decodes it, repeated = seen before in this list. */
function expected(pairs: [Buffer, Buffer][]): Pair[] {
  const seen = new Set<string>();
  return pairs.map(([n, v]) => {
    const name = n.toString('utf8');
    const repeated = seen.has(name);
    seen.add(name);
    return [name, v.toString('utf8'), repeated];
  });
}

function wireOf(pairs: [Buffer, Buffer][]): Buffer {
  const parts: Buffer[] = [];
  for (const [n, v] of pairs) {
    const head = Buffer.alloc(8);
    let at = 0;
    for (const len of [n.length, v.length]) {
      if (len < 128) head[at++] = len;
      else (head.writeUInt32BE((len | 0x80000000) >>> 0, at), (at += 4));
    }
    parts.push(head.subarray(0, at), n, v);
  }
  return Buffer.concat(parts);
}

const b = (s: string): Buffer => Buffer.from(s, 'utf8');

test('a value that changes in one byte is decoded afresh (short and long values)', () => {
  for (const len of [1, 5, 64, 65, 300]) {
    const base = 'x'.repeat(len);
    for (let i = 0; i < 6; i++) {
      const value = i % 2 ? base : base.slice(0, len >> 1) + 'y' + base.slice((len >> 1) + 1);
      assert.deepEqual(decode(encodeNameValues([['NAME_' + len, value]])), [['NAME_' + len, value, false]]);
    }
  }
});

test('repeated is exact within one decode and false across decodes', () => {
  const wire = encodeNameValues([['A', '1'], ['B', '2'], ['A', '3'], ['', 'e'], ['', 'f']]);
  const want: Pair[] = [['A', '1', false], ['B', '2', false], ['A', '3', true], ['', 'e', false], ['', 'f', true]];
  assert.deepEqual(decode(wire), want);
  assert.deepEqual(decode(wire), want);
  const long = 'L'.repeat(100); // longer than the cached names
  assert.deepEqual(decode(encodeNameValues([[long, '1'], [long, '2']])), [[long, '1', false], [long, '2', true]]);
});

test('more distinct names than the cache holds, in one decode and across decodes', () => {
  const pairs: [Buffer, Buffer][] = [];
  for (let i = 0; i < 900; i++) pairs.push([b(`NAME_${i}`), b(`value ${i}`)]);
  for (let i = 0; i < 900; i += 7) pairs.push([b(`NAME_${i}`), b(`again ${i}`)]);
  const want = expected(pairs);
  for (let round = 0; round < 3; round++) assert.deepEqual(decode(wireOf(pairs)), want);
  // Afterwards the usual names still decode right.
  assert.deepEqual(decode(encodeNameValues([['REQUEST_METHOD', 'GET']])), [['REQUEST_METHOD', 'GET', false]]);
});

test('bytes that are not UTF-8 decode as Buffer#toString does, cached or not', () => {
  const pairs: [Buffer, Buffer][] = [[Buffer.from([0xc3, 0x28]), Buffer.from([0xff, 0xfe, 0x41])], [b('OK'), Buffer.from([0xe2, 0x82])]];
  for (let i = 0; i < 3; i++) assert.deepEqual(decode(wireOf(pairs)), expected(pairs));
});

test('property: any sequence of decodes equals decoding each afresh', () => {
  // Few distinct names and values, so names repeat and cached values are hit, missed and changed.
  const name = fc.constantFrom('HTTP_HOST', 'REMOTE_PORT', 'A', '', 'HTTP_COOKIE', 'Ä', 'X'.repeat(70));
  const value = fc.oneof(fc.constantFrom('', 'a', 'b', '127.0.0.1', 'x'.repeat(80), 'x'.repeat(79) + 'y'), fc.string({ maxLength: 70 }));
  const request = fc.array(fc.tuple(name, value), { maxLength: 12 });
  fc.assert(
    fc.property(fc.array(request, { minLength: 1, maxLength: 8 }), (requests) => {
      for (const pairs of requests) {
        const bufs = pairs.map(([n, v]) => [b(n), b(v)] as [Buffer, Buffer]);
        assert.deepEqual(decode(wireOf(bufs)), expected(bufs));
      }
    }),
    { seed: 20261124, numRuns: 500 },
  );
});

test('values of names that carry credentials are never kept; others are', () => {
  const secrets: [string, string][] = [
    ['HTTP_COOKIE', 'session=abc123'], ['HTTP_AUTHORIZATION', 'Bearer s3cr3t'],
    ['HTTP_PROXY_AUTHORIZATION', 'Basic eDp5'], ['HTTP_X_API_KEY', 'k-123'], ['HTTP_X_CSRF_TOKEN', 't-456'],
  ];
  const wire = encodeNameValues([...secrets, ['HTTP_HOST', 'example.test'], ['SERVER_PORT', '8080']]);
  for (let i = 0; i < 3; i++) decode(wire);
  for (const [name] of secrets) assert.equal(keptValue(name), undefined, name);
  assert.equal(keptValue('HTTP_HOST'), 'example.test');
  assert.equal(keptValue('SERVER_PORT'), '8080');
  // And they still decode right every time.
  assert.deepEqual(decode(wire).slice(0, 2), [['HTTP_COOKIE', 'session=abc123', false], ['HTTP_AUTHORIZATION', 'Bearer s3cr3t', false]]);
});
