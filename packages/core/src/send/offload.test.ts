import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { encodeUriPath, normalizeOffload, offloadValue, type NormalizedOffload } from './offload.js';

const accel = (map: Record<string, string>): NormalizedOffload =>
  normalizeOffload({ header: 'X-Accel-Redirect', map })!;

describe('normalizeOffload', () => {
  it('off for false, undefined and null', () => {
    assert.equal(normalizeOffload(false), null);
    assert.equal(normalizeOffload(undefined), null);
    assert.equal(normalizeOffload(null), null);
  });

  it('names the header canonically whatever its case, and picks the kind', () => {
    assert.deepEqual(normalizeOffload({ header: 'x-sendfile' }), { header: 'X-Sendfile', kind: 'path', rules: null });
    assert.equal(normalizeOffload({ header: 'x-lighttpd-SEND-file' })!.header, 'X-LIGHTTPD-send-file');
    assert.equal(accel({ '/srv': '/p' }).kind, 'uri');
  });

  it('refuses what would not work, when the option is read', () => {
    assert.throws(() => normalizeOffload('X-Sendfile'), TypeError);
    assert.throws(() => normalizeOffload({ header: 'X-Send-File' }), /offload.header/);
    assert.throws(() => normalizeOffload({ header: 'X-Accel-Redirect' }), /map is required/);
    assert.throws(() => normalizeOffload({ header: 'X-Accel-Redirect', map: {} }), /map is required/);
    assert.throws(() => accel({ 'srv/files': '/p/' }), /not an absolute path/);
    assert.throws(() => accel({ '/srv/files': 'p/' }), /URI path/);
    assert.throws(() => accel({ '/srv/files': '/p?x=1' }), /URI path/);
    assert.throws(() => accel({ '/srv/files': '/p#x' }), /URI path/);
    assert.throws(() => accel({ '/srv/files': '/a b/' }), /URI path/);
    assert.throws(
      () => normalizeOffload({ header: 'X-Sendfile', map: { '/srv': 'relative' } }),
      /not an absolute path/,
    );
    assert.throws(() => normalizeOffload({ header: 'X-Sendfile', map: ['/srv'] }), /map must be an object/);
  });

  it('prepares one option object once', () => {
    const o = { header: 'X-Accel-Redirect' as const, map: { '/srv/': '/p/' } };
    assert.equal(normalizeOffload(o), normalizeOffload(o));
  });
});

describe('offloadValue, X-Accel-Redirect', () => {
  it('maps by the longest matching prefix', () => {
    const o = accel({ '/srv/files/': '/_files/', '/srv/files/private/': '/_private/', '/srv/': '/_srv/' });
    assert.equal(offloadValue('/srv/files/a.txt', o), '/_files/a.txt');
    assert.equal(offloadValue('/srv/files/private/b.txt', o), '/_private/b.txt');
    assert.equal(offloadValue('/srv/other/c.txt', o), '/_srv/other/c.txt');
  });

  it('matches whole segments only, with or without trailing slashes in the map', () => {
    const o = accel({ '/srv/files': '/p' });
    assert.equal(offloadValue('/srv/files/a.txt', o), '/p/a.txt');
    assert.equal(offloadValue('/srv/filesystem/a.txt', o), null);
    assert.equal(offloadValue('/srv/file', o), null);
    assert.equal(offloadValue('/srv/files', o), '/p');
    assert.equal(offloadValue('/srv/files/a.txt', accel({ '/srv/files///': '/p///' })), '/p/a.txt');
  });

  it('a file outside every prefix is not offloaded', () => {
    const o = accel({ '/srv/files/': '/p/' });
    assert.equal(offloadValue('/etc/passwd', o), null);
    assert.equal(offloadValue('/srv/secret.txt', o), null);
  });

  it('the root directory as a prefix covers every path', () => {
    assert.equal(offloadValue('/etc/hosts', accel({ '/': '/_all/' })), '/_all/etc/hosts');
    assert.equal(offloadValue('/etc/hosts', accel({ '/': '/' })), '/etc/hosts');
  });

  it('percent-encodes what nginx would decode or cut: space, %, ?, #, non-ASCII', () => {
    const o = accel({ '/srv/f/': '/p/' });
    assert.equal(offloadValue('/srv/f/a b.txt', o), '/p/a%20b.txt');
    assert.equal(offloadValue('/srv/f/100%.txt', o), '/p/100%25.txt');
    assert.equal(offloadValue('/srv/f/a%20b.txt', o), '/p/a%2520b.txt');
    assert.equal(offloadValue('/srv/f/why?.txt', o), '/p/why%3F.txt');
    assert.equal(offloadValue('/srv/f/#1.txt', o), '/p/%231.txt');
    assert.equal(offloadValue('/srv/f/snow ☃/é.txt', o), '/p/snow%20%E2%98%83/%C3%A9.txt');
    assert.equal(offloadValue('/srv/f/a+b;c&d=e.txt', o), '/p/a%2Bb%3Bc%26d%3De.txt');
    assert.equal(offloadValue('/srv/f/back\\slash\nnl', o), '/p/back%5Cslash%0Anl');
    // The map's own URI prefix is taken as written.
    assert.equal(offloadValue('/srv/f/x', accel({ '/srv/f/': '/with%20space/' })), '/with%20space/x');
  });

  it('a lone surrogate cannot be a URI: not offloaded', () => {
    assert.equal(offloadValue('/srv/f/\ud800.txt', accel({ '/srv/f/': '/p/' })), null);
  });
});

describe('offloadValue, X-Sendfile', () => {
  const plain = normalizeOffload({ header: 'X-Sendfile' })!;

  it('the absolute path as it is', () => {
    assert.equal(offloadValue('/srv/files/a b+c#d?e.txt', plain), '/srv/files/a b+c#d?e.txt');
  });

  it('a non-ASCII path goes as its UTF-8 bytes, one latin1 character each', () => {
    const v = offloadValue('/srv/snow☃.txt', plain)!;
    assert.deepEqual(Buffer.from(v, 'latin1'), Buffer.from('/srv/snow☃.txt', 'utf8'));
  });

  it('a path the servers would read differently is not offloaded: %, controls, trailing space', () => {
    assert.equal(offloadValue('/srv/100%.txt', plain), null);
    assert.equal(offloadValue('/srv/a\tb', plain), null);
    assert.equal(offloadValue('/srv/a\nb', plain), null);
    assert.equal(offloadValue('/srv/a\x7f', plain), null);
    assert.equal(offloadValue('/srv/trailing ', plain), null);
  });

  it('with a map: only below its prefixes, as the path the web server sees', () => {
    const o = normalizeOffload({
      header: 'X-Sendfile',
      map: { '/app/files/': '/srv/app/files/', '/app/public': '/app/public' },
    })!;
    assert.equal(offloadValue('/app/files/a.txt', o), '/srv/app/files/a.txt');
    assert.equal(offloadValue('/app/public/b.css', o), '/app/public/b.css');
    assert.equal(offloadValue('/app/secret.txt', o), null);
    assert.equal(offloadValue('/app/files/50%.txt', o), null);
  });
});

describe('encodeUriPath', () => {
  it('keeps the slashes and unreserved characters', () => {
    assert.equal(encodeUriPath('/a-b_c.d~e/f'), '/a-b_c.d~e/f');
    assert.equal(encodeUriPath('/a/b c/'), '/a/b%20c/');
  });
});
