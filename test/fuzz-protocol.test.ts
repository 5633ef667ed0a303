// Property-based tests (fast-check) of the protocol layer: the parser and the name-value codec take
// any bytes, split anywhere, and either produce records or throw ProtocolError, never another
// exception; and every encoder round-trips through its decoder. The seed is printed; a failure
// reproduces with FUZZ_SEED=<n> (fast-check also prints the path of the shrunk counterexample).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { FcgiError } from '@fcgi/core';
import {
  HEADER_LEN,
  MAX_CONTENT_LEN,
  MAX_NV_LENGTH,
  isProtocolError,
  RecordParser,
  decodeBeginRequest,
  decodeEndRequest,
  decodeHeader,
  decodeNameValues,
  encodeBeginRequest,
  encodeEndRequest,
  encodeNameValues,
  encodeRecord,
  encodeStream,
  isStreamType,
  writeLength,
  inheritsNothing,
} from '@fcgi/core/protocol';

const seed = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const T = { timeout: 60_000 };
const params = (numRuns: number) => ({ seed, numRuns });

interface Rec {
  type: number;
  id: number;
  content: Buffer;
}
type Outcome = { records: Rec[]; error: FcgiError | null };

/** Parses `bytes` pushed in pieces cut at `cuts`; any error but ProtocolError escapes (and fails the property). */
function parse(bytes: Buffer, cuts: number[] = []): Outcome {
  const records: Rec[] = [];
  const parser = new RecordParser({
    record: (type, id, content) => records.push({ type, id, content: Buffer.from(content) }),
  });
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  let at = 0;
  try {
    for (const p of [...points, bytes.length]) {
      parser.push(bytes.subarray(at, p));
      at = p;
    }
    return { records: merge(records), error: null };
  } catch (err) {
    if (!isProtocolError(err)) throw err;
    // The parser stays failed: the next push throws the same error.
    assert.throws(
      () => parser.push(Buffer.from([1])),
      (e) => e === err,
    );
    return { records: merge(records), error: err };
  }
}

/** Stream content may come in fragments: merge consecutive non-empty fragments of one stream. */
function merge(records: Rec[]): Rec[] {
  const out: Rec[] = [];
  for (const r of records) {
    const last = out[out.length - 1];
    if (
      last &&
      isStreamType(r.type) &&
      last.type === r.type &&
      last.id === r.id &&
      last.content.length &&
      r.content.length
    ) {
      last.content = Buffer.concat([last.content, r.content]);
    } else out.push({ ...r });
  }
  return out;
}

const anyBytes = fc.uint8Array({ maxLength: 4096 }).map((a) => Buffer.from(a));
const cuts = fc.array(fc.nat(), { maxLength: 40 });

/** Bytes that start as well-framed records (so the parser gets deep) and may end in garbage. */
const framed = fc
  .tuple(
    fc.array(
      fc.record({ type: fc.nat(255), id: fc.nat(65535), content: fc.uint8Array({ maxLength: 300 }), pad: fc.nat(255) }),
      { maxLength: 12 },
    ),
    anyBytes,
  )
  .map(([recs, tail]) =>
    Buffer.concat([
      ...recs.map((r) => {
        const b = Buffer.alloc(HEADER_LEN + r.content.length + r.pad, 0xa5);
        b[0] = 1;
        b[1] = r.type;
        b.writeUInt16BE(r.id, 2);
        b.writeUInt16BE(r.content.length, 4);
        b[6] = r.pad;
        b.set(r.content, HEADER_LEN);
        return b;
      }),
      tail,
    ]),
  );

test(`RecordParser: any bytes, any chunking -> records or ProtocolError only (FUZZ_SEED=${seed})`, T, () => {
  fc.assert(
    fc.property(fc.oneof(anyBytes, framed), cuts, (bytes, cs) => {
      const { records } = parse(bytes, cs);
      for (const r of records) {
        assert.ok(r.type >= 0 && r.type <= 255 && r.id >= 0 && r.id <= 65535 && r.content.length <= MAX_CONTENT_LEN);
      }
    }),
    params(3000),
  );
});

test('RecordParser: the records and the error do not depend on where the bytes were split', T, () => {
  fc.assert(
    fc.property(fc.oneof(anyBytes, framed), cuts, (bytes, cs) => {
      const whole = parse(bytes);
      const split = parse(bytes, cs);
      assert.deepEqual(split.records, whole.records);
      assert.equal(split.error?.message, whole.error?.message);
    }),
    params(2000),
  );
});

const recordArb = fc.record({
  type: fc.constantFrom(1, 2, 3, 9, 10, 11, 12, 200),
  id: fc.nat(65535),
  content: fc.uint8Array({ maxLength: 2000 }).map((a) => Buffer.from(a)),
});
const streamArb = fc
  .record({
    type: fc.constantFrom(4, 5, 6, 7, 8),
    id: fc.nat(65535),
    // Up to 200 kB: several records of 65535 bytes.
    content: fc.oneof(
      fc.uint8Array({ maxLength: 3000 }),
      fc.integer({ min: 65530, max: 200_000 }).map((n) => new Uint8Array(n).map((_, i) => i * 7)),
    ),
  })
  .map((s) => ({ ...s, content: Buffer.from(s.content) }));

