import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import rangeParser from 'range-parser';
import { contentRange, parseRange, type RangeResult } from './range.js';

describe('Range parsing (RFC 9110 14.1.2)', () => {
  it('int-ranges, open ranges and suffixes, clamped to the size', () => {
    assert.deepEqual(parseRange(100, 'bytes=0-9'), [{ start: 0, end: 9 }]);
    assert.deepEqual(parseRange(100, 'bytes=90-'), [{ start: 90, end: 99 }]);
    assert.deepEqual(parseRange(100, 'bytes=-5'), [{ start: 95, end: 99 }]);
    assert.deepEqual(parseRange(100, 'bytes=-500'), [{ start: 0, end: 99 }]);
    assert.deepEqual(parseRange(100, 'bytes=95-200'), [{ start: 95, end: 99 }]);
    assert.deepEqual(parseRange(100, 'BYTES = 1-1'), [{ start: 1, end: 1 }], 'the unit is case-insensitive');
    assert.deepEqual(parseRange(100, 'bytes= 1-2 ,, 4-5 '), [
      { start: 1, end: 2 },
      { start: 4, end: 5 },
    ]);
  });

  it('unsatisfiable when no range is: past the end, -0, any range of an empty file', () => {
    assert.equal(parseRange(100, 'bytes=100-'), 'unsatisfiable');
    assert.equal(parseRange(100, 'bytes=-0'), 'unsatisfiable');
    assert.equal(parseRange(0, 'bytes=0-'), 'unsatisfiable');
    assert.equal(parseRange(0, 'bytes=-1'), 'unsatisfiable');
    assert.deepEqual(parseRange(100, 'bytes=200-300, 5-6'), [{ start: 5, end: 6 }], 'satisfiable ones are kept');
  });

  it('ignored (whole file): other units, bad syntax, first > last, too many ranges', () => {
    for (const h of [
      'items=0-5',
      'bytes=5-2',
      'bytes=a-b',
      'bytes=1',
      'bytes=',
      'bytes=--1',
      'bytes=0-1x',
      '0-5',
      'bytes=1.5-2',
    ]) {
      assert.equal(parseRange(100, h), 'ignore', h);
    }
    const many = 'bytes=' + Array.from({ length: 101 }, (_, i) => `${i}-${i}`).join(',');
    assert.equal(parseRange(1000, many), 'ignore');
    assert.notEqual(parseRange(1000, many, { maxRanges: 200 }), 'ignore');
  });

  it('coalesces overlapping and adjacent ranges, keeping request order', () => {
    assert.deepEqual(parseRange(100, 'bytes=0-10,5-15'), [{ start: 0, end: 15 }]);
    assert.deepEqual(parseRange(100, 'bytes=0-4,5-9'), [{ start: 0, end: 9 }]);
    assert.deepEqual(parseRange(100, 'bytes=50-60,0-4,55-70'), [
      { start: 50, end: 70 },
      { start: 0, end: 4 },
    ]);
    assert.deepEqual(parseRange(100, 'bytes=0-4,5-9', { combine: false }), [
      { start: 0, end: 4 },
      { start: 5, end: 9 },
    ]);
    // Many tiny overlapping ranges collapse to one: no amplification.
    const overlapping = 'bytes=' + Array.from({ length: 100 }, () => '0-99').join(',');
    assert.deepEqual(parseRange(100, overlapping), [{ start: 0, end: 99 }]);
  });

  it('Content-Range values', () => {
    assert.equal(contentRange(100, { start: 0, end: 9 }), 'bytes 0-9/100');
    assert.equal(contentRange(100), 'bytes */100');
  });
});

/**
 * What range-parser answers for `header`, in our result type, with our deliberate differences
 * applied first. Each rewrite is one listed difference (docs/architecture.md, HTTP semantics):
 * 1. the unit is matched case-insensitively and trimmed; another unit is 'ignore' even where
 *    range-parser would say unsatisfiable (send checks the type only on success);
 * 2. empty list elements (`0-1,,2-3`, RFC 9110 #rule) are skipped, not malformed;
 * 3. a range with first > last makes the header invalid: 'ignore', not a skipped range;
 * 4. a suffix longer than the representation means all of it (RFC 9110 14.1.3), not unsatisfiable;
 * 5. more than maxRanges ranges: 'ignore';
 * 6. merged ranges come in the order in which any of their parts was first asked for;
 *    range-parser forgets the position of a part that lies inside one merged before it
 *    (`bytes=-1,0-0,2-` of 4 bytes: we send 2-3 first, range-parser 0-0).
 */
