// The index may only leave out layers that cannot match: checked against every layer's own
// matcher on random tables and paths. And it must actually leave layers out.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Layer, type PathIndex } from '@fcgi/core';
import { PARAM, fold, mergeSorted, segmentKeys } from './lookup.js';
import { patterns } from './patterns.js';
import { parse } from 'path-to-regexp';

const noop = (_req: unknown, _res: unknown, _next: unknown) => {};
const indexOf = (stack: readonly Layer[], sensitive: boolean): PathIndex => patterns.index!(stack, sensitive);
const keys = (path: string, sensitive = false) => segmentKeys(parse(path).tokens, sensitive);

/** A small deterministic PRNG (mulberry32). */
function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('segmentKeys', () => {
  it('keeps whole literal segments and lone params, and stops at anything else', () => {
    assert.deepEqual(keys('/repos/:owner/:repo/issues'), ['repos', PARAM, PARAM, 'issues']);
    assert.deepEqual(keys('/Users/:id', true), ['Users', PARAM]);
    assert.deepEqual(keys('/Users/:id'), ['users', PARAM]);
    assert.deepEqual(keys('/files/:name.json'), ['files']);
    assert.deepEqual(keys('/files/*rest'), ['files']);
    assert.deepEqual(keys('/posts{/:slug}'), ['posts']);
    assert.deepEqual(keys('/user{s}/:id'), []);
    assert.deepEqual(keys('/posts{/:slug}.json'), []);
    assert.deepEqual(keys('/a/:x-:y/b'), ['a']);
    assert.deepEqual(keys('/'), ['']);
    assert.deepEqual(keys('/strict/'), ['strict', '']);
    assert.deepEqual(keys('relative/path'), []);
    assert.deepEqual(segmentKeys(null, false), []);
  });

  it('folds so that what the regex flag i equates stays equal', () => {
    assert.equal(fold('ABC'), 'abc');
    assert.equal(fold('σ'), fold('ς'));
  });
});

describe('LayerIndex', () => {
  const words = ['a', 'b', 'ab', 'A', 'x.json', '1', '', '%E0', 'σ'];
  const pieces = ['a', 'b', 'ab', 'B', ':x', ':y', '*s', '{/:o}', ':n.json', 'x.json', '{/b}', 'σ', 'Σ'];

  it('never leaves out a layer that matches (or throws) on random tables', () => {
    const random = rng(7);
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)]!;
    let checked = 0;
    for (let table = 0; table < 400; table++) {
      const sensitive = random() < 0.3;
      const strict = random() < 0.3;
      const stack: Layer[] = [];
      for (let n = 0; n < 12; n++) {
        const depth = Math.floor(random() * 4);
        let path = '';
        for (let d = 0; d < depth; d++) path += (pick(pieces).startsWith('{') ? '' : '/') + pick(pieces);
        if (!path.startsWith('/')) path = '/' + path;
        if (random() < 0.15) path += '/';
        const end = random() < 0.7;
        try {
          const p = random() < 0.05 ? /^\/a/ : random() < 0.1 ? [path, '/b/:z'] : path;
          stack.push(new Layer(p, { sensitive, strict: end ? strict : false, end }, noop, patterns));
        } catch {
          // path-to-regexp refused the pattern (e.g. "/:x:y"): not a route
        }
      }
      const index = indexOf(stack, sensitive);
      for (let q = 0; q < 40; q++) {
        let url = '';
        const depth = Math.floor(random() * 5);
        for (let d = 0; d < depth; d++) url += '/' + pick(words);
        if (url === '' || random() < 0.2) url += '/';
        const candidates = index.candidates(url);
        assert.deepEqual(
          [...candidates],
          [...candidates].sort((x, y) => x - y),
          'ascending',
        );
        stack.forEach((l, i) => {
          let hit = false;
          try {
            hit = l.match(url) !== false;
          } catch {
            hit = true;
          }
          if (hit)
            assert.ok(
              candidates.includes(i),
              `${String(l.path)} (end=${l.options.end}, sensitive=${sensitive}) matches ${url} but was left out`,
            );
          checked++;
        });
      }
    }
    assert.ok(checked > 100_000);
  });

  it('leaves out what cannot match: 1000 routes, a handful of candidates', () => {
    const stack = [new Layer('/', { sensitive: false, strict: false, end: false }, noop, patterns)];
    for (let i = 0; i < 1000; i++) {
      stack.push(new Layer(`/r${i % 50}/:id/sub${i}`, { sensitive: false, strict: false, end: true }, noop, patterns));
    }
    const index = indexOf(stack, false);
    const c = index.candidates('/r7/42/sub507');
    assert.deepEqual([...c], [0, 508], 'the root middleware and the one route');
    assert.deepEqual([...index.candidates('/R7/42/SUB507')], [0, 508], 'case-insensitive');
    assert.deepEqual([...index.candidates('/nothing')], [0]);
    assert.equal(index.candidates('*').length, 1001, 'a path not starting with / gets every layer');
  });

  it('merges the branches a path takes (a literal child and a param child) in stack order', () => {
    const l = (p: string) => new Layer(p, { sensitive: false, strict: false, end: true }, noop, patterns);
    const index = indexOf(
      [l('/users/:id'), l('/users/me'), l('/users/:id/posts'), l('/users/me/posts'), l('/*all')],
      false,
    );
    assert.deepEqual([...index.candidates('/users/me')], [0, 1, 4]);
    assert.deepEqual([...index.candidates('/users/me/')], [0, 1, 4], 'a trailing slash still reaches the exact routes');
    assert.deepEqual([...index.candidates('/users/me/posts')], [2, 3, 4]);
    assert.deepEqual([...index.candidates('/users/7')], [0, 4]);
    assert.deepEqual([...mergeSorted([1, 3, 5], [2, 3, 6])], [1, 2, 3, 5, 6]);
  });
});
