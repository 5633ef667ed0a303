// URL encoding as the encodeurl package does it, with CR and LF refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeUrl } from './url-encoding.js';

test('encodeUrl: what a URL cannot hold becomes %XX (UTF-8); valid %XX is never encoded twice', () => {
  const table: [string, string][] = [
    ['/a b', '/a%20b'],
    ['/%20x', '/%20x'],
    ['/%zz', '/%25zz'],
    ['/100%', '/100%25'],
    ['/%2', '/%252'],
    ['/%e2%82%AC', '/%e2%82%AC'],
    ['http://ex.com/ü?q=a b#f g', 'http://ex.com/%C3%BC?q=a%20b#f%20g'],
    ['/[a]{b}|c^`"<>', '/[a]%7Bb%7D|c^%60%22%3C%3E'],
    ["/a'b!$&()*+,;=:@~_-.", "/a'b!$&()*+,;=:@~_-."],
    ['/x\ty\u007f', '/x%09y%7F'],
    ['/\u{1F600}', '/%F0%9F%98%80'],
    ['/\uD800x', '/%EF%BF%BDx'],
    ['/x\uDC00', '/x%EF%BF%BD'],
    // Passed on as given, as Express does: protection against open redirects is the app's job.
    ['//evil.example/x', '//evil.example/x'],
    ['\\\\evil.example', '\\\\evil.example'],
    ['mailto:a@b.c', 'mailto:a@b.c'],
    ['', ''],
  ];
  for (const [url, want] of table) assert.equal(encodeUrl(url), want, JSON.stringify(url));
});

test('encodeUrl refuses CR and LF (a header injection attempt) instead of encoding them', () => {
  for (const url of ['/x\r\nSet-Cookie: a=b', '/x\ny', '/x\r']) {
    assert.throws(() => encodeUrl(url), { code: 'ERR_FCGI_INVALID_HEADER' }, JSON.stringify(url));
  }
});
