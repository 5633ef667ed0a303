// A server's string cache behind decodeNameValuesTo must be invisible: every decode gives exactly
// what decoding the bytes afresh gives, and `repeated` is exact, whatever was decoded before; only
// values of allow-listed names are kept, and each server has its own cache.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeNameValuesTo, encodeNameValues, type NameValueSink } from './name-value.js';
import { CACHED_VALUE_NAMES, ParamStrings } from './param-strings.js';

type Pair = [name: string, value: string, repeated: boolean];

/** The cache of one server, shared by the tests below as a server's connections share it. */
const strings = new ParamStrings();

function decode(wire: Uint8Array, cache: ParamStrings | undefined = strings): Pair[] {
  const out: Pair[] = [];
  const sink: NameValueSink = { pair: (name, value, repeated) => void out.push([name, value, repeated]) };
  decodeNameValuesTo(wire, sink, Infinity, cache);
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
      else at = head.writeUInt32BE((len | 0x80000000) >>> 0, at);
    }
    parts.push(head.subarray(0, at), n, v);
  }
  return Buffer.concat(parts);
}

const b = (s: string): Buffer => Buffer.from(s, 'utf8');

test('a value that changes in one byte is decoded afresh (short and long values)', () => {
  for (const len of [1, 5, 64, 65, 300, 1025]) {
    const base = 'x'.repeat(len);
    for (const name of ['HTTP_USER_AGENT', 'NAME_' + len]) {
      for (let i = 0; i < 6; i++) {
        const value = i % 2 ? base : base.slice(0, len >> 1) + 'y' + base.slice((len >> 1) + 1);
        assert.deepEqual(decode(encodeNameValues([[name, value]])), [[name, value, false]]);
      }
    }
  }
});

test('without a cache, the same answers', () => {
  const wire = encodeNameValues([
    ['A', '1'],
    ['HTTP_HOST', 'h'],
    ['A', '2'],
  ]);
  assert.deepEqual(decode(wire, undefined), [
    ['A', '1', false],
    ['HTTP_HOST', 'h', false],
    ['A', '2', true],
  ]);
});

test('repeated is exact within one decode and false across decodes', () => {
  const wire = encodeNameValues([
    ['A', '1'],
    ['B', '2'],
    ['A', '3'],
    ['', 'e'],
    ['', 'f'],
  ]);
  const want: Pair[] = [
    ['A', '1', false],
    ['B', '2', false],
    ['A', '3', true],
    ['', 'e', false],
    ['', 'f', true],
  ];
  assert.deepEqual(decode(wire), want);
  assert.deepEqual(decode(wire), want);
  const long = 'L'.repeat(100); // longer than the cached names
  assert.deepEqual(
    decode(
      encodeNameValues([
        [long, '1'],
        [long, '2'],
      ]),
    ),
    [
      [long, '1', false],
      [long, '2', true],
    ],
  );
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
  const pairs: [Buffer, Buffer][] = [
    [Buffer.from([0xc3, 0x28]), Buffer.from([0xff, 0xfe, 0x41])],
    [b('OK'), Buffer.from([0xe2, 0x82])],
  ];
  for (let i = 0; i < 3; i++) assert.deepEqual(decode(wireOf(pairs)), expected(pairs));
});

test('property: any sequence of decodes equals decoding each afresh', () => {
  // Few distinct names and values, so names repeat and cached values are hit, missed and changed.
  const name = fc.constantFrom('HTTP_HOST', 'SERVER_PORT', 'REMOTE_PORT', 'A', '', 'HTTP_COOKIE', 'Ä', 'X'.repeat(70));
  const value = fc.oneof(
    fc.constantFrom('', 'a', 'b', '127.0.0.1', 'x'.repeat(80), 'x'.repeat(79) + 'y'),
    fc.string({ maxLength: 70 }),
  );
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

test('only values of allow-listed names are kept: credentials, the URL and unknown headers never', () => {
  const never: [string, string][] = [
    ['HTTP_COOKIE', 'session=abc123'],
    ['HTTP_AUTHORIZATION', 'Bearer s3cr3t'],
    ['HTTP_PROXY_AUTHORIZATION', 'Basic eDp5'],
    ['HTTP_X_API_KEY', 'k-123'],
    ['HTTP_X_CSRF_TOKEN', 't-456'],
    // Names a deny-list of words would miss: not on the allow-list, so not kept either.
    ['HTTP_X_API_CREDENTIAL', 'c-789'],
    ['HTTP_X_AMZ_SECURITY', 'x'],
    ['HTTP_REFERER', 'https://a.test/?token=1'],
    ['REQUEST_URI', '/reset?code=42'],
    ['QUERY_STRING', 'code=42'],
    ['PATH_INFO', '/u/7'],
    ['REMOTE_ADDR', '198.51.100.4'],
  ];
  const wire = encodeNameValues([...never, ['HTTP_HOST', 'example.test'], ['SERVER_PORT', '8080']]);
  for (let i = 0; i < 3; i++) decode(wire);
  for (const [name] of never) {
    assert.equal(CACHED_VALUE_NAMES.has(name), false, name);
    assert.equal(strings.kept(name), undefined, name);
  }
  assert.equal(strings.kept('HTTP_HOST'), 'example.test');
  assert.equal(strings.kept('SERVER_PORT'), '8080');
  // And they still decode right every time.
  assert.deepEqual(decode(wire).slice(0, 2), [
    ['HTTP_COOKIE', 'session=abc123', false],
    ['HTTP_AUTHORIZATION', 'Bearer s3cr3t', false],
  ]);
});

test('each server has its own cache: what one kept, another never sees', () => {
  const one = new ParamStrings();
  const two = new ParamStrings();
  decode(encodeNameValues([['SERVER_NAME', 'one.test']]), one);
  assert.equal(one.kept('SERVER_NAME'), 'one.test');
  assert.equal(two.kept('SERVER_NAME'), undefined);
  assert.deepEqual(decode(encodeNameValues([['SERVER_NAME', 'two.test']]), two), [['SERVER_NAME', 'two.test', false]]);
  assert.equal(one.kept('SERVER_NAME'), 'one.test');
});
