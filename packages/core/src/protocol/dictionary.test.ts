import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Dictionary, inheritsNothing } from './dictionary.js';

test('a Dictionary inherits nothing: Object.prototype names and __proto__ are plain keys', () => {
  const d = new Dictionary();
  assert.equal(d.toString, undefined);
  assert.equal('hasOwnProperty' in d, false);
  // biome-ignore lint/suspicious/noProto: a key named __proto__ is what this test stores
  d['__proto__'] = 'x';
  d['constructor'] = 'c';
  assert.deepEqual(Object.keys(d), ['__proto__', 'constructor']);
  assert.equal(Object.getOwnPropertyDescriptor(d, '__proto__')?.value, 'x');
  assert.equal(({} as Record<string, unknown>).x, undefined);
  assert.equal(JSON.stringify(d), '{"__proto__":"x","constructor":"c"}');
});

test('inheritsNothing: Dictionary and Object.create(null) yes; {} and class instances no', () => {
  assert.equal(inheritsNothing(new Dictionary()), true);
  assert.equal(inheritsNothing(Object.create(null) as object), true);
  assert.equal(inheritsNothing({}), false);
  assert.equal(inheritsNothing(new Map()), false);
  assert.equal(inheritsNothing(Object.create(Object.create(null) as object) as object), true);
  assert.equal(inheritsNothing(Object.create({ a: 1 }) as object), false);
});
