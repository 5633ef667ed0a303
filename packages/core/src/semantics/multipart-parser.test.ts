// The multipart state machine: every split point of a small body, random chunking of a large one,
// delimiter look-alikes inside data, CRLF rules, preamble/epilogue, and malformed input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { MultipartParser, partialMatch } from './multipart-parser.js';

interface Part {
  headers: string;
  data: Buffer;
}

/** Runs the parser over `chunks`; returns the parts and whether the close delimiter was seen. */
function parse(boundary: string, chunks: Buffer[], headerSize?: number): { parts: Part[]; ended: boolean } {
  const parts: Part[] = [];
  let cur: { headers: string; data: Buffer[] } | null = null;
  let ended = false;
  const p = new MultipartParser(
    boundary,
    {
      partBegin(block) {
        assert.equal(cur, null, 'partBegin while a part is open');
        cur = { headers: block.toString('latin1'), data: [] };
      },
      partData(chunk) {
        assert.ok(cur, 'data outside a part');
        assert.ok(chunk.length > 0, 'empty data event');
        cur.data.push(Buffer.from(chunk));
      },
      partEnd() {
        assert.ok(cur);
        parts.push({ headers: cur.headers, data: Buffer.concat(cur.data) });
        cur = null;
      },
      end() {
        assert.equal(cur, null);
        ended = true;
      },
    },
    headerSize === undefined ? {} : { headerSize },
  );
  for (const c of chunks) p.write(c);
  p.finish();
  return { parts, ended };
}

const B = 'XyZzy-b0undary';
const DATA_1 = Buffer.from('hello\r\n--XyZzy-b0undar\r\n--XyZzy\r\r\n-\r\n--XyZzy-b0undarY: data\r\nend');

function body(parts: { headers: string; data: Buffer }[], { preamble = '', epilogue = '' } = {}): Buffer {
  const out: Buffer[] = [Buffer.from(preamble)];
  parts.forEach((p, i) => {
    out.push(Buffer.from(`${i === 0 && !preamble ? '' : '\r\n'}--${B}\r\n${p.headers}\r\n`), p.data);
  });
  out.push(Buffer.from(`\r\n--${B}--${epilogue}`));
  return Buffer.concat(out);
}

test('partialMatch finds a delimiter prefix at the end only', () => {
  const d = Buffer.from('\r\n--abc');
  assert.equal(partialMatch(Buffer.from('xx\r\n--a'), d), 5);
  assert.equal(partialMatch(Buffer.from('xx\r'), d), 1);
  assert.equal(partialMatch(Buffer.from('xx\r\n--abd'), d), 0);
  assert.equal(partialMatch(Buffer.from('\r\n--ab'), d), 6);
  assert.equal(partialMatch(Buffer.alloc(0), d), 0);
});

test('a small body gives the same parts when split at every position, and byte by byte', () => {
  const parts = [
    { headers: 'Content-Disposition: form-data; name="a"\r\n', data: Buffer.from('1') },
    {
      headers:
        'Content-Disposition: form-data; name="f"; filename="x.bin"\r\nContent-Type: application/octet-stream\r\n',
      data: DATA_1,
    },
    { headers: 'Content-Disposition: form-data; name="empty"\r\n', data: Buffer.alloc(0) },
    { headers: '', data: Buffer.from('no headers at all\r\n') },
  ];
  const whole = body(parts, {
    preamble: `preamble with --${B}x look-alike\r\n--${B.slice(0, 5)}\r\n`,
    epilogue: '\r\nepilogue --XyZzy',
  });
  const expected = parts.map((p) => ({ headers: p.headers.replace(/\r\n$/, ''), data: p.data }));
  const one = parse(B, [whole]);
  assert.deepEqual(one.parts, expected);
  assert.equal(one.ended, true);
  for (let i = 0; i <= whole.length; i++) {
    for (const j of [i, Math.min(whole.length, i + 1), Math.min(whole.length, i + 7)]) {
      const r = parse(B, [whole.subarray(0, i), whole.subarray(i, j), whole.subarray(j)]);
      assert.deepEqual(r.parts, expected, `split at ${i}/${j}`);
    }
  }
  const bytes = [...whole].map((b) => Buffer.from([b]));
  assert.deepEqual(parse(B, bytes).parts, expected);
});

