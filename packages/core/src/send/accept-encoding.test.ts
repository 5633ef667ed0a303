// Which precompressed variants (br, gzip) an Accept-Encoding header lets send serve.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { acceptedCodings } from './accept-encoding.js';

describe('Accept-Encoding for precompressed variants', () => {
  it('br before gzip on a tie, q decides otherwise, q=0 and identity preferences respected', () => {
    assert.deepEqual(acceptedCodings('gzip, deflate, br, zstd'), ['br', 'gzip']);
    assert.deepEqual(acceptedCodings('gzip'), ['gzip']);
    assert.deepEqual(acceptedCodings('x-gzip'), ['gzip']);
    assert.deepEqual(acceptedCodings('br;q=0.5, gzip;q=0.8'), ['gzip', 'br']);
    assert.deepEqual(acceptedCodings('br;q=0, gzip'), ['gzip']);
    assert.deepEqual(acceptedCodings('*'), ['br', 'gzip']);
    assert.deepEqual(acceptedCodings('*, br;q=0'), ['gzip']);
    assert.deepEqual(acceptedCodings('identity'), []);
    assert.deepEqual(acceptedCodings('identity;q=1, br;q=0.5'), []);
    assert.deepEqual(acceptedCodings(''), []);
    assert.deepEqual(acceptedCodings(undefined), []);
  });
});
