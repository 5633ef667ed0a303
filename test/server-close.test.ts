// close(): stops accepting at once, closes idle connections, lets requests in flight finish with
// their whole reply, and resolves only after that. connections / activeRequests track it all.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:net';
import { createFcgiServer } from '@fcgi/core';
import { RawClient, getParams, parseCgi } from './helpers/raw-client.js';

delete process.env.FCGI_LISTEN;
delete process.env.FCGI_WEB_SERVER_ADDRS;
const dir = await mkdtemp(join(tmpdir(), 'fcgi-close-'));
const cleanups: (() => unknown)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
  await rm(dir, { recursive: true, force: true });
});

const SLOW_BODY = 'slow '.repeat(20000); // 100 kB: several STDOUT records, all must arrive

/** '/slow' answers after 300 ms; anything else at once. `started` resolves when /slow begins. */
function slowServer() {
  let markStarted!: () => void;
  const started = new Promise<void>((resolve) => (markStarted = resolve));
  const s = createFcgiServer((req, res) => {
    if (req.url !== '/slow') return void res.end('quick\n');
    markStarted();
    setTimeout(() => res.end(SLOW_BODY), 300);
  });
  cleanups.push(() => s.close());
  return { s, started };
}

function connectFails(target: string | { host: string; port: number }): Promise<NodeJS.ErrnoException | null> {
  return new Promise((resolve) => {
    const sock = typeof target === 'string' ? connect(target) : connect(target.port, target.host);
    sock.once('connect', () => {
      sock.destroy();
      resolve(null);
    });
    sock.once('error', (err: NodeJS.ErrnoException) => resolve(err));
  });
}

async function waitUntil(cond: () => boolean, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

for (const kind of ['unix', 'tcp'] as const) {
  test(`close() over ${kind}: idle connection closed, in-flight request completes, then close() resolves`, {
    timeout: 15000,
  }, async () => {
    const { s, started } = slowServer();
    const where = await s.listen(kind === 'unix' ? join(dir, 'close.sock') : { port: 0, host: '127.0.0.1' });
    const target =
      where.kind === 'unix' ? where.path : where.kind === 'tcp' ? { host: where.host, port: where.port } : '';
    assert.equal(s.connections, 0);
    assert.equal(s.activeRequests, 0);

    // An idle keep-conn connection: one request done, left open.
    const idle = await RawClient.connect(target);
    cleanups.push(() => idle.close());
    idle.sendRequest(1, getParams('/quick'), undefined, true);
    assert.equal(parseCgi((await idle.reply(1)).stdout).body.toString(), 'quick\n');

    // A request in flight.
    const busy = await RawClient.connect(target);
    cleanups.push(() => busy.close());
    busy.sendRequest(1, getParams('/slow'), undefined, true);
    await started;
    assert.equal(s.connections, 2);
    assert.equal(s.activeRequests, 1);

    let closedAt = 0;
    const closing = s.close().then(() => (closedAt = Date.now()));
    assert.equal(s.close(), s.close(), 'close() is idempotent');

    // No new connections from now on.
    const refused = await connectFails(target);
    assert.ok(refused, 'connect must fail once close() was called');
    assert.ok(['ENOENT', 'ECONNREFUSED'].includes(refused.code!), `got ${refused.code}`);
    if (kind === 'unix') assert.equal(existsSync(target as string), false, 'the socket file is removed');

    // The idle connection closes at once, without any record, long before the slow reply.
    await idle.closedByPeer(200);
    assert.equal(idle.records.filter((r) => r.requestId !== 1).length, 0);
    assert.equal(closedAt, 0, 'close() waits for the request in flight');
    await waitUntil(() => s.connections === 1);
    assert.equal(s.activeRequests, 1);

    // The request in flight gets its whole reply, then its connection closes despite keep-conn.
    const reply = await busy.reply(1, 3000);
    assert.equal(closedAt, 0, 'close() still pending when the reply arrives');
    assert.equal(reply.protocolStatus, 0);
    assert.equal(parseCgi(reply.stdout).body.toString(), SLOW_BODY);
    await busy.closedByPeer(2000);
    await closing;
    assert.ok(closedAt > 0);
    assert.equal(s.connections, 0);
    assert.equal(s.activeRequests, 0);
    assert.equal(s.net.listening, false);
  });
}

test('close() of an idle server resolves at once; close() of a server never started too', {
  timeout: 5000,
}, async () => {
  const { s } = slowServer();
  await s.listen(join(dir, 'idle.sock'));
  const t0 = Date.now();
  await s.close();
  assert.ok(Date.now() - t0 < 500);
  await slowServer().s.close();
});

test('close() with a connection that has carried no request yet: its first request, sent after, is served', {
  timeout: 10000,
}, async () => {
  // mod_fcgid connects, then writes the request: a close() in between (restart.txt, SIGTERM) must
  // not end that connection unread, or Apache answers 500 ("FastCGI server closed connection").
  const { s } = slowServer();
  const target = join(dir, 'fresh.sock');
  await s.listen(target);
  const fresh = await RawClient.connect(target);
  cleanups.push(() => fresh.close());
  await waitUntil(() => s.connections === 1);
  let closed = false;
  const closing = s.close().then(() => (closed = true));
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(closed, false, 'close() waits for the fresh connection');
  fresh.sendRequest(1, getParams('/quick'));
  const reply = await fresh.reply(1, 3000);
  assert.equal(reply.protocolStatus, 0);
  assert.equal(parseCgi(reply.stdout).body.toString(), 'quick\n');
  await fresh.closedByPeer(2000);
  await closing;
  assert.equal(s.connections, 0);
});

test('close() with a connection that never says anything: closed after the grace, not held open', {
  timeout: 10000,
}, async () => {
  const FIRST_REQUEST_GRACE_MS = 1000; // packages/core/src/connection/connection.ts
  const { s } = slowServer();
  const target = join(dir, 'silent.sock');
  await s.listen(target);
  const silent = await RawClient.connect(target);
  cleanups.push(() => silent.close());
  await waitUntil(() => s.connections === 1);
  const t0 = Date.now();
  await s.close();
  const took = Date.now() - t0;
  assert.ok(took >= FIRST_REQUEST_GRACE_MS - 50 && took < FIRST_REQUEST_GRACE_MS + 1500, `took ${took} ms`);
  await silent.closedByPeer(1000);
});
