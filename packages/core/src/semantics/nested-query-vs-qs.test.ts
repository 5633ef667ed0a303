// Our nested query parser held to qs as body-parser calls it (the 'extended' urlencoded parser):
// generated bodies with colliding names, arrays, indices, odd brackets, hostile keys and bad
// escapes go to both; the answers must match except for the differences listed here.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import qs from 'qs';
import { parseNested, splitKey } from './nested-query.js';

const decode = (s: string): string => {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
};

/** qs with body-parser 2's options; RangeError (too deep) as is. */
function viaQs(body: string, depth: number): unknown {
  const count = body.split('&').length;
  return qs.parse(body, {
    allowPrototypes: true,
    arrayLimit: Math.max(100, count),
    depth,
    strictDepth: true,
    parameterLimit: 1000,
  });
}

function ours(body: string, depth: number): unknown {
  const count = body.split('&').length;
  return parseNested(body, { depth, arrayLimit: Math.max(100, count), decode });
}

/** The answer's shape: ours are null-prototype objects (deliberate), qs's plain ones. */
function shape(f: () => unknown): unknown {
  try {
    return JSON.parse(JSON.stringify(f()));
  } catch (err) {
    return err instanceof RangeError ? 'RangeError' : `threw ${String(err)}`;
  }
}

/**
 * The keys of `body` (decoded as both parsers decode them) as bracket paths, or null when one
 * of the listed differences applies:
 * 1. a key that is not name[seg][seg]... (`[a]`, `a[b`, `a[b]c`): qs and we split it differently;
 * 2. `[]` before another segment (`a[][b]`): qs merges into one element, we add one per parameter;
 * 3. a path that holds both values and nested keys (`a=1&a[b]=2`, `a[b]=1&a=x&a=y`): qs and we
 *    combine them differently (qs: `['1', {b: '2'}]` and `{b: '1', 0: 'x', 1: 'y'}`; we:
 *    `{0: '1', b: '2'}` and `[{b: '1'}, 'x', 'y']`), and qs drops an empty value there;
 * 4. `[]` and a named or numbered segment at the same place (`a[]=1&a[0]=2`, `a[b]=1&a[]=2`):
 *    qs merges the `[]` values in as a separate array (`{b: '1', 0: '2'}`), we append them
 *    (`{b: '1', 1: '2'}`);
 * 5. `__proto__` anywhere: we drop the parameter, qs keeps its parents as empty objects;
 * 6. a top-level name that is an array index (`1[]=a&1=b`): qs collects the raw keys in an
 *    object first, whose integer keys enumerate before the others, so its values come out of
 *    order; we keep the body's order.
 */
function comparablePaths(body: string, depth: number): string[][] | null {
  const paths: string[][] = [];
  for (const piece of body.split('&')) {
    if (!piece) continue;
    const eq = piece.indexOf('=');
    const key = decode((eq < 0 ? piece : piece.slice(0, eq)).replace(/\+/g, ' '));
    if (!key) continue;
    if (key.includes('[') || key.includes(']')) {
      if (!/^[^[\]]+(\[[^[\]]*\])+$/.test(key)) return null; // 1
    }
    let segs: string[];
    try {
      segs = splitKey(key, depth);
    } catch {
      return paths; // too deep: both throw RangeError
    }
    if (segs.includes('__proto__')) return null; // 5
    if (/^(0|[1-9]\d{0,8})$/.test(segs[0]!)) return null; // 6
    if (segs.slice(0, -1).includes('')) return null; // 2
    paths.push(segs);
  }
  const prefix = (p: string[], q: string[]) => p.length < q.length && p.every((s, i) => s === q[i]);
  for (let i = 0; i < paths.length; i++) {
    for (let j = i + 1; j < paths.length; j++) {
      if (prefix(paths[i]!, paths[j]!) || prefix(paths[j]!, paths[i]!)) return null; // 3
      const a = paths[i]!;
      const b = paths[j]!;
      const n = Math.min(a.length, b.length);
      for (let k = 1; k < n; k++) {
        if (a.slice(0, k).join('\0') !== b.slice(0, k).join('\0')) break;
        if ((a[k] === '') !== (b[k] === '')) return null; // 4
      }
    }
  }
  return paths;
}