test('a large body with random chunking streams through intact', () => {
  // Random bytes plus planted look-alikes of the delimiter, cut at random places.
  const pieces: Buffer[] = [];
  for (let i = 0; i < 400; i++) {
    pieces.push(randomBytes(Math.floor(Math.random() * 20_000)));
    pieces.push(
      Buffer.from(
        ['\r', '\r\n', '\r\n-', '\r\n--', `\r\n--${B.slice(0, 1 + (i % (B.length - 1)))}\0`, `x\n--${B}`][i % 6]!,
      ),
    );
  }
  const file = Buffer.concat(pieces);
  const field = Buffer.from('v'.repeat(1000));
  const whole = body([
    { headers: 'Content-Disposition: form-data; name="big"; filename="big.bin"\r\n', data: file },
    { headers: 'Content-Disposition: form-data; name="small"\r\n', data: field },
  ]);
  for (let round = 0; round < 5; round++) {
    const chunks: Buffer[] = [];
    for (let at = 0; at < whole.length; ) {
      const n = 1 + Math.floor(Math.random() * (round % 2 ? 100 : 70_000));
      chunks.push(whole.subarray(at, at + n));
      at += n;
    }
    const r = parse(B, chunks);
    assert.equal(r.parts.length, 2);
    assert.equal(
      createHash('sha256').update(r.parts[0]!.data).digest('hex'),
      createHash('sha256').update(file).digest('hex'),
    );
    assert.deepEqual(r.parts[1]!.data, field);
    assert.equal(r.ended, true);
  }
});

test('CRLF rules: data keeps its own trailing CRLF, transport padding is allowed, bare LF is not a delimiter', () => {
  let r = parse(B, [Buffer.from(`--${B}  \t\r\nA: 1\r\n\r\nline\r\n\r\n\r\n--${B}--`)]);
  assert.deepEqual(r.parts, [{ headers: 'A: 1', data: Buffer.from('line\r\n\r\n') }]);
  // LF-only line endings around the boundary are data, so no close delimiter is ever found.
  assert.throws(() => parse(B, [Buffer.from(`--${B}\r\nA: 1\r\n\r\ndata\n--${B}--\n`)]), {
    name: 'SyntaxError',
    message: /close delimiter/,
  });
  // A boundary line must end in CRLF.
  assert.throws(() => parse(B, [Buffer.from(`--${B}\nA: 1\r\n\r\nx\r\n--${B}--`)]), SyntaxError);
  // The boundary followed by anything but --, padding or CRLF.
  assert.throws(() => parse(B, [Buffer.from(`--${B}\r\nA: 1\r\n\r\nx\r\n--${B}zz\r\n`)]), {
    name: 'SyntaxError',
    message: /unexpected bytes/,
  });
  // The close delimiter may come right after the first boundary: no parts.
  r = parse(B, [Buffer.from(`--${B}--\r\n`)]);
  assert.deepEqual(r, { parts: [], ended: true });
});

test('preamble and epilogue are ignored; bytes after the close delimiter never reach a part', () => {
  const r = parse(B, [
    Buffer.from(
      `This is a preamble.\r\n--${B}\r\nA: 1\r\n\r\nbody\r\n--${B}--\r\nThis is the epilogue\r\n--${B}\r\nA: 2\r\n\r\nnot a part`,
    ),
  ]);
  assert.deepEqual(r.parts, [{ headers: 'A: 1', data: Buffer.from('body') }]);
});

test('truncated bodies and header blocks over the limit fail', () => {
  assert.throws(() => parse(B, [Buffer.from(`--${B}\r\nA: 1\r\n\r\nbody`)]), {
    name: 'SyntaxError',
    message: /^malformed multipart body/,
  });
  assert.throws(() => parse(B, [Buffer.from('no boundary here')]), { name: 'SyntaxError', message: /no boundary/ });
  assert.throws(() => parse(B, []), SyntaxError);
  const big = `--${B}\r\nX: ${'h'.repeat(200)}\r\n\r\nx\r\n--${B}--`;
  assert.throws(() => parse(B, [Buffer.from(big)], 100), { name: 'RangeError', message: /larger than 100 bytes/ });
  // Same, fed byte by byte: the parser gives up without holding more than the limit.
  assert.throws(
    () =>
      parse(
        B,
        [...Buffer.from(big)].map((b) => Buffer.from([b])),
        100,
      ),
    RangeError,
  );
  // Exactly at the limit is fine.
  const block = `X: ${'h'.repeat(97)}`;
  assert.equal(block.length, 100);
  assert.equal(parse(B, [Buffer.from(`--${B}\r\n${block}\r\n\r\nx\r\n--${B}--`)], 100).parts.length, 1);
  assert.throws(() => new MultipartParser('', { partBegin() {}, partData() {}, partEnd() {}, end() {} }), SyntaxError);
});
