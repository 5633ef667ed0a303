// The process counters a ServerLoad keeps while the connection layer calls started() and finished().
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { ServerLoad, onRequestActivity, processStats } from './stats.js';

it('requests, active and connections follow the loads of every server; listeners hear starts and ends', () => {
  const a = new ServerLoad(10);
  const b = new ServerLoad(20);
  const heard: boolean[] = [];
  const off = onRequestActivity((started) => heard.push(started));
  const before = processStats();
  a.started();
  b.started();
  a.connectionOpened();
  let now = processStats();
  assert.equal(now.requests - before.requests, 2);
  assert.equal(now.active - before.active, 2);
  assert.equal(now.connections - before.connections, 1);
  assert.equal(now.idleMs, 0, 'not idle with requests in flight');
  assert.equal(a.active, 1);
  assert.equal(a.max, 10);
  a.finished();
  b.finished();
  a.connectionClosed();
  now = processStats();
  assert.equal(now.active, before.active);
  assert.equal(now.connections, before.connections);
  assert.equal(now.connectionsTotal - before.connectionsTotal, 1);
  assert.equal(now.pid, process.pid);
  assert.deepEqual(heard, [true, true, false, false]);
  off();
  a.started();
  a.finished();
  assert.equal(heard.length, 4, 'unsubscribed');
});
