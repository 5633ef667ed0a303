// Content negotiation tables: the rankings negotiator produces, the answers accepts gives, and
// the precompressed variants a file sender picks.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  acceptsCharsets,
  acceptsEncodings,
  acceptsLanguages,
  acceptsTypes,
  acceptedCodings,
  preferredCharsets,
  preferredEncodings,
  preferredLanguages,
  preferredMediaTypes,
} from './negotiation.js';

type Row = [header: string | undefined, offered: string[] | undefined, expected: string[]];

function table(fn: (h: string | undefined, o?: string[]) => string[], rows: Row[]): void {
  for (const [header, offered, expected] of rows) {
    assert.deepEqual(fn(header, offered), expected, `${JSON.stringify(header)} offered ${JSON.stringify(offered)}`);
  }
}

// RFC 9110 12.5.1's example header.
const RFC_ACCEPT = 'text/*;q=0.3, text/html;q=0.7, text/html;level=1, text/html;level=2;q=0.4, */*;q=0.5';

describe('media types', () => {
  it('ranks by q, then specificity, then header order, then offered order', { timeout: 5_000 }, () => {
    table(preferredMediaTypes, [
      [undefined, undefined, ['*/*']],
      [undefined, ['text/html', 'application/json'], ['text/html', 'application/json']],
      ['', ['text/html'], []],
      ['application/json, text/html', ['text/html', 'application/json'], ['application/json', 'text/html']],
      ['text/*, text/html', ['text/plain', 'text/html'], ['text/html', 'text/plain']],
      ['application/json;q=0.5, text/html', undefined, ['text/html', 'application/json']],
      ['text/html;q=0, */*', ['text/html', 'image/png'], ['image/png']],
      ['text/html;q=0', undefined, []],
      ['TEXT/HTML', ['text/html'], ['text/html']],
      ['text/html;foo="bar,baz", application/json', undefined, ['text/html', 'application/json']],
      ['garbage, text/plain', undefined, ['text/plain']],
      [
        RFC_ACCEPT,
        ['text/plain', 'text/html;level=2', 'image/jpeg', 'text/html;level=3', 'text/html', 'text/html;level=1'],
        ['text/html;level=1', 'text/html;level=3', 'text/html', 'image/jpeg', 'text/html;level=2', 'text/plain'],
      ],
    ]);
  });

  it('accepts(): extensions, first type without a header, false when nothing fits', { timeout: 5_000 }, () => {
    assert.equal(acceptsTypes('text/html', ['html']), 'html');
    assert.equal(acceptsTypes('text/html', ['json']), false);
    assert.equal(acceptsTypes(undefined, ['json', 'html']), 'json');
    assert.equal(acceptsTypes('text/*, application/json', ['html']), 'html');
    assert.equal(acceptsTypes('text/*, application/json', ['text/html']), 'text/html');
    assert.equal(acceptsTypes('text/*, application/json', ['png']), false);
    assert.equal(acceptsTypes('text/*;q=.5, application/json', [['html', 'json']]), 'json');
    assert.equal(acceptsTypes('text/*;q=.5, application/json', ['html', 'json']), 'json');
    assert.equal(acceptsTypes('application/json', ['no-such-extension', 'json']), 'json');
    assert.equal(acceptsTypes('*/*', ['no-such-extension']), false);
    assert.deepEqual(acceptsTypes('text/plain;q=0.5, text/html', []), ['text/html', 'text/plain']);
  });
});

