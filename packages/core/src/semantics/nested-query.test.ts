// The extended urlencoded syntax, and that hostile keys never reach a prototype.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseNested, splitKey } from './nested-query.js';

const opts = {
  depth: 32,
  arrayLimit: 100,
  decode: (s: string) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  },
};
/** Plain-object copy, so deepEqual compares shapes (the parser makes null-prototype objects). */
const plain = (v: unknown) => JSON.parse(JSON.stringify(v));
const p = (s: string, o = opts) => plain(parseNested(s, o));

test('splitKey reads bracket segments and keeps odd keys whole', () => {
  assert.deepEqual(splitKey('a', 5), ['a']);
  assert.deepEqual(splitKey('a[b][c]', 5), ['a', 'b', 'c']);
  assert.deepEqual(splitKey('a[]', 5), ['a', '']);
  assert.deepEqual(splitKey('[a]', 5), ['[a]']);
  assert.deepEqual(splitKey('a[b', 5), ['a[b']);
  assert.deepEqual(splitKey('a[b]c', 5), ['a', 'b', 'c']);
  assert.throws(() => splitKey('a[1][2][3]', 2), RangeError);
  assert.deepEqual(splitKey('a[1][2]', 2), ['a', '1', '2']);
  assert.throws(() => splitKey('a[b]', 0), RangeError);
});

test('nested objects, arrays, indices, repeats, decoding', () => {
  assert.deepEqual(p('a[b][c]=1&a[b][d]=2&e=3'), { a: { b: { c: '1', d: '2' } }, e: '3' });
  assert.deepEqual(p('a[]=1&a[]=2&a[]=3'), { a: ['1', '2', '3'] });
  assert.deepEqual(p('a=1&a=2'), { a: ['1', '2'] });
  assert.deepEqual(p('a[1]=b&a[3]=c'), { a: ['b', 'c'] });
  assert.deepEqual(p('a[0][x]=1&a[0][y]=2&a[1][x]=3'), { a: [{ x: '1', y: '2' }, { x: '3' }] });
  assert.deepEqual(p('a[0]=x&a[k]=y'), { a: { 0: 'x', k: 'y' } });
  assert.deepEqual(p('a[101]=x', opts), { a: { 101: 'x' } });
  assert.deepEqual(p('n+a%20me=v+al%C3%BCe&empty=&flag'), { 'n a me': 'v alüe', empty: '', flag: '' });
  assert.deepEqual(p('a%5Bb%5D=1'), { a: { b: '1' } });
  assert.deepEqual(p('bad=%E0%A4%A'), { bad: '%E0%A4%A' });
  assert.deepEqual(p('&&a=1&&'), { a: '1' });
  assert.deepEqual(p('a=1&a[b]=2&a[c]=3'), { a: { 0: '1', b: '2', c: '3' } });
});

test('__proto__, constructor and prototype keys never touch a prototype', () => {
  const r = parseNested(
    '__proto__[x]=1&a[__proto__][y]=2&constructor[prototype][z]=3&prototype=4&b[constructor]=5',
    opts,
  );
  assert.equal(Object.getPrototypeOf(r), null);
  assert.equal(({} as Record<string, unknown>).x, undefined);
  assert.equal(({} as Record<string, unknown>).y, undefined);
  assert.equal(({} as Record<string, unknown>).z, undefined);
  assert.equal(Object.hasOwn(r, '__proto__'), false, '__proto__ parameters are dropped');
  assert.equal(r.a, undefined);
  assert.deepEqual(plain(r), { constructor: { prototype: { z: '3' } }, prototype: '4', b: { constructor: '5' } });
  assert.equal(Object.getPrototypeOf(r.constructor), null);
  // A copy made the careless way stays harmless too.
  const copy = Object.assign({}, r);
  assert.equal(Object.getPrototypeOf(copy), Object.prototype);
});
