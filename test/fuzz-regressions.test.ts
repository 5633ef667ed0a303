// Inputs the connection fuzzer found breaking the server, kept as fixed regression tests.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createFcgiServer } from '@fcgi/core';
import { RecordType, decodeNameValues, encodeNameValues, encodeRecord } from '@fcgi/core/protocol';
import { listenForTest, parseCgi } from './helpers/raw-client.js';

// Found by fuzz/connection-fuzz.ts (seed 1, input 154): GET_VALUES asking for "__proto__" made the
// lookup return Object.prototype, encoding it threw a TypeError, and the connection was dropped
// with the requests on it. Now only own string values answer.
test('GET_VALUES asking for __proto__, constructor, toString: answered with the known names only, the connection serves on', {
  timeout: 5000,
}, async () => {
  let errors = 0;
  const server = createFcgiServer((_req, res) => res.end('served'), { onConnectionError: () => void errors++ });
  const l = await listenForTest(server, 'unix');
  try {
    const c = await l.connect();
    const names = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'FCGI_MPXS_CONNS'];
    c.write(encodeRecord(RecordType.GET_VALUES, 0, encodeNameValues(names.map((n) => [n, ''] as [string, string]))));
    await c.until(() => c.records.some((r) => r.type === RecordType.GET_VALUES_RESULT));
    const result = decodeNameValues(c.records.find((r) => r.type === RecordType.GET_VALUES_RESULT)!.content);
    assert.deepEqual(Object.keys(result), ['FCGI_MPXS_CONNS']);
    c.sendRequest(1, { REQUEST_URI: '/' }, Buffer.alloc(0), true);
    assert.equal(parseCgi((await c.reply(1)).stdout).body.toString(), 'served');
    assert.equal(c.closed, false);
    assert.equal(errors, 0);
  } finally {
    await l.stop();
  }
});
