// Our file preconditions held to the fresh package: for a GET without If-Match or
// If-Unmodified-Since, evaluatePreconditions() answers 304 exactly when fresh() says fresh, on
// generated well-formed and hostile headers; the deliberate differences are listed and asserted.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import fresh from 'fresh';
import { evaluatePreconditions, isFresh, parseEntityTag, parseHttpDate } from './conditional.js';

interface Case {
  ifNoneMatch?: string | undefined;
  ifModifiedSince?: string | undefined;
  cacheControl?: string | undefined;
  etag?: string | undefined;
  lastModified?: number | undefined;
}

function ours(c: Case): boolean {
  const headers = {
    'if-none-match': c.ifNoneMatch,
    'if-modified-since': c.ifModifiedSince,
    'cache-control': c.cacheControl,
  };
  return evaluatePreconditions(headers, { etag: c.etag, lastModified: c.lastModified }) === 'not-modified';
}

function theirs(c: Case): boolean {
  const req = {
    'if-none-match': c.ifNoneMatch,
    'if-modified-since': c.ifModifiedSince,
    'cache-control': c.cacheControl,
  };
  const res = {
    etag: c.etag,
    'last-modified': c.lastModified === undefined ? undefined : new Date(c.lastModified).toUTCString(),
  };
  return fresh(req, res);
}

// -- Generators --

/** Opaque-tag characters (RFC 9110 8.8.3), without the comma and space fresh splits and trims on. */
const opaque = fc.string({ unit: fc.constantFrom(..."abcXYZ019-_./:;=!#$%&'()*+<>?@[]^`{|}~\u00e9"), maxLength: 6 });
const tag = fc.tuple(fc.boolean(), opaque).map(([weak, o]) => `${weak ? 'W/' : ''}"${o}"`);
/** A few fixed tags so that request and response often share one. */
const sharedTag = fc.constantFrom('"a"', 'W/"a"', '"b"', 'W/"b"', '""', '"x-1"');
const anyTag = fc.oneof(sharedTag, tag);
const tagList = fc.oneof(
  { weight: 1, arbitrary: fc.constant('*') },
  {
    weight: 6,
    arbitrary: fc
      .array(anyTag, { minLength: 1, maxLength: 4 })
      .chain((tags) => fc.constantFrom(',', ', ', ' , ', ',  ').map((sep) => tags.join(sep))),
  },
);
/** Whole seconds, as HTTP-dates carry, between 1990 and 2040. */
const seconds = fc.integer({ min: 631152000, max: 2208988800 }).map((s) => s * 1000);
const httpDate = seconds.map((ms) => new Date(ms).toUTCString());
const cacheControl = fc.constantFrom(undefined, 'max-age=0', 'no-store', 'private', 'no-cache="set-cookie"');
const noCache = fc.constantFrom('no-cache', 'private, no-cache', 'no-cache, max-age=0');
const maybe = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });

const wellFormed = fc.record({
  ifNoneMatch: maybe(tagList),
  ifModifiedSince: maybe(
    fc.oneof(
      httpDate,
      seconds.map((ms) => new Date(ms + 1000).toUTCString()),
    ),
  ),
  cacheControl: fc.oneof(cacheControl, noCache),
  etag: maybe(anyTag),
  lastModified: maybe(seconds),
}) satisfies fc.Arbitrary<Case>;

/** Anything a client may send: random text, control characters, near-misses of the grammar. */
const hostileText = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.constantFrom(
    '*',
    ' * ',
    '',
    ' ',
    '\t"a"',
    '"a,b"',
    'a',
    '"a',
    'W/',
    'W/"a',
    '"a" "b"',
    '1',
    '2001',
    'yesterday',
    'Sun, 06 Nov 1994 08:49:37',
    '1994-11-06T08:49:37Z',
    'Sunday, 06-Nov-94 08:49:37 GMT',
    'Sun Nov  6 08:49:37 1994',
  ),
);
const hostile = fc.record({
  ifNoneMatch: maybe(fc.oneof(tagList, hostileText)),
  ifModifiedSince: maybe(fc.oneof(httpDate, hostileText)),
  cacheControl: fc.oneof(cacheControl, noCache, hostileText),
  etag: maybe(fc.oneof(anyTag, hostileText)),
  lastModified: maybe(seconds),
}) satisfies fc.Arbitrary<Case>;

// -- Where we differ on purpose --

/** fresh's test for no-cache. */
const NO_CACHE = /(?:^|,)\s*?no-cache\s*?(?:,|$)/;

