import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { contentRange, parseRange } from './range.js';

describe('Range parsing (RFC 9110 14.1.2)', () => {
  it('int-ranges, open ranges and suffixes, clamped to the size', () => {
    assert.deepEqual(parseRange(100, 'bytes=0-9'), [{ start: 0, end: 9 }]);
    assert.deepEqual(parseRange(100, 'bytes=90-'), [{ start: 90, end: 99 }]);
    assert.deepEqual(parseRange(100, 'bytes=-5'), [{ start: 95, end: 99 }]);
    assert.deepEqual(parseRange(100, 'bytes=-500'), [{ start: 0, end: 99 }]);
    assert.deepEqual(parseRange(100, 'bytes=95-200'), [{ start: 95, end: 99 }]);
    assert.deepEqual(parseRange(100, 'BYTES = 1-1'), [{ start: 1, end: 1 }], 'the unit is case-insensitive');
    assert.deepEqual(parseRange(100, 'bytes= 1-2 ,, 4-5 '), [{ start: 1, end: 2 }, { start: 4, end: 5 }]);
  });

  it('unsatisfiable when no range is: past the end, -0, any range of an empty file', () => {
    assert.equal(parseRange(100, 'bytes=100-'), 'unsatisfiable');
    assert.equal(parseRange(100, 'bytes=-0'), 'unsatisfiable');
    assert.equal(parseRange(0, 'bytes=0-'), 'unsatisfiable');
    assert.equal(parseRange(0, 'bytes=-1'), 'unsatisfiable');
    assert.deepEqual(parseRange(100, 'bytes=200-300, 5-6'), [{ start: 5, end: 6 }], 'satisfiable ones are kept');
  });

  it('ignored (whole file): other units, bad syntax, first > last, too many ranges', () => {
    for (const h of ['items=0-5', 'bytes=5-2', 'bytes=a-b', 'bytes=1', 'bytes=', 'bytes=--1', 'bytes=0-1x', '0-5', 'bytes=1.5-2']) {
      assert.equal(parseRange(100, h), 'ignore', h);
    }
    const many = 'bytes=' + Array.from({ length: 101 }, (_, i) => `${i}-${i}`).join(',');
    assert.equal(parseRange(1000, many), 'ignore');
    assert.notEqual(parseRange(1000, many, { maxRanges: 200 }), 'ignore');
  });

  it('coalesces overlapping and adjacent ranges, keeping request order', () => {
    assert.deepEqual(parseRange(100, 'bytes=0-10,5-15'), [{ start: 0, end: 15 }]);
    assert.deepEqual(parseRange(100, 'bytes=0-4,5-9'), [{ start: 0, end: 9 }]);
    assert.deepEqual(parseRange(100, 'bytes=50-60,0-4,55-70'), [{ start: 50, end: 70 }, { start: 0, end: 4 }]);
    assert.deepEqual(parseRange(100, 'bytes=0-4,5-9', { combine: false }), [{ start: 0, end: 4 }, { start: 5, end: 9 }]);
    // Many tiny overlapping ranges collapse to one: no amplification.
    const overlapping = 'bytes=' + Array.from({ length: 100 }, () => '0-99').join(',');
    assert.deepEqual(parseRange(100, overlapping), [{ start: 0, end: 99 }]);
  });

  it('Content-Range values', () => {
    assert.equal(contentRange(100, { start: 0, end: 9 }), 'bytes 0-9/100');
    assert.equal(contentRange(100), 'bytes */100');
  });
});
