// Whatever a client sends in these headers, the semantics functions answer and never throw.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  acceptedCodings,
  acceptsCharsets,
  acceptsEncodings,
  acceptsLanguages,
  acceptsTypes,
  evaluatePreconditions,
  hasBody,
  ifRangeMatches,
  isFresh,
  parseEntityTags,
  parseMediaType,
  preferredCharsets,
  preferredEncodings,
  preferredLanguages,
  preferredMediaTypes,
  requestTypeIs,
  setCharset,
  typeIs,
} from './index.js';

/** Header-like text: random, binary, and made of the grammar's own punctuation. */
const text = fc.oneof(
  fc.string({ maxLength: 60 }),
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.string({ unit: fc.constantFrom(...'a/*;,=q."\\ \t-+0.5W'), maxLength: 60 }),
);
const header = fc.option(text, { nil: undefined });
const offered = fc.option(fc.array(text, { maxLength: 4 }), { nil: undefined });

describe('semantics on hostile input', () => {
  it('negotiation answers with lists or one of the offered values', { timeout: 30_000 }, () => {
    fc.assert(
      fc.property(header, offered, (h, o) => {
        for (const f of [preferredMediaTypes, preferredCharsets, preferredEncodings, preferredLanguages]) {
          const r = f(h, o);
          assert.ok(Array.isArray(r));
          if (o) for (const v of r) assert.ok(o.includes(v));
        }
        for (const f of [acceptsTypes, acceptsCharsets, acceptsEncodings, acceptsLanguages]) {
          const r = f(h, o ?? []);
          assert.ok(r === false || typeof r === 'string' || Array.isArray(r));
        }
        for (const c of acceptedCodings(h)) assert.ok(c === 'br' || c === 'gzip');
      }),
      { numRuns: 1500 },
    );
  });

  it('media types parse to a type or null, and matching answers', { timeout: 30_000 }, () => {
    fc.assert(
      fc.property(header, fc.array(text, { maxLength: 3 }), text, (ct, types, len) => {
        const mt = parseMediaType(ct);
        assert.ok(mt === null || /^[^/]+\/[^/]+$/.test(mt.type));
        const r = typeIs(ct, types);
        assert.ok(r === false || typeof r === 'string');
        assert.equal(typeof hasBody({ 'content-length': len }), 'boolean');
        const q = requestTypeIs({ 'content-type': ct, 'content-length': len }, types);
        assert.ok(q === null || q === false || typeof q === 'string');
        if (ct !== undefined) assert.equal(typeof setCharset(ct, 'utf-8'), 'string');
      }),
      { numRuns: 1500 },
    );
  });

  it('conditional requests answer one of their results', { timeout: 30_000 }, () => {
    fc.assert(
      fc.property(
        header,
        header,
        header,
        header,
        header,
        header,
        fc.option(text, { nil: undefined }),
        (inm, im, ims, ius, range, cc, etag) => {
          const headers = {
            'if-none-match': inm,
            'if-match': im,
            'if-modified-since': ims,
            'if-unmodified-since': ius,
            'if-range': range,
            'cache-control': cc,
          };
          const v = { etag, lastModified: 784111777000 };
          assert.ok(['proceed', 'precondition-failed', 'not-modified'].includes(evaluatePreconditions(headers, v)));
          assert.equal(typeof ifRangeMatches(headers, v), 'boolean');
          assert.equal(typeof isFresh(headers, { etag, 'last-modified': ims }), 'boolean');
          const tags = parseEntityTags(inm ?? '');
          assert.ok(tags === null || Array.isArray(tags));
        },
      ),
      { numRuns: 1500 },
    );
  });
});