describe('nested query strings against qs (differential)', () => {
  const name = fc.constantFrom(
    'a',
    'b',
    'user',
    'x y',
    'toString',
    'constructor',
    'hasOwnProperty',
    '__proto__',
    'prototype',
    'é',
    '0',
    '1',
  );
  const seg = fc.constantFrom(
    '',
    '',
    '0',
    '1',
    '2',
    '3',
    '10',
    '101',
    '01',
    'b',
    'c',
    'name',
    ' ',
    '__proto__',
    'constructor',
    'length',
  );
  const encodedSeg = seg.map((s) => (Math.random() < 0.1 ? `%5B${encodeURIComponent(s)}%5D` : `[${s}]`));
  const key = fc.oneof(
    {
      weight: 6,
      arbitrary: fc
        .tuple(name, fc.array(encodedSeg, { maxLength: 5 }))
        .map(([n, s]) => encodeURIComponent(n).replace(/%20/g, '+') + s.join('')),
    },
    { weight: 1, arbitrary: fc.constantFrom('[a]', 'a[b', 'a[b]c', 'a]', 'a[[b]]', '', 'a[b][', '%E0%A4%A', 'a%5Bb') },
    { weight: 1, arbitrary: fc.string({ maxLength: 6 }).map((s) => s.replace(/[&=]/g, '')) },
  );
  const value = fc.oneof(
    fc.constantFrom('', '1', 'x+y', '%20', '%C3%A9', '%E0%A4%A', '%', 'a%2Bb', '%26'),
    fc.string({ maxLength: 4 }).map((s) => s.replace(/[&]/g, '')),
  );
  const param = fc.oneof(
    { weight: 8, arbitrary: fc.tuple(key, value).map(([k, v]) => `${k}=${v}`) },
    { weight: 1, arbitrary: key },
  );
  const body = fc.array(param, { maxLength: 8 }).map((ps) => ps.join('&'));
  const depth = fc.integer({ min: 1, max: 6 });

  it("gives qs's answer (shape), apart from the listed differences", () => {
    let compared = 0;
    fc.assert(
      fc.property(body, depth, (b, d) => {
        if (comparablePaths(b, d) === null) return;
        compared++;
        assert.deepEqual(
          shape(() => ours(b, d)),
          shape(() => viaQs(b, d)),
          `${JSON.stringify(b)} depth ${d}`,
        );
      }),
      { numRuns: 4000 },
    );
    assert.ok(compared > 1500, `compared ${compared} of 4000`);
  });

  it('each listed difference, as qs answers it', () => {
    const both = (b: string) => [shape(() => ours(b, 32)), shape(() => viaQs(b, 32))];
    assert.deepEqual(both('[a]=1'), [{ '[a]': '1' }, { a: '1' }]); // 1
    assert.deepEqual(both('a[b]c=1'), [{ a: { b: { c: '1' } } }, { a: { b: '1' } }]); // 1
    assert.deepEqual(both('a[][b]=1&a[][c]=2'), [{ a: [{ b: '1' }, { c: '2' }] }, { a: [{ b: '1', c: '2' }] }]); // 2
    assert.deepEqual(both('a=1&a[b]=2'), [{ a: { 0: '1', b: '2' } }, { a: ['1', { b: '2' }] }]); // 3
    assert.deepEqual(both('a[]=1&a[0]=2'), [{ a: [['1', '2']] }, { a: ['1', '2'] }]); // 4
    assert.deepEqual(both('a[b]=1&a[]=2'), [{ a: { b: '1', 1: '2' } }, { a: { b: '1', 0: '2' } }]); // 4
    assert.deepEqual(both('a[__proto__][x]=1&b=2'), [{ b: '2' }, { a: {}, b: '2' }]); // 5
    assert.deepEqual(both('1[]=a&1=b'), [{ 1: ['a', 'b'] }, { 1: ['b', 'a'] }]); // 6
    assert.deepEqual(both('a[b]=1&a=x&a=y'), [{ a: [{ b: '1' }, 'x', 'y'] }, { a: { b: '1', 0: 'x', 1: 'y' } }]); // 3
    assert.deepEqual(both('a[]=&a='), [{ a: ['', ''] }, { a: [''] }]); // 3
    // The shape difference: our objects have no prototype.
    assert.equal(Object.getPrototypeOf(parseNested('a[b]=1', { depth: 5, arrayLimit: 100, decode })), null);
  });
});