function viaRangeParser(size: number, header: string, combine: boolean, maxRanges = 100): RangeResult {
  const eq = header.indexOf('=');
  if (eq < 0) return 'ignore';
  if (header.slice(0, eq).trim().toLowerCase() !== 'bytes') return 'ignore'; // 1
  const specs = header
    .slice(eq + 1)
    .split(',')
    .filter((s) => s.trim() !== ''); // 2
  if (specs.length > maxRanges) return 'ignore'; // 5
  const rewritten: string[] = [];
  for (const spec of specs) {
    const dash = spec.indexOf('-');
    const first = dash < 0 ? '' : spec.slice(0, dash).trim();
    const last = dash < 0 ? '' : spec.slice(dash + 1).trim();
    if (/^\d+$/.test(first) && /^\d+$/.test(last) && Number(last) < Number(first)) return 'ignore'; // 3
    if (dash >= 0 && first === '' && /^\d+$/.test(last) && size > 0 && Number(last) > size)
      rewritten.push('0-'); // 4
    else rewritten.push(spec);
  }
  const r = rangeParser(size, `bytes=${rewritten.join(',')}`, { combine });
  if (r === -2) return 'ignore';
  if (r === -1) return 'unsatisfiable';
  const out = r.map(({ start, end }) => ({ start, end }));
  if (!combine) return out;
  // 6: each merged range at the first position of any part inside it.
  const parts = rangeParser(size, `bytes=${rewritten.join(',')}`) as rangeParser.Ranges;
  const first = (m: { start: number; end: number }) => parts.findIndex((p) => p.start >= m.start && p.end <= m.end);
  return out.sort((a, b) => first(a) - first(b));
}

describe('against range-parser (differential)', () => {
  const digits = fc.oneof(
    fc.nat({ max: 1200 }).map(String),
    fc.constantFrom('0', '00', '007', '9007199254740993', '99999999999999999999'),
  );
  const pad = fc.constantFrom('', ' ', '  ', '\t');
  const spec = fc
    .oneof(
      fc.tuple(digits, digits).map(([a, b]) => `${a}-${b}`),
      digits.map((a) => `${a}-`),
      digits.map((b) => `-${b}`),
      fc.constantFrom('', ' ', '-', '--1', '1', 'a-b', '1-2-3', '+1-2', '1e2-', '0x1-2', '1.5-2', '-0', '١-٢'),
      fc.string({ maxLength: 6 }),
    )
    .chain((s) => fc.tuple(pad, pad).map(([l, r]) => l + s + r));
  const unit = fc.constantFrom('bytes', 'BYTES', 'Bytes', ' bytes ', 'bytes ', 'items', 'none', '', 'byte');
  const header = fc.oneof(
    { weight: 8, arbitrary: fc.tuple(unit, fc.array(spec, { maxLength: 8 })).map(([u, s]) => `${u}=${s.join(',')}`) },
    { weight: 1, arbitrary: fc.string({ maxLength: 30 }) },
    { weight: 1, arbitrary: fc.array(spec, { minLength: 95, maxLength: 110 }).map((s) => `bytes=${s.join(',')}`) },
  );
  const size = fc.oneof(fc.constantFrom(0, 1, 2, 100), fc.nat({ max: 1500 }));

  it("gives range-parser's answer, apart from the listed differences", () => {
    fc.assert(
      fc.property(size, header, fc.boolean(), (n, h, combine) => {
        assert.deepEqual(parseRange(n, h, { combine }), viaRangeParser(n, h, combine), `${n} ${JSON.stringify(h)}`);
      }),
      { numRuns: 5000 },
    );
  });

  it('each listed difference, as range-parser answers it', () => {
    assert.deepEqual((rangeParser(100, 'BYTES=1-1') as rangeParser.Ranges).type, 'BYTES');
    assert.equal(parseRange(100, 'items=200-300'), 'ignore');
    assert.equal(rangeParser(100, 'items=200-300'), -1);
    assert.equal(rangeParser(100, 'bytes=1-2,,4-5'), -2);
    assert.deepEqual(parseRange(100, 'bytes=1-2,,4-5'), [
      { start: 1, end: 2 },
      { start: 4, end: 5 },
    ]);
    assert.equal(rangeParser(100, 'bytes=5-2'), -1);
    assert.equal(parseRange(100, 'bytes=5-2'), 'ignore');
    assert.equal(rangeParser(100, 'bytes=-500'), -1);
    assert.deepEqual(parseRange(100, 'bytes=-500'), [{ start: 0, end: 99 }]);
    assert.deepEqual(
      rangeParser(4, 'bytes=-1,0-0,2-', { combine: true }),
      Object.assign(
        [
          { start: 0, end: 0 },
          { start: 2, end: 3 },
        ],
        { type: 'bytes' },
      ),
    );
    assert.deepEqual(parseRange(4, 'bytes=-1,0-0,2-'), [
      { start: 2, end: 3 },
      { start: 0, end: 0 },
    ]);
  });
});
