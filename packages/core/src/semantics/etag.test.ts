// Entity tags: the strings the etag package (Express's) makes, so caches keep validating.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileEtag, etag } from './etag.js';

test('body tags: "<len hex>-<sha1 base64 27>", strong unless asked weak; strings count UTF-8 bytes', () => {
  const table: [Parameters<typeof etag>[0], boolean | undefined, string][] = [
    ['', undefined, '"0-2jmj7l5rSw0yVb/vlWAYkK/YBwk"'],
    ['', true, 'W/"0-2jmj7l5rSw0yVb/vlWAYkK/YBwk"'],
    ['hello', undefined, '"5-qvTGHdzF6KLavt4PO0gs2a6pQ00"'],
    [Buffer.from('hello'), true, 'W/"5-qvTGHdzF6KLavt4PO0gs2a6pQ00"'],
    [new Uint8Array(Buffer.from('hello')), false, '"5-qvTGHdzF6KLavt4PO0gs2a6pQ00"'],
    ['ü', undefined, '"2-lKdZ/TdzVDB1PHtrgGhDBtgOoW4"'],
    ['<p>hi</p>', true, 'W/"9-ttvLQjlZejsM8OHFMxIScRaHZZo"'],
  ];
  for (const [entity, weak, want] of table) {
    assert.equal(
      etag(entity, weak === undefined ? {} : { weak }),
      want,
      `etag(${JSON.stringify(String(entity))}, ${weak})`,
    );
  }
  // A length over 255 shows as more hex digits.
  assert.match(etag('x'.repeat(4096)), /^"1000-[A-Za-z0-9+/]{27}"$/);
});

test('stat tags: "<size hex>-<mtime ms hex>", weak unless asked strong', () => {
  const stat = { size: 1234, mtime: new Date(1700000000123), ctime: new Date(0), ino: 7 };
  assert.equal(etag(stat), 'W/"4d2-18bcfe5687b"');
  assert.equal(etag(stat, { weak: false }), '"4d2-18bcfe5687b"');
  assert.throws(() => etag(42 as never), TypeError);
});

test("compileEtag: the 'etag' setting as Express compiles it", () => {
  const body = Buffer.from('hello');
  assert.equal(compileEtag(undefined)!(body), 'W/"5-qvTGHdzF6KLavt4PO0gs2a6pQ00"');
  assert.equal(compileEtag(true)!(body), 'W/"5-qvTGHdzF6KLavt4PO0gs2a6pQ00"');
  assert.equal(compileEtag('weak')!(body), 'W/"5-qvTGHdzF6KLavt4PO0gs2a6pQ00"');
  assert.equal(compileEtag('strong')!(body), '"5-qvTGHdzF6KLavt4PO0gs2a6pQ00"');
  assert.equal(compileEtag(false), undefined);
  const own = (b: Buffer) => `"mine-${b.length}"`;
  assert.equal(compileEtag(own), own);
  assert.throws(() => compileEtag('sometimes'), /unknown value for etag function/);
});
