// The status page's text form and the report of a process outside any cluster.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { formatStatus, statusReport } from './status.js';

it('outside a cluster the report is this process alone, totals equal to its own numbers', async () => {
  const r = await statusReport();
  assert.equal(r.mode, 'single');
  assert.equal(r.pid, process.pid);
  assert.equal(r.workers.length, 1);
  assert.equal(r.workers[0]!.pid, process.pid);
  assert.equal(r.requests, r.workers[0]!.requests);
  assert.equal(r.restarts, 0);
  assert.match(r.startTime, /^\d{4}-\d\d-\d\dT/);
});

it('formatStatus: PHP-FPM-like "name: value" lines, the pool first, then each worker', () => {
  const text = formatStatus({
    pid: 1,
    mode: 'cluster',
    startTime: '2024-01-01T00:00:00.000Z',
    uptime: 5,
    requests: 7,
    active: 1,
    connections: 2,
    connectionsTotal: 9,
    restarts: 1,
    workers: [
      {
        pid: 11,
        startedAt: 0,
        startTime: 'x',
        uptime: 4,
        requests: 3,
        active: 0,
        connections: 0,
        connectionsTotal: 4,
        idleMs: 20,
      },
      {
        pid: 12,
        startedAt: 0,
        startTime: 'y',
        uptime: 4,
        requests: 4,
        active: 1,
        connections: 2,
        connectionsTotal: 5,
        idleMs: 0,
      },
    ],
  });
  assert.match(text, /^mode: +cluster\n/);
  assert.match(text, /\naccepted requests: +7\n/);
  assert.match(text, /\nworkers: +2\n/);
  assert.match(text, /\nrestarts: +1\n/);
  assert.equal(text.split('\npid:').length, 3, 'one block per worker');
});