/** Difference (4): we answer as fresh would without the no-cache. */
function withoutNoCache(c: Case): Case {
  return c.cacheControl !== undefined && NO_CACHE.test(c.cacheControl) ? { ...c, cacheControl: undefined } : c;
}

/** A list fresh and we read alike: `*`, or quoted tags without commas inside, separated by commas and spaces. */
const PLAIN_LIST = /^(?:\*| *(?:W\/)?"[^",\s]*"(?: *, *(?:W\/)?"[^",\s]*")* *)$/;

/**
 * Why the two may answer differently: (1) an If-Modified-Since that is not an HTTP-date but that
 * Date.parse reads ('1', ISO 8601) is ignored by us and compared by fresh; (2) an If-None-Match
 * that is not a plain list (a comma inside quotes, tabs, unquoted or unterminated tags) is parsed
 * as RFC 9110's entity-tag list by us and split at commas by fresh; (3) an ETag on the response
 * that is not one entity-tag matches nothing for us and matches as text for fresh; (4) a request
 * with `Cache-Control: no-cache` never is fresh to fresh, while we still answer 304: fetch() adds
 * no-cache to every request that sets its own If-None-Match (and the demo's test pins the 304).
 */
function deliberate(c: Case): string | null {
  if (c.cacheControl && NO_CACHE.test(c.cacheControl)) return 'no-cache';
  const ims = c.ifModifiedSince;
  if (ims && Number.isNaN(parseHttpDate(ims)) && !Number.isNaN(Date.parse(ims))) return 'lenient date';
  if (c.ifNoneMatch && !PLAIN_LIST.test(c.ifNoneMatch)) return 'entity-tag list';
  if (c.etag !== undefined && (parseEntityTag(c.etag) === null || !PLAIN_LIST.test(c.etag))) return 'response etag';
  return null;
}

describe('evaluatePreconditions against fresh', () => {
  it('answers 304 exactly when fresh does, for well-formed validators', { timeout: 30_000 }, () => {
    fc.assert(
      fc.property(wellFormed, (c) => {
        const plain = withoutNoCache(c);
        // Equal to fresh; with no-cache, equal to fresh without it, and fresh itself says stale.
        return ours(c) === theirs(plain) && (plain === c || !theirs(c));
      }),
      { numRuns: 5000 },
    );
  });

  it('on hostile headers never throws, and differs only where listed', { timeout: 30_000 }, () => {
    fc.assert(
      fc.property(hostile, (c) => {
        const plain = withoutNoCache(c);
        return ours(c) === theirs(plain) || deliberate(plain) !== null;
      }),
      { numRuns: 5000 },
    );
  });

  it('the listed differences, one example each', { timeout: 5_000 }, () => {
    const lm = Date.parse('Sun, 06 Nov 1994 08:49:37 GMT');
    const rows: [Case, boolean, boolean][] = [
      // (1) '1' is 2001 to Date.parse: fresh says 304, we ignore a date that is not an HTTP-date.
      [{ ifModifiedSince: '1', lastModified: lm }, false, true],
      // (2) A comma inside a quoted tag: fresh splits it, we keep it whole.
      [{ ifNoneMatch: '"a,b"', etag: '"a,b"' }, true, false],
      // (2) A tab before a tag: optional whitespace to us, part of the tag to fresh.
      [{ ifNoneMatch: '\t"a"', etag: '"a"' }, true, false],
      // (2)/(3) Unquoted text is not an entity-tag: fresh compares it as text.
      [{ ifNoneMatch: 'a', etag: 'a' }, false, true],
      // (4) fetch() with its own If-None-Match also sends no-cache: we still answer 304.
      [{ ifNoneMatch: '"a"', etag: '"a"', cacheControl: 'no-cache' }, true, false],
    ];
    for (const [c, want, freshSays] of rows) {
      assert.equal(deliberate(c) !== null, true, JSON.stringify(c));
      assert.equal(ours(c), want, `ours ${JSON.stringify(c)}`);
      assert.equal(theirs(c), freshSays, `fresh ${JSON.stringify(c)}`);
    }
  });

  it('req.fresh is fresh itself: no-cache asks for the full answer', { timeout: 5_000 }, () => {
    assert.equal(isFresh({ 'if-none-match': '"a"', 'cache-control': 'no-cache' }, { etag: '"a"' }), false);
    assert.equal(isFresh({ 'if-none-match': '"a"' }, { etag: '"a"' }), true);
  });
});
