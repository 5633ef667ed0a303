// RecordParser on bad, truncated and extreme input, and stop().
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isProtocolError, RecordType, RecordParser } from './index.js';

interface Call {
  type: number;
  id: number;
  content: Buffer;
}

/** One record written out by hand, with chosen padding length and bytes. */
function raw(type: number, id: number, content: Buffer, pad = 0, padByte = 0, version = 1): Buffer {
  const header = Buffer.from([version, type, id >> 8, id & 0xff, content.length >> 8, content.length & 0xff, pad, 0]);
  return Buffer.concat([header, content, Buffer.alloc(pad, padByte)]);
}

function collect(): { calls: Call[]; parser: RecordParser } {
  const calls: Call[] = [];
  const parser = new RecordParser({
    record: (type, id, content) => calls.push({ type, id, content: Buffer.from(content) }),
  });
  return { calls, parser };
}

const malformed = (e: unknown): boolean => isProtocolError(e) && e.code === 'ERR_FCGI_MALFORMED';
const BEGIN = raw(RecordType.BEGIN_REQUEST, 1, Buffer.from([0, 1, 0, 0, 0, 0, 0, 0]));

test('versions 0 and 2 are ProtocolErrors, and the parser keeps throwing afterwards', () => {
  for (const version of [0, 2]) {
    const { calls, parser } = collect();
    const bad = raw(RecordType.BEGIN_REQUEST, 1, Buffer.alloc(8), 0, 0, version);
    assert.throws(() => parser.push(bad), malformed, `version ${version}`);
    assert.throws(() => parser.push(BEGIN), malformed, 'valid bytes after the error are refused too');
    assert.throws(() => parser.push(Buffer.alloc(0)), malformed);
    assert.equal(calls.length, 0);
  }
});

test('a bad version after good records: the good ones are delivered first', () => {
  const { calls, parser } = collect();
  const bad = raw(RecordType.STDIN, 1, Buffer.from('x'), 7, 0, 2);
  assert.throws(() => parser.push(Buffer.concat([BEGIN, bad])), malformed);
  assert.deepEqual(
    calls.map((c) => c.type),
    [RecordType.BEGIN_REQUEST],
  );
  // The same, with the bad header arriving a byte at a time: the error comes once the header is whole.
  const b = collect();
  b.parser.push(BEGIN);
  for (let i = 0; i < 7; i++) b.parser.push(bad.subarray(i, i + 1));
  assert.throws(() => b.parser.push(bad.subarray(7, 8)), malformed);
});

test('garbage bytes are ProtocolErrors', () => {
  const table: [string, Buffer][] = [
    ['an HTTP request', Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')],
    ['a TLS ClientHello', Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03])],
    ['zero bytes', Buffer.alloc(16)],
    ['all ones', Buffer.alloc(16, 0xff)],
  ];
  for (const [what, bytes] of table) assert.throws(() => collect().parser.push(bytes), malformed, what);
});

test('random garbage only ever fails with a ProtocolError (fixed seed)', { timeout: 10_000 }, () => {
  let seed = 12345;
  const rand = (): number => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed >>> 16;
  };
  let refused = 0;
  for (let i = 0; i < 2000; i++) {
    // Version byte 1 in most inputs, so framing goes on past the first header.
    const bytes = Buffer.from(
      Array.from({ length: 1 + (rand() % 300) }, (_, j) => (j % 8 === 0 && rand() % 4 ? 1 : rand() & 0xff)),
    );
    const parser = new RecordParser({ record: () => {} });
    try {
      for (let at = 0; at < bytes.length; ) {
        const n = 1 + (rand() % 40);
        parser.push(bytes.subarray(at, at + n));
        at += n;
      }
    } catch (e) {
      assert.ok(isProtocolError(e), `only ProtocolError, got ${String(e)}`);
      refused++;
    }
  }
  assert.ok(refused > 0);
});

test('truncated input waits: no throw, not idle, nothing delivered too early', () => {
  const { calls, parser } = collect();
  const rec = raw(RecordType.GET_VALUES, 0, Buffer.from('\x0e\x00FCGI_MAX_CONNS'), 0);
  parser.push(rec.subarray(0, 5)); // inside the header
  assert.equal(parser.idle, false);
  parser.push(rec.subarray(5, 8)); // header whole, content pending
  assert.equal(parser.idle, false);
  parser.push(rec.subarray(8, 12)); // a non-stream record is held until whole
  assert.equal(parser.idle, false);
  assert.equal(calls.length, 0);
  parser.push(rec.subarray(12));
  assert.equal(calls.length, 1);
  assert.ok(parser.idle);

  const stdin = raw(RecordType.STDIN, 1, Buffer.from('abc'), 5, 0x55);
  parser.push(stdin.subarray(0, 10)); // stream content is handed on as it comes
  assert.deepEqual(
    calls.slice(1).map((c) => c.content.toString()),
    ['ab'],
  );
  parser.push(stdin.subarray(10, 12)); // content done, padding pending
  assert.deepEqual(
    calls.slice(1).map((c) => c.content.toString()),
    ['ab', 'c'],
  );
  assert.equal(parser.idle, false);
  parser.push(stdin.subarray(12));
  assert.ok(parser.idle);
  assert.equal(calls.length, 3);
});

test('65535-byte records with 255 bytes of padding', { timeout: 10_000 }, () => {
  const content = Buffer.from(Array.from({ length: 65535 }, (_, i) => (i * 31) & 0xff));
  const stream = Buffer.concat([
    raw(RecordType.STDIN, 1, content, 255, 0xaa),
    raw(99, 0, content, 255, 0xbb), // unknown type: not a stream, so delivered whole
    BEGIN,
  ]);
  for (const size of [stream.length, 1000, 8191, 1]) {
    const { calls, parser } = collect();
    for (let at = 0; at < stream.length; at += size) parser.push(stream.subarray(at, at + size));
    assert.ok(parser.idle, `chunks of ${size}`);
    const stdin = calls.filter((c) => c.type === RecordType.STDIN);
    assert.ok(stdin.every((c) => c.content.length > 0));
    assert.ok(Buffer.concat(stdin.map((c) => c.content)).equals(content), `STDIN content, chunks of ${size}`);
    const rest = calls.filter((c) => c.type !== RecordType.STDIN);
    assert.equal(rest.length, 2);
    assert.ok(rest[0]!.type === 99 && rest[0]!.content.equals(content), 'unknown type arrives in one call');
    assert.equal(rest[1]!.type, RecordType.BEGIN_REQUEST, 'framing resumes after the padding');
  }
});

test('stop() stops delivery mid-chunk and for later chunks', () => {
  const stream = Buffer.concat([
    BEGIN,
    raw(RecordType.PARAMS, 1, Buffer.from('\x01\x01ab')),
    raw(RecordType.STDIN, 1, Buffer.alloc(0)),
  ]);
  const seen: number[] = [];
  const parser = new RecordParser({
    record: (type) => {
      seen.push(type);
      if (type === RecordType.PARAMS) parser.stop();
    },
  });
  parser.push(stream);
  assert.deepEqual(seen, [RecordType.BEGIN_REQUEST, RecordType.PARAMS]);
  parser.push(stream);
  assert.deepEqual(seen, [RecordType.BEGIN_REQUEST, RecordType.PARAMS], 'nothing after stop');
});
