// STDIN before PARAMS end (legal, but no web server sends it) is bounded per connection
// (maxEarlyStdinBytes, 64 KiB) and over all connections (maxServerEarlyStdinBytes, 1 MiB), so
// requests cannot add up: the unbounded app held 200 MB for two connections of 100 requests each.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { createFcgiServer, type FcgiRequest, type FcgiResponse } from '@fcgi/core';
import { RecordType, encodeBeginRequest, encodeNameValues, encodeRecord } from '@fcgi/core/protocol';
import { startApp } from './helpers/app-process.js';
import { MiB, rssOf, statsOf } from './helpers/peer-stats.js';
import { fcgiGet, getParams, listenForTest, parseCgi } from './helpers/raw-client.js';

const KiB = 1024;
const RSS_GROWTH_MAX = 40 * MiB;

/**
 * Opens 100 requests on one connection, each with PARAMS begun and 1 MiB of STDIN, written as the
 * socket takes it; resolves when the app closed the connection (or after `ms`) with the bytes written.
 */
async function earlyFlood(path: string, ms: number): Promise<{ written: number; closed: boolean }> {
  const s: Socket = connect(path);
  s.on('error', () => {});
  await new Promise((r) => s.once('connect', r));
  let closed = false;
  s.once('close', () => (closed = true));
  s.resume();
  const piece = (id: number) => encodeRecord(RecordType.STDIN, id, Buffer.alloc(64 * KiB - 8, 's'));
  let written = 0;
  const deadline = Date.now() + ms;
  for (let id = 1; id <= 100 && !closed && Date.now() < deadline; id++) {
    s.write(encodeBeginRequest(id, 1, true));
    s.write(encodeRecord(RecordType.PARAMS, id, encodeNameValues(getParams('/echo'))));
    for (let i = 0; i < 16 && !closed; i++) {
      written += 64 * KiB;
      if (!s.write(piece(id))) await Promise.race([new Promise((r) => s.once('drain', r)), sleep(200)]);
    }
  }
  const end = Date.now() + 3000;
  while (!closed && Date.now() < end) await sleep(20);
  s.destroy();
  return { written, closed };
}

test('two connections opening 100 requests with 1 MiB of early STDIN each: both closed, app rss bounded, others served', {
  timeout: 60_000,
}, async (t) => {
  const app = await startApp('test/fixtures/hostile-peer-app.ts');
  try {
    const pid = app.child.pid!;
    for (let i = 0; i < 20; i++) assert.equal((await fcgiGet(app.socket, '/')).body.toString(), 'ok');
    const base = rssOf(pid);
    let peak = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        peak = Math.max(peak, rssOf(pid) - base);
        await sleep(50);
      }
    })();
    const floods = await Promise.all([earlyFlood(app.socket, 10_000), earlyFlood(app.socket, 10_000)]);
    // Served while and after the floods ran.
    assert.equal((await fcgiGet(app.socket, '/')).body.toString(), 'ok');
    sampling = false;
    await sampler;
    t.diagnostic(
      `written ${floods.map((f) => (f.written / KiB).toFixed(0)).join(' and ')} KiB; app rss growth peak ${(peak / MiB).toFixed(1)} MiB`,
    );
    assert.deepEqual(
      floods.map((f) => f.closed),
      [true, true],
      'the app closed both connections',
    );
    assert.ok(peak < RSS_GROWTH_MAX, `the app grew by ${(peak / MiB).toFixed(1)} MiB`);
    assert.match(app.stderr(), /bytes of STDIN before PARAMS ended on one connection/);
    const stats = await statsOf(app.socket);
    assert.equal(stats.connections, 1);
    assert.equal(stats.active, 1);
  } finally {
    await app.stop();
  }
});

test('40 connections with 60 KiB of early STDIN each: within maxServerEarlyStdinBytes (1 MiB) they are served whole, past it closed', {
  timeout: 30_000,
}, async () => {
  const errors: string[] = [];
  const server = createFcgiServer(
    async (req: FcgiRequest, res: FcgiResponse) => {
      let n = 0;
      for await (const chunk of req as AsyncIterable<Buffer>) n += chunk.length;
      res.end(String(n));
    },
    { onConnectionError: (err) => errors.push(err.message) },
  );
  const l = await listenForTest(server, 'unix');
  try {
    const clients = await Promise.all(Array.from({ length: 40 }, () => l.connect()));
    for (const c of clients) {
      c.write(encodeBeginRequest(1, 1, false));
      c.write(encodeRecord(RecordType.PARAMS, 1, encodeNameValues(getParams('/echo'))));
      c.write(encodeRecord(RecordType.STDIN, 1, Buffer.alloc(60 * KiB, 'e')));
    }
    // Let every early byte arrive before any params end.
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline && clients.filter((c) => c.closed).length < 23) await sleep(20);
    await sleep(100);
    const open = clients.filter((c) => !c.closed);
    assert.equal(open.length, Math.floor(MiB / (60 * KiB)), `${open.length} connections kept their early STDIN`);
    assert.ok(
      errors.some((m) => m.includes('over all connections')),
      JSON.stringify(errors.slice(0, 3)),
    );
    for (const c of open) {
      c.write(encodeRecord(RecordType.PARAMS, 1));
      c.write(encodeRecord(RecordType.STDIN, 1));
    }
    const replies = await Promise.all(open.map((c) => c.reply(1, 5000)));
    for (const r of replies) assert.equal(parseCgi(r.stdout).body.toString(), String(60 * KiB));
    // Handed over, the early bytes no longer count: a new connection may hold as much again.
    const again = await Promise.all(Array.from({ length: 17 }, () => l.connect()));
    for (const c of again) {
      c.write(encodeBeginRequest(1, 1, false));
      c.write(encodeRecord(RecordType.PARAMS, 1, encodeNameValues(getParams('/echo'))));
      c.write(encodeRecord(RecordType.STDIN, 1, Buffer.alloc(60 * KiB, 'a')));
      c.write(encodeRecord(RecordType.PARAMS, 1));
      c.write(encodeRecord(RecordType.STDIN, 1));
    }
    for (const r of await Promise.all(again.map((c) => c.reply(1, 5000))))
      assert.equal(parseCgi(r.stdout).body.toString(), String(60 * KiB));
  } finally {
    await l.stop();
  }
});
