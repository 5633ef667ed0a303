// maxConnections: connections over the limit are closed unserved while every connection is busy or
// was busy less than a second ago (taking the slot of one quiet for longer is in
// fault-stalled-input.test.ts); those within it keep working, and a slot freed by a closed
// connection can be taken again. FCGI_MAX_CONNS advertises the limit.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFcgiServer, type FcgiServer } from '@fcgi/core';
import { RecordType, decodeNameValues, encodeNameValues, encodeStream } from '@fcgi/core/protocol';
import { RawClient, getParams, parseCgi } from './helpers/raw-client.js';

delete process.env.FCGI_LISTEN;
delete process.env.FCGI_WEB_SERVER_ADDRS;
const dir = await mkdtemp(join(tmpdir(), 'fcgi-maxconn-'));
const cleanups: (() => unknown)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
  await rm(dir, { recursive: true, force: true });
});

async function client(target: string | { host: string; port: number }): Promise<RawClient> {
  const c = await RawClient.connect(target);
  cleanups.push(() => c.close());
  return c;
}

/** One keep-conn request on `c` (ids must differ per connection); returns the body. */
async function get(c: RawClient, id: number, uri: string): Promise<string> {
  c.sendRequest(id, getParams(uri), undefined, true);
  return parseCgi((await c.reply(id)).stdout).body.toString();
}

async function waitUntil(cond: () => boolean, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

for (const kind of ['unix', 'tcp'] as const) {
  test(`maxConnections=2 over ${kind}: the third concurrent connection is closed, the first two work`, {
    timeout: 10000,
  }, async () => {
    let handled = 0;
    const s: FcgiServer = createFcgiServer(
      (req, res) => {
        handled++;
        res.end(`got ${req.url}\n`);
      },
      { maxConnections: 2 },
    );
    cleanups.push(() => s.close());
    const where = await s.listen(kind === 'unix' ? join(dir, 'max.sock') : { port: 0, host: '127.0.0.1' });
    const target =
      where.kind === 'unix' ? where.path : where.kind === 'tcp' ? { host: where.host, port: where.port } : '';

    const a = await client(target);
    const b = await client(target);
    assert.equal(await get(a, 1, '/a1'), 'got /a1\n');
    assert.equal(await get(b, 1, '/b1'), 'got /b1\n');
    assert.equal(s.connections, 2);

    // The kernel completes the connect; the server then drops it without reading it.
    const c = await client(target);
    c.sendRequest(1, getParams('/c'), undefined, true);
    await c.closedByPeer(3000);
    assert.deepEqual(c.records, [], 'the third connection got no reply');
    assert.equal(handled, 2);
    assert.equal(s.connections, 2);

    // The first two still work, and GET_VALUES tells the web server the limit.
    assert.equal(await get(a, 2, '/a2'), 'got /a2\n');
    assert.equal(await get(b, 2, '/b2'), 'got /b2\n');
    a.write(encodeStream(RecordType.GET_VALUES, 0, encodeNameValues({ FCGI_MAX_CONNS: '' }), false));
    await a.until(() => a.records.some((r) => r.type === RecordType.GET_VALUES_RESULT));
    const result = a.records.find((r) => r.type === RecordType.GET_VALUES_RESULT)!;
    assert.equal(decodeNameValues(result.content).FCGI_MAX_CONNS, '2');

    // A closed connection frees its slot.
    a.close();
    await waitUntil(() => s.connections === 1);
    const d = await client(target);
    assert.equal(await get(d, 1, '/d'), 'got /d\n');
    assert.equal(s.connections, 2);
  });
}