describe('encodings', () => {
  it('adds identity unless named, at the lowest q given', { timeout: 5_000 }, () => {
    table(preferredEncodings, [
      [undefined, undefined, ['identity']],
      ['gzip, compress;q=0.2', undefined, ['gzip', 'compress', 'identity']],
      ['gzip;q=0.8, identity;q=0.5, *;q=0.3', ['identity', 'gzip', 'deflate'], ['gzip', 'identity', 'deflate']],
      ['GZIP', ['gzip'], ['gzip']],
      ['identity;q=0', ['identity'], []],
      ['*;q=0', ['identity', 'gzip'], []],
      ['gzip;q=0', ['gzip', 'identity'], ['identity']],
      ['br, gzip', ['gzip', 'br'], ['br', 'gzip']],
    ]);
    assert.equal(acceptsEncodings(undefined, ['gzip']), false);
    assert.equal(acceptsEncodings(undefined, ['gzip', 'identity']), 'identity');
    assert.equal(acceptsEncodings('gzip, deflate', ['deflate', 'gzip']), 'gzip');
    assert.deepEqual(acceptsEncodings('gzip', []), ['gzip', 'identity']);
  });
});

describe('charsets', () => {
  it('ranks exact before *, and q=0 refuses', { timeout: 5_000 }, () => {
    table(preferredCharsets, [
      [undefined, undefined, ['*']],
      [undefined, ['utf-8'], ['utf-8']],
      ['utf-8, iso-8859-1;q=0.2, utf-7;q=0.5', undefined, ['utf-8', 'utf-7', 'iso-8859-1']],
      ['utf-8, iso-8859-1;q=0.2, utf-7;q=0.5', ['iso-8859-1', 'utf-7'], ['utf-7', 'iso-8859-1']],
      ['*, UTF-8;q=0', ['utf-8', 'latin1'], ['latin1']],
      ['iso-8859-1; q=0.5, utf-8', undefined, ['utf-8', 'iso-8859-1']],
    ]);
    assert.equal(acceptsCharsets('utf-8, utf-7;q=0.5', ['utf-7', 'utf-8']), 'utf-8');
    assert.equal(acceptsCharsets('utf-8', ['latin1']), false);
  });
});

describe('languages', () => {
  it('matches full tags before prefixes, then by q', { timeout: 5_000 }, () => {
    table(preferredLanguages, [
      [undefined, undefined, ['*']],
      ['en;q=0.8, es, pt', undefined, ['es', 'pt', 'en']],
      ['en-US, en;q=0.8, fr;q=0.5', ['fr', 'en', 'en-US', 'en-GB'], ['en-US', 'en', 'en-GB', 'fr']],
      ['en-US', ['en'], ['en']],
      ['en', ['en-US'], ['en-US']],
      ['de, *;q=0.1', ['fr', 'de'], ['de', 'fr']],
      ['de', ['fr'], []],
    ]);
    assert.equal(acceptsLanguages('en;q=0.8, es, pt', ['en', 'pt']), 'pt');
    assert.equal(acceptsLanguages('en-US, en;q=0.8, fr;q=0.5', ['es', 'fr']), 'fr');
    assert.equal(acceptsLanguages('de', ['fr']), false);
    assert.deepEqual(acceptsLanguages('fr;q=0.5, de', []), ['de', 'fr']);
  });
});

describe('Accept-Encoding for precompressed variants', () => {
  it('br before gzip on a tie, q decides otherwise, q=0 and identity preferences respected', () => {
    assert.deepEqual(acceptedCodings('gzip, deflate, br, zstd'), ['br', 'gzip']);
    assert.deepEqual(acceptedCodings('gzip'), ['gzip']);
    assert.deepEqual(acceptedCodings('x-gzip'), ['gzip']);
    assert.deepEqual(acceptedCodings('br;q=0.5, gzip;q=0.8'), ['gzip', 'br']);
    assert.deepEqual(acceptedCodings('br;q=0, gzip'), ['gzip']);
    assert.deepEqual(acceptedCodings('*'), ['br', 'gzip']);
    assert.deepEqual(acceptedCodings('*, br;q=0'), ['gzip']);
    assert.deepEqual(acceptedCodings('identity'), []);
    assert.deepEqual(acceptedCodings('identity;q=1, br;q=0.5'), []);
    assert.deepEqual(acceptedCodings(''), []);
    assert.deepEqual(acceptedCodings(undefined), []);
  });
});
