// res.json()/res.jsonp() bodies held to Express 5's own res.jsonp(): the same value, callback
// query value and settings given to both, the same body, Content-Type and nosniff. Express's
// method runs on a recording `this` (its app.get, req.query, get/set and send are all it uses).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import fc from 'fast-check';
import { jsonpCallback, jsonpScript, stringifyJson } from './json-body.js';

const require = createRequire(import.meta.url);
const expressResponse = require(require.resolve('express/lib/response.js')) as {
  jsonp(this: unknown, obj: unknown): unknown;
};

interface Settings {
  replacer: ((k: string, v: unknown) => unknown) | undefined;
  spaces: number | string | undefined;
  escape: boolean;
}

/** What Express's res.jsonp() sends: the body given to res.send() and the headers it set. */
function express(obj: unknown, callback: unknown, s: Settings): { body: unknown; headers: Record<string, string> } {
  const headers: Record<string, string> = {};
  let body: unknown;
  const settings: Record<string, unknown> = {
    'json replacer': s.replacer,
    'json spaces': s.spaces,
    'json escape': s.escape,
    'jsonp callback name': 'callback',
  };
  const res = {
    app: { get: (name: string) => settings[name] },
    req: { query: callback === undefined ? {} : { callback } },
    get: (name: string) => headers[name],
    set(name: string, value: string) {
      headers[name] = value;
      return this;
    },
    send(b: unknown) {
      body = b;
      return this;
    },
  };
  expressResponse.jsonp.call(res, obj);
  return { body, headers };
}

/** Ours, as AppResponse.jsonp() puts json-body.ts together (before send()). */
function ours(obj: unknown, callback: unknown, s: Settings): { body: unknown; headers: Record<string, string> } {
  let body = stringifyJson(obj, s.replacer, s.spaces, s.escape);
  const name = jsonpCallback(callback);
  const headers: Record<string, string> = {
    'X-Content-Type-Options': 'nosniff',
    'Content-Type': name === null ? 'application/json' : 'text/javascript',
  };
  if (name !== null) body = jsonpScript(name, body);
  return { body, headers };
}

const callbackText = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.string({ unit: fc.constantFrom(...'ab$_.[]()<>;/\\*\'" =+-\u2028\u00e9\u2603'.split('')), maxLength: 20 }),
);
const callbackValue = fc.oneof(
  fc.constant(undefined),
  callbackText,
  fc.array(callbackText, { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 3 }), fc.string({ maxLength: 3 }), { maxKeys: 2 }),
);
const text = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 12 }),
  fc.string({ unit: fc.constantFrom(...'<>&\u2028\u2029"\\x\n'.split('')), maxLength: 12 }),
);
const value = fc.oneof(
  fc.constant(undefined),
  fc.constant(null),
  text,
  fc.double(),
  fc.boolean(),
  fc.array(text, { maxLength: 4 }),
  fc.dictionary(text, fc.oneof(text, fc.integer(), fc.constant(undefined)), { maxKeys: 4 }),
);
const settings = fc.record({
  replacer: fc.constantFrom<Settings['replacer']>(undefined, (k, v) => (k === 'x' ? undefined : v)),
  spaces: fc.constantFrom<Settings['spaces']>(undefined, 0, 2, '\t'),
  escape: fc.boolean(),
});

describe('JSON and JSONP bodies against Express 5 (differential)', () => {
  it("any value, callback and settings: Express's body, type and nosniff", () => {
    fc.assert(
      fc.property(value, callbackValue, settings, (obj, callback, s) => {
        assert.deepEqual(ours(obj, callback, s), express(obj, callback, s));
      }),
      { numRuns: 5000 },
    );
  });

  it('a callback cannot carry anything but a name: the wrapper is always one call', () => {
    fc.assert(
      fc.property(callbackText, (cb) => {
        const name = jsonpCallback(cb);
        if (name === null) return;
        assert.match(jsonpScript(name, '1'), /^\/\*\*\/ typeof [[\]\w$.]* === 'function' && [[\]\w$.]*\(1\);$/);
      }),
    );
  });
});
