import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { FcgiError } from '../errors.js';
import { collapseLeadingSlashes, decodeUrlPath, isInside, resolveSafePath } from './path-safety.js';

const ROOT = '/srv/www';

/** Decodes once and resolves, as the middleware does; returns the status of a refusal or the path. */
function check(url: string, dotfiles: 'allow' | 'deny' | 'ignore' = 'ignore'): number | string {
  const decoded = decodeUrlPath(url);
  if (decoded instanceof FcgiError) return decoded.status;
  const r = resolveSafePath(decoded, ROOT, dotfiles);
  return r instanceof FcgiError ? r.status : r.path;
}

describe('path safety', () => {
  it('maps plain and awkward names under the root', () => {
    assert.equal(check('/a/b.txt'), join(ROOT, 'a/b.txt'));
    assert.equal(check('/snow%20%E2%98%83/'), join(ROOT, 'snow ☃') + '/');
    assert.equal(check('/do..ts.txt'), join(ROOT, 'do..ts.txt'));
    assert.equal(check('//a///b/./c'), join(ROOT, 'a/b/c'));
    assert.equal(check(''), ROOT);
  });

  it('decoding failures and NUL are 400', () => {
    for (const u of ['/%', '/%zz', '/%c0%ae%c0%ae/x', '/%e0%80%ae', '/%ff', '/a%00.txt', '/%00']) {
      assert.equal(check(u), 400, u);
    }
  });

  it('every spelling of `..` is 403', () => {
    for (const u of [
      '/../x',
      '/a/../../x',
      '/..',
      '/%2e%2e/x',
      '/%2E%2E%2Fx',
      '/..%2fx',
      '/..%5cx',
      '/\\..\\x',
      '/a\\..\\..\\x',
      '/.%2e/x',
    ]) {
      assert.equal(check(u), 403, u);
    }
  });

  it('decodes once: %252e%252e and %252f stay literal name characters inside the root', () => {
    assert.equal(check('/%252e%252e/x'), join(ROOT, '%2e%2e/x'));
    assert.equal(check('/..%252fx', 'allow'), join(ROOT, '..%2fx'), 'one name, not a climb');
  });

  it('applies the dotfiles policy to every segment: ignore 404, deny 403, allow', () => {
    assert.equal(check('/.hidden'), 404);
    assert.equal(check('/.git/config', 'deny'), 403);
    assert.equal(check('/.git/config', 'allow'), join(ROOT, '.git/config'));
    assert.equal(check('/a/.well-known/x', 'deny'), 403);
    assert.equal(check('/..foo', 'ignore'), 404, 'a name starting with .. is a dotfile, not a climb');
  });

  it('without a root: absolute paths only, `..` refused, dotfiles checked along the whole path', () => {
    assert.equal((resolveSafePath('/etc/../x', null, 'allow') as FcgiError).status, 403);
    assert.equal((resolveSafePath('relative.txt', null, 'allow') as FcgiError).status, 500);
    assert.equal((resolveSafePath('/home/u/.config/x', null, 'ignore') as FcgiError).status, 404);
    assert.deepEqual(resolveSafePath('/var/x.txt', null, 'ignore'), {
      path: '/var/x.txt',
      parts: ['var', 'x.txt'],
      trailingSlash: false,
    });
  });

  it('isInside: a sibling sharing the prefix is outside; ..name is inside', () => {
    assert.equal(isInside('/srv/www', '/srv/www-evil/x'), false);
    assert.equal(isInside('/srv/www', '/srv/x'), false);
    assert.equal(isInside('/srv/www', '/srv/www/..foo'), true);
    assert.equal(isInside('/srv/www', '/srv/www'), true);
    assert.equal(isInside('/', '/etc/passwd'), true);
  });

  it('collapses a run of leading slashes to one', () => {
    assert.equal(collapseLeadingSlashes('//evil.example/'), '/evil.example/');
    assert.equal(collapseLeadingSlashes('///a//b/'), '/a//b/');
    assert.equal(collapseLeadingSlashes('/\\evil/'), '/\\evil/', 'backslashes are left to the Location encoder');
    assert.equal(collapseLeadingSlashes('/ok/'), '/ok/');
  });
});
