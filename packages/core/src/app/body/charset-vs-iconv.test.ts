// Body charset decoding held to iconv-lite as body-parser calls it: our Buffer fast paths for
// UTF-8 and Latin-1 must give iconv-lite's strings for any bytes, and every other charset is
// iconv-lite itself; valid text round-trips in each common charset.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import iconv from 'iconv-lite';
import { decoderFor } from './charset.js';

const CHARSETS = [
  'utf-8',
  'utf8',
  'UTF-8',
  'iso-8859-1',
  'latin1',
  'binary',
  'iso-8859-2',
  'iso-8859-15',
  'windows-1250',
  'windows-1251',
  'windows-1252',
  'koi8-r',
  'utf-16le',
  'utf-16be',
  'utf-16',
  'utf-32',
  'shift_jis',
  'euc-jp',
  'gbk',
  'gb18030',
  'big5',
  'euc-kr',
];

describe('charset decoding against iconv-lite (differential)', () => {
  it('any bytes, BOM or not, decode to the string iconv-lite gives', () => {
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 64 }),
      fc.uint8Array({ maxLength: 32 }).map((b) => Uint8Array.from([0xef, 0xbb, 0xbf, ...b])),
    );
    fc.assert(
      fc.property(fc.constantFrom(...CHARSETS), bytes, (cs, b) => {
        const buf = Buffer.from(b);
        assert.equal(decoderFor(cs)!(buf), iconv.decode(buf, cs), `${cs} ${buf.toString('hex')}`);
      }),
      { numRuns: 5000 },
    );
  });

  it('valid text in each charset comes back whole', () => {
    fc.assert(
      fc.property(fc.constantFrom(...CHARSETS), fc.string({ unit: 'grapheme', maxLength: 40 }), (cs, s) => {
        const buf = iconv.encode(s, cs);
        if (iconv.decode(buf, cs) !== s) return; // not text this charset can hold
        assert.equal(decoderFor(cs)!(buf), s, `${cs} ${JSON.stringify(s)}`);
      }),
      { numRuns: 3000 },
    );
  });

  it('windows-1252 keeps 0x80-0x9F (Node 20 TextDecoder drops them), unknown charsets are null', () => {
    assert.equal(decoderFor('windows-1252')!(Buffer.from([0x80, 0x41, 0x93, 0x94])), '€A“”');
    assert.equal(decoderFor('nope'), null);
    assert.equal(decoderFor('x-user-defined'), null);
  });
});
