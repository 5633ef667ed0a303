import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { evaluatePreconditions as evaluate, ifRangeMatches, parseEntityTags, parseHttpDate } from './conditional.js';

const LM = Date.parse('Sun, 06 Nov 1994 08:49:37 GMT');
const DATE = 'Sun, 06 Nov 1994 08:49:37 GMT';
const BEFORE = 'Sun, 06 Nov 1994 08:49:36 GMT';
const AFTER = 'Sun, 06 Nov 1994 08:49:38 GMT';
const weak = { etag: 'W/"abc"', lastModified: LM };
const strong = { etag: '"abc"', lastModified: LM };

describe('conditional requests (RFC 9110 13.2.2)', () => {
  it('parses entity-tag lists, commas inside quotes included', () => {
    assert.deepEqual(parseEntityTags('"a", W/"b,c" ,"d"'), [
      { weak: false, opaque: '"a"' },
      { weak: true, opaque: '"b,c"' },
      { weak: false, opaque: '"d"' },
    ]);
    assert.equal(parseEntityTags(' * '), null);
  });

  it('If-None-Match: weak comparison, * matches, 304 for GET/HEAD', () => {
    assert.equal(evaluate({ 'if-none-match': 'W/"abc"' }, weak), 'not-modified');
    assert.equal(evaluate({ 'if-none-match': '"abc"' }, weak), 'not-modified');
    assert.equal(evaluate({ 'if-none-match': '"x", W/"abc"' }, weak), 'not-modified');
    assert.equal(evaluate({ 'if-none-match': '*' }, weak), 'not-modified');
    assert.equal(evaluate({ 'if-none-match': '"x"' }, weak), 'proceed');
    assert.equal(evaluate({ 'if-none-match': '"abc"' }, weak, 'HEAD'), 'not-modified');
  });

  it('If-None-Match wins over If-Modified-Since', () => {
    assert.equal(evaluate({ 'if-none-match': '"x"', 'if-modified-since': AFTER }, weak), 'proceed');
  });

  it('If-Modified-Since: 304 when not modified since; invalid dates are ignored', () => {
    assert.equal(evaluate({ 'if-modified-since': DATE }, weak), 'not-modified');
    assert.equal(evaluate({ 'if-modified-since': AFTER }, weak), 'not-modified');
    assert.equal(evaluate({ 'if-modified-since': BEFORE }, weak), 'proceed');
    assert.equal(evaluate({ 'if-modified-since': 'yesterday' }, weak), 'proceed');
    assert.equal(evaluate({ 'if-modified-since': '1' }, weak), 'proceed');
    assert.equal(
      evaluate({ 'if-modified-since': DATE }, { etag: 'W/"abc"' }),
      'proceed',
      'no Last-Modified, no date check',
    );
  });

  it('If-Match: strong comparison, so a weak ETag fails it; * passes', () => {
    assert.equal(evaluate({ 'if-match': 'W/"abc"' }, weak), 'precondition-failed');
    assert.equal(evaluate({ 'if-match': '"abc"' }, weak), 'precondition-failed');
    assert.equal(evaluate({ 'if-match': '"abc"' }, strong), 'proceed');
    assert.equal(evaluate({ 'if-match': '"x", "abc"' }, strong), 'proceed');
    assert.equal(evaluate({ 'if-match': '"x"' }, strong), 'precondition-failed');
    assert.equal(evaluate({ 'if-match': '*' }, weak), 'proceed');
    assert.equal(
      evaluate({ 'if-match': '"abc"' }, { lastModified: LM }),
      'precondition-failed',
      'no ETag matches nothing',
    );
  });

  it('If-Unmodified-Since: 412 when modified after; ignored when If-Match is present', () => {
    assert.equal(evaluate({ 'if-unmodified-since': BEFORE }, weak), 'precondition-failed');
    assert.equal(evaluate({ 'if-unmodified-since': DATE }, weak), 'proceed');
    assert.equal(evaluate({ 'if-unmodified-since': 'garbage' }, weak), 'proceed');
    assert.equal(evaluate({ 'if-match': '*', 'if-unmodified-since': BEFORE }, weak), 'proceed');
  });

  it('412 is decided before 304', () => {
    assert.equal(evaluate({ 'if-match': '"x"', 'if-none-match': '*' }, strong), 'precondition-failed');
  });

  it('If-Range: strong ETag match or the exact Last-Modified date', () => {
    assert.equal(ifRangeMatches({}, weak), true);
    assert.equal(ifRangeMatches({ 'if-range': '"abc"' }, strong), true);
    assert.equal(ifRangeMatches({ 'if-range': '"abc"' }, weak), false, 'a weak current tag never matches');
    assert.equal(ifRangeMatches({ 'if-range': 'W/"abc"' }, weak), false);
    assert.equal(ifRangeMatches({ 'if-range': '"x"' }, strong), false);
    assert.equal(ifRangeMatches({ 'if-range': DATE }, weak), true);
    assert.equal(ifRangeMatches({ 'if-range': AFTER }, weak), false, 'only an exact date');
    assert.equal(ifRangeMatches({ 'if-range': DATE }, { etag: '"abc"' }), false);
  });

  it('HTTP-dates in the three forms; other strings are not dates', () => {
    assert.equal(parseHttpDate('Sun, 06 Nov 1994 08:49:37 GMT'), LM);
    assert.equal(parseHttpDate('Sunday, 06-Nov-94 08:49:37 GMT'), LM);
    assert.equal(parseHttpDate('Sun Nov  6 08:49:37 1994'), Date.parse('Sun Nov  6 08:49:37 1994'));
    assert.ok(Number.isNaN(parseHttpDate('1994-11-06')));
    assert.ok(Number.isNaN(parseHttpDate(undefined)));
  });
});
