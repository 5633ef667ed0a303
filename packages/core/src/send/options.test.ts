// The send options: maxAge as milliseconds or a duration string, held to the ms package that
// send reads strings with, and send's clamp to [0, 1 year]; start/end checked.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import fc from 'fast-check';
import { normalizeSendOptions, parseMaxAge } from './options.js';

const fromSend = createRequire(createRequire(import.meta.url).resolve('send'));
const msPackage = fromSend('ms') as (s: string) => number | undefined;
/** ms's reading of `s`; undefined when it cannot (it throws for '' instead). */
const ms = (s: string): number | undefined => {
  try {
    return msPackage(s);
  } catch {
    return undefined;
  }
};
const YEAR = 365 * 86_400_000;
/** send's clamp of what ms (or Number) gave. */
const clamp = (n: number) => Math.min(Math.max(0, n), YEAR);

describe('maxAge', () => {
  it('takes ms or duration strings, clamps to [0, 1 year], rejects nonsense', () => {
    assert.equal(parseMaxAge(undefined), 0);
    assert.equal(parseMaxAge(5000), 5000);
    assert.equal(parseMaxAge('1d'), 86_400_000);
    assert.equal(parseMaxAge('2 hours'), 7_200_000);
    assert.equal(parseMaxAge('1.5h'), 5_400_000);
    assert.equal(parseMaxAge('500'), 500);
    assert.equal(parseMaxAge(-5), 0);
    assert.equal(parseMaxAge('10y'), YEAR);
    assert.throws(() => parseMaxAge('soon'), TypeError);
    assert.throws(() => parseMaxAge(NaN), TypeError);
  });

  it('Infinity is one year and -Infinity 0, as send clamps them', () => {
    assert.equal(parseMaxAge(Infinity), YEAR);
    assert.equal(parseMaxAge(-Infinity), 0);
    assert.equal(parseMaxAge(1e300), YEAR);
  });

  it('every duration string ms reads gives what send would use (differential)', () => {
    const unit = fc.constantFrom(
      ...'ms msec msecs millisecond milliseconds s sec secs second seconds m min mins minute minutes h hr hrs hour hours d day days w week weeks y yr yrs year years'.split(
        ' ',
      ),
    );
    const number = fc.oneof(
      fc.nat({ max: 100_000 }).map(String),
      fc.tuple(fc.nat(999), fc.nat(999)).map(([a, b]) => `${a}.${b}`),
      fc.nat(999).map((b) => `.${b}`),
    );
    const duration = fc
      .tuple(fc.boolean(), number, fc.constantFrom('', ' ', '  '), fc.option(unit), fc.boolean())
      .map(([neg, n, space, u, upper]) => {
        const s = `${neg ? '-' : ''}${n}${u === null ? '' : space + u}`;
        return upper ? s.toUpperCase() : s;
      });
    fc.assert(
      fc.property(fc.oneof(duration, fc.string({ maxLength: 8 })), (s) => {
        const theirs = ms(s);
        if (theirs === undefined) return; // ms cannot read it: send would use 0, we throw (listed)
        assert.equal(parseMaxAge(s), clamp(theirs), JSON.stringify(s));
      }),
      { numRuns: 5000 },
    );
  });
});

describe('start and end', () => {
  it('a window of non-negative integers; anything else is a TypeError when the options are made', () => {
    assert.equal(normalizeSendOptions({}).window, null);
    assert.deepEqual(normalizeSendOptions({ start: 5 }).window, { start: 5, end: Infinity });
    assert.deepEqual(normalizeSendOptions({ end: 9 }).window, { start: 0, end: 9 });
    for (const bad of [-1, 1.5, NaN, '3' as unknown as number]) {
      assert.throws(() => normalizeSendOptions({ start: bad }), TypeError);
      assert.throws(() => normalizeSendOptions({ end: bad }), TypeError);
    }
  });
});
