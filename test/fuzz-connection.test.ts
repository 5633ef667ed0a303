// The mutation fuzzer over a live connection (fuzz/connection-fuzz.ts), in a short run for CI:
// valid, mutated and garbage FastCGI streams on hundreds of concurrent connections to a real
// in-process server. The long run (>= 1,000,000 inputs) is its own command: docs/reliability.md.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatReport, runConnectionFuzz } from '../fuzz/connection-fuzz.js';

const seed = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const seconds = Number(process.env.FUZZ_SECONDS ?? 12);
/** heapUsed of the server's thread after GC, end vs after warm-up. */
const HEAP_GROWTH_MB = 8;

test(`live connection fuzz for ${seconds} s (FUZZ_SEED=${seed}): no crash, no hang, right answers, flat memory`, {
  timeout: (seconds + 60) * 1000,
}, async (t) => {
  const report = await runConnectionFuzz({ seed, inputs: 10_000_000, seconds, concurrency: 128 });
  t.diagnostic(formatReport(report));
  assert.deepEqual(report.failures, [], formatReport(report));
  assert.ok(report.inputs >= 500, `only ${report.inputs} inputs ran`);
  assert.ok(report.byKind.valid > 0 && report.byKind.mutated > 0, 'every kind of input ran');
  // Each protocol error closed one connection; none may be left, nor requests in flight.
  assert.ok(report.protocolErrors > 0, 'mutations reached the protocol error paths');
  assert.equal(report.leftConnections, 0);
  assert.equal(report.leftRequests, 0);
  const growth = report.heapEndMB - report.heapStartMB;
  assert.ok(growth < HEAP_GROWTH_MB, `heap grew ${growth.toFixed(1)} MB (bound ${HEAP_GROWTH_MB} MB)`);
});
