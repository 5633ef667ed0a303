// Content-Disposition values, byte for byte as Express 5 writes them (the same content-disposition 2).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { contentDisposition } from './content-disposition.js';

test('file names: ASCII plain (token or quoted), anything else with an ASCII stand-in and filename*', () => {
  const table: [string | undefined, string][] = [
    [undefined, 'attachment'],
    ['x.txt', 'attachment; filename=x.txt'],
    ['my file.txt', 'attachment; filename="my file.txt"'],
    ['a"b\\c.txt', 'attachment; filename="a\\"b\\\\c.txt"'],
    ["it's (1).txt", 'attachment; filename="it\'s (1).txt"'],
    ['a;b,c.txt', 'attachment; filename="a;b,c.txt"'],
    ['', 'attachment; filename=""'],
    // Looks percent-encoded: some clients would decode it, so the exact name goes in filename* too.
    ['%20.txt', "attachment; filename=%20.txt; filename*=UTF-8''%2520.txt"],
    ['résumé.pdf', 'attachment; filename="r?sum?.pdf"; filename*=UTF-8\'\'r%C3%A9sum%C3%A9.pdf'],
    ['日本語.txt', 'attachment; filename="???.txt"; filename*=UTF-8\'\'%E6%97%A5%E6%9C%AC%E8%AA%9E.txt'],
    ['€ rates.txt', 'attachment; filename="? rates.txt"; filename*=UTF-8\'\'%E2%82%AC%20rates.txt'],
    ['😀.png', 'attachment; filename="??.png"; filename*=UTF-8\'\'%F0%9F%98%80.png'],
  ];
  for (const [name, want] of table) assert.equal(contentDisposition(name), want, JSON.stringify(name));
});

test('options: type, fallback false or a string of our own', () => {
  assert.equal(contentDisposition('x.pdf', { type: 'inline' }), 'inline; filename=x.pdf');
  assert.equal(
    contentDisposition('résumé.pdf', { fallback: false }),
    "attachment; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf",
  );
  assert.equal(
    contentDisposition('résumé.pdf', { fallback: 'resume.pdf' }),
    "attachment; filename=resume.pdf; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf",
  );
  assert.equal(contentDisposition('same.pdf', { fallback: 'same.pdf' }), 'attachment; filename=same.pdf');
  assert.throws(() => contentDisposition('x', { fallback: 'naïve' }), TypeError);
  assert.throws(() => contentDisposition('x', { type: 'bad type' }), TypeError);
  // The package turns a non-string name into a string.
  assert.equal(contentDisposition(42 as never), 'attachment; filename=42');
});

test("ext-value: encodeURIComponent, plus ' ( ) * as %XX; a lone surrogate is U+FFFD", () => {
  const ext = (name: string) => contentDisposition(name, { fallback: false }).replace('attachment; filename*=', '');
  assert.equal(ext("a b'(c)*.txt\u00ff"), "UTF-8''a%20b%27%28c%29%2A.txt%C3%BF");
  assert.equal(ext('!#$&+-.^_`|~\u00ff'), "UTF-8''!%23%24%26%2B-.%5E_%60%7C~%C3%BF");
  assert.equal(ext('x\uD800y'), "UTF-8''x%EF%BF%BDy");
});
