// Layer matching: the string-compare fast path for static paths must agree with path-to-regexp
// exactly; params decoded (a malformed escape is a 400); RegExp paths; lists; loosening.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { match } from 'path-to-regexp';
import { FcgiError, Layer, decodeParam, type MatchOptions } from '@fcgi/core';
// Internal to the core's literal matcher: tested here beside the RegExp paths that use it.
import { groupNames } from '../../core/src/app/matcher.js';
import { patterns } from './patterns.js';

const noop = (_req: unknown, _res: unknown, _next: unknown) => {};
const layer = (path: ConstructorParameters<typeof Layer>[0], options: Partial<MatchOptions> = {}) =>
  new Layer(path, { sensitive: false, strict: false, end: true, ...options }, noop, patterns);

describe('Layer: static paths without a regex', () => {
  const patterns = ['/', '/about', '/About/Team', '/api/', '/a.b', '/x-y_z~', '', '/deep/er/path'];
  const paths = [
    '/',
    '/about',
    '/about/',
    '/ABOUT',
    '/about//',
    '/about/x',
    '/aboutx',
    '/about/team',
    '/About/Team/',
    '/api',
    '/api/',
    '/api/x',
    '/apix',
    '/a.b',
    '/aXb',
    '/x-y_z~',
    '',
    '/deep/er/path/more',
    '/deep/er/pathx',
  ];

  for (const sensitive of [false, true]) {
    for (const strict of [false, true]) {
      for (const end of [true, false]) {
        it(`agrees with path-to-regexp (sensitive=${sensitive} strict=${strict} end=${end})`, () => {
          for (const pattern of patterns) {
            const l = layer(pattern, { sensitive, strict, end });
            const loosened = strict || pattern === '/' ? pattern : pattern.replace(/\/+$/, '');
            const reference = match(loosened, { sensitive, end, trailing: !strict });
            for (const path of paths) {
              if (l.slash) continue;
              const want = reference(path);
              const got = l.match(path);
              assert.deepEqual(
                got && { path: got.path, params: { ...got.params } },
                want && { path: want.path, params: { ...want.params } },
                `${pattern} vs ${path}`,
              );
            }
          }
        });
      }
    }
  }

  it('folds only ASCII letters by hand; non-ASCII text goes to the regex', () => {
    assert.ok(layer('/CAFÉ').match('/café'), 'the regex folds É and é');
    // The Kelvin sign lower-cases to "k", but the regex's 'i' flag (without 'u') does not fold it.
    assert.equal(layer('/k').match('/\u212a'), false);
    assert.ok(layer('/K').match('/k'));
  });
});

describe('Layer: params', () => {
  it('decodes params, splats segment by segment, optional groups left out', () => {
    assert.deepEqual({ ...(layer('/u/:id').match('/u/caf%C3%A9') as { params: object }).params }, { id: 'café' });
    assert.deepEqual(
      { ...(layer('/f/*rest').match('/f/a%2Fb/c') as { params: object }).params },
      { rest: ['a/b', 'c'] },
    );
    assert.deepEqual({ ...(layer('/p{/:x}').match('/p') as { params: object }).params }, {});
  });

  it("a malformed escape throws a 400 error with Express's message", () => {
    assert.throws(
      () => layer('/u/:id').match('/u/%E0%A4%A'),
      (e: { status?: number; message: string }) =>
        e.status === 400 && e.message === "Failed to decode param '%E0%A4%A'",
    );
    assert.throws(
      () => decodeParam('%'),
      (e: unknown) => e instanceof FcgiError && e.status === 400 && e.cause instanceof URIError,
    );
    assert.equal(decodeParam('plain'), 'plain');
  });

  it('use() layers match a prefix ending at a segment boundary', () => {
    const l = layer('/api/:v', { end: false });
    assert.deepEqual(l.match('/api/v1/users'), {
      params: Object.assign(Object.create(null), { v: 'v1' }),
      path: '/api/v1',
    });
    assert.equal(l.match('/api'), false);
    assert.ok(layer('/', { end: false }).slash);
    assert.deepEqual(layer('/', { end: false }).match('anything'), { params: {}, path: '' });
  });

  it('RegExp paths: numbered and named groups, decoded; lists try each path in order', () => {
    const re = layer(/^\/r\/(\d+)(?:-(\w+))?\/(?<slug>[^/]+)$/);
    assert.deepEqual({ ...(re.match('/r/12/caf%C3%A9') as { params: object }).params }, { 0: '12', slug: 'café' });
    const list = layer(['/a/:x', ['/b/:y'], /^\/c$/]);
    assert.deepEqual({ ...(list.match('/b/2') as { params: object }).params }, { y: '2' });
    assert.ok(list.match('/c'));
    assert.equal(list.match('/d'), false);
    assert.throws(() => layer([42 as unknown as string]), TypeError);
  });

  it('groupNames skips escapes, classes and non-capturing groups', () => {
    assert.deepEqual(groupNames(String.raw`\((a)[(](?:b)(?<n>c)(?=d)(?<!e)(f)`), ['0', 'n', '1']);
  });
});
