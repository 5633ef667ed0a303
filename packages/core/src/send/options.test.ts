// The send options: maxAge as milliseconds or a duration string.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseMaxAge } from './options.js';

describe('maxAge', () => {
  it('takes ms or duration strings, clamps to [0, 1 year], rejects nonsense', () => {
    assert.equal(parseMaxAge(undefined), 0);
    assert.equal(parseMaxAge(5000), 5000);
    assert.equal(parseMaxAge('1d'), 86_400_000);
    assert.equal(parseMaxAge('2 hours'), 7_200_000);
    assert.equal(parseMaxAge('1.5h'), 5_400_000);
    assert.equal(parseMaxAge('500'), 500);
    assert.equal(parseMaxAge(-5), 0);
    assert.equal(parseMaxAge('10y'), 365 * 86_400_000);
    assert.throws(() => parseMaxAge('soon'), TypeError);
    assert.throws(() => parseMaxAge(NaN), TypeError);
  });
});
