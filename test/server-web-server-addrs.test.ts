// FCGI_WEB_SERVER_ADDRS / webServerAddrs: over TCP only listed peers are served; others are cut off
// before any record is read or written. Unix sockets have no peer address and are not filtered.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFcgiServer, type FcgiServer, type ServerOptions } from '@fcgi/core';
import { RawClient, getParams, fcgiGet } from './helpers/raw-client.js';

delete process.env.FCGI_LISTEN;
const savedAddrs = process.env.FCGI_WEB_SERVER_ADDRS;
delete process.env.FCGI_WEB_SERVER_ADDRS;
const dir = await mkdtemp(join(tmpdir(), 'fcgi-addrs-'));
const servers: FcgiServer[] = [];
after(async () => {
  await Promise.all(servers.map((s) => s.close()));
  await rm(dir, { recursive: true, force: true });
  if (savedAddrs === undefined) delete process.env.FCGI_WEB_SERVER_ADDRS;
  else process.env.FCGI_WEB_SERVER_ADDRS = savedAddrs;
});

/** A server counting the requests its handler saw, on 127.0.0.1 (TCP) or a unix socket. */
async function start(options: ServerOptions, unix = false) {
  const counter = { handled: 0 };
  const s = createFcgiServer((_req, res) => {
    counter.handled++;
    res.end('allowed\n');
  }, options);
  servers.push(s);
  const where = await s.listen(unix ? join(dir, `s${servers.length}.sock`) : { port: 0, host: '127.0.0.1' });
  const target =
    where.kind === 'tcp' ? { host: where.host, port: where.port } : where.kind === 'unix' ? where.path : '';
  return { s, counter, target };
}

async function assertServed(target: string | { host: string; port: number }): Promise<void> {
  const r = await fcgiGet(target);
  assert.equal(r.status, 200);
  assert.equal(r.body.toString(), 'allowed\n');
}

/** Sends a whole request and expects the connection closed with nothing at all sent back. */
async function assertRefused(target: { host: string; port: number }, counter: { handled: number }): Promise<void> {
  // The kernel completes the TCP handshake; the application then drops the connection.
  const client = await RawClient.connect(target);
  try {
    client.sendRequest(1, getParams());
    await client.closedByPeer(3000);
    assert.deepEqual(client.records, [], 'not one record before the close');
    assert.equal(counter.handled, 0, 'the handler never ran');
  } finally {
    client.close();
  }
}

test('webServerAddrs "127.0.0.1": requests from loopback are served', { timeout: 10000 }, async () => {
  const { target, counter } = await start({ webServerAddrs: '127.0.0.1' });
  await assertServed(target as { host: string; port: number });
  assert.equal(counter.handled, 1);
});

test('webServerAddrs "10.1.2.3": a loopback peer is closed before any reply', { timeout: 10000 }, async () => {
  const { s, target, counter } = await start({ webServerAddrs: '10.1.2.3' });
  await assertRefused(target as { host: string; port: number }, counter);
  assert.equal(s.connections, 0);
});

test('webServerAddrs as a list, and as a comma-separated string with spaces', { timeout: 10000 }, async () => {
  const a = await start({ webServerAddrs: ['10.1.2.3', '127.0.0.1'] });
  await assertServed(a.target);
  const b = await start({ webServerAddrs: ' 10.1.2.3 , 127.0.0.1 ' });
  await assertServed(b.target);
});

test('FCGI_WEB_SERVER_ADDRS from the environment: allowed, refused, and overridden by the option', {
  timeout: 10000,
}, async () => {
  try {
    process.env.FCGI_WEB_SERVER_ADDRS = '10.1.2.3,127.0.0.1';
    await assertServed((await start({})).target);

    process.env.FCGI_WEB_SERVER_ADDRS = '10.1.2.3';
    const refused = await start({});
    await assertRefused(refused.target as { host: string; port: number }, refused.counter);

    // The option wins over the environment.
    await assertServed((await start({ webServerAddrs: '127.0.0.1' })).target);
  } finally {
    delete process.env.FCGI_WEB_SERVER_ADDRS;
  }
});

test('webServerAddrs is ignored for unix sockets', { timeout: 10000 }, async () => {
  const { target, counter } = await start({ webServerAddrs: '10.1.2.3' }, true);
  await assertServed(target);
  assert.equal(counter.handled, 1);
});