test('encodeRecord / encodeStream round-trip through the parser, split anywhere; records padded to 8', T, () => {
  fc.assert(
    fc.property(fc.array(fc.oneof(recordArb, streamArb), { maxLength: 6 }), cuts, (items, cs) => {
      const parts: Buffer[] = [];
      const expected: Rec[] = [];
      for (const it of items) {
        if (isStreamType(it.type)) {
          const enc = encodeStream(it.type, it.id, it.content);
          // Every record's content fits a u16 and its padding brings it to a multiple of 8.
          for (let at = 0; at < enc.length; ) {
            const h = decodeHeader(enc, at);
            assert.ok(h.contentLength <= MAX_CONTENT_LEN);
            assert.equal((HEADER_LEN + h.contentLength + h.paddingLength) % 8, 0);
            at += HEADER_LEN + h.contentLength + h.paddingLength;
          }
          parts.push(enc);
          if (it.content.length) expected.push({ type: it.type, id: it.id, content: it.content });
          expected.push({ type: it.type, id: it.id, content: Buffer.alloc(0) });
        } else {
          parts.push(encodeRecord(it.type, it.id, it.content));
          expected.push({ type: it.type, id: it.id, content: it.content });
        }
      }
      const out = parse(Buffer.concat(parts), cs);
      assert.equal(out.error, null);
      assert.deepEqual(out.records, merge(expected));
    }),
    params(300),
  );
});

test('BEGIN_REQUEST and END_REQUEST bodies round-trip; any short body is a ProtocolError', T, () => {
  fc.assert(
    fc.property(
      fc.nat(65535),
      fc.nat(65535),
      fc.boolean(),
      fc.nat(0xffffffff),
      fc.nat(255),
      (id, role, keep, app, status) => {
        const begin = encodeBeginRequest(id || 1, role, keep);
        assert.deepEqual(decodeBeginRequest(begin.subarray(HEADER_LEN)), { role, keepConn: keep });
        const end = encodeEndRequest(id, app, status);
        assert.deepEqual(decodeEndRequest(end.subarray(HEADER_LEN)), { appStatus: app, protocolStatus: status });
      },
    ),
    params(1000),
  );
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 7 }), (body) => {
      assert.throws(() => decodeBeginRequest(body), isProtocolError);
      assert.throws(() => decodeEndRequest(body), isProtocolError);
    }),
    params(200),
  );
});

test('name-value lengths: 1 byte below 128, 4 bytes up to 2^31-1, both round-trip', T, () => {
  fc.assert(
    fc.property(fc.oneof(fc.nat(300), fc.integer({ min: 0, max: MAX_NV_LENGTH })), (len) => {
      const buf = new Uint8Array(4);
      const next = writeLength(buf, 0, len);
      assert.equal(next, len < 128 ? 1 : 4);
      // The 4-byte form: the top bit set, then the 31-bit length big-endian.
      const expected = len < 128 ? [len] : [(len >>> 24) | 0x80, (len >>> 16) & 0xff, (len >>> 8) & 0xff, len & 0xff];
      assert.deepEqual([...buf.subarray(0, next)], expected);
      // The decoder reads it back (as a value length, for lengths a test can allocate); cut short,
      // the 4-byte form is a ProtocolError rather than a misread.
      if (len <= 300) {
        const pair = Buffer.concat([Buffer.from([1]), buf.subarray(0, next), Buffer.from('n'), Buffer.alloc(len, 'v')]);
        assert.equal(decodeNameValues(pair)['n']!.length, len);
      }
      if (next === 4)
        assert.throws(() => decodeNameValues(Buffer.concat([Buffer.from([1]), buf.subarray(0, 3)])), isProtocolError);
    }),
    params(2000),
  );
});

const text = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'binary-ascii', maxLength: 200 }),
  // Long enough for the 4-byte length form.
  fc.integer({ min: 120, max: 70_000 }).map((n) => 'v'.repeat(n)),
  fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty', ''),
);

test(
  'encodeNameValues -> decodeNameValues round-trips any pairs (UTF-8, 4-byte lengths, __proto__), later names win',
  T,
  () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(text, text), { maxLength: 12 }), (pairs) => {
        const decoded = decodeNameValues(encodeNameValues(pairs));
        assert.ok(inheritsNothing(decoded));
        const expected = new Map<string, string>();
        for (const [n, v] of pairs) expected.set(n, v);
        assert.deepEqual(new Map(Object.entries(decoded)), expected);
      }),
      params(500),
    );
  },
);

test('decodeNameValues on any bytes: an object that inherits nothing, or a ProtocolError', T, () => {
  fc.assert(
    fc.property(
      fc.oneof(
        anyBytes,
        fc.array(fc.tuple(text, text), { maxLength: 5 }).chain((pairs) => {
          const enc = encodeNameValues(pairs);
          return fc.tuple(fc.nat(enc.length), fc.nat(255)).map(([at, b]) => {
            const copy = Buffer.from(enc);
            if (copy.length) copy[at % copy.length] = b;
            return copy;
          });
        }),
      ),
      fc.nat(20),
      (bytes, maxPairs) => {
        try {
          const out = decodeNameValues(bytes, { maxPairs });
          assert.ok(inheritsNothing(out));
          assert.ok(Object.keys(out).length <= maxPairs);
        } catch (err) {
          assert.ok(isProtocolError(err), `not a ProtocolError: ${(err as Error)?.stack}`);
        }
      },
    ),
    params(3000),
  );
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});
