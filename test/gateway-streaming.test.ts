// Bodies stream through the gateway both ways with backpressure and bounded memory. `fcgi gateway`
// runs as its own process (the built CLI) in front of an app in this process that counts what it
// has read and written; each direction stalls for 1.5 s while 20 MB wait to pass, and a probe then
// reads how far the bytes got and the gateway's RSS from /proc. The bytes in flight bound what the
// gateway can hold; the RSS check runs first on the download, before freed memory of an earlier
// 20 MB transfer could hide growth.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { createFcgiServer, type FcgiResponse, type FcgiServer } from '@fcgi/core';
import { ROOT, stopChild } from './helpers/app-process.js';

const CLI = join(ROOT, 'packages/core/dist/cli.js');
const MB = 1024 * 1024;
const TOTAL = 20 * MB;
const STALL_MS = 1500;
/**
 * Bytes in flight allowed: kernel socket buffers (a stalled peer keeps them near the sender's
 * tcp_wmem maximum, 4 MB on Debian; ~4.4 MB measured here) plus small stream buffers. Anything
 * near 20 MB means a missing backpressure.
 */
const IN_FLIGHT_MAX = 12 * MB;
const PATTERN = Buffer.alloc(64 * 1024).map((_, i) => (i * 7) % 251);

function patternSha256(total: number): string {
  const h = createHash('sha256');
  for (let left = total; left > 0; left -= PATTERN.length)
    h.update(left >= PATTERN.length ? PATTERN : PATTERN.subarray(0, left));
  return h.digest('hex');
}

function rssKb(pid: number): number {
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
}

function drainOrClose(res: FcgiResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done).off('close', done);
      resolve();
    };
    res.on('drain', done).on('close', done);
  });
}

describe('`fcgi gateway` streams bodies both ways with backpressure', { timeout: 120_000 }, () => {
  let dir = '';
  let app: FcgiServer | undefined;
  let gw: ChildProcess | undefined;
  let port = 0;
  /** What the app has read of the upload / written of the download so far. */
  let appRead = 0;
  let appWritten = 0;

  before(
    async () => {
      dir = await mkdtemp(join(tmpdir(), 'fcgi-gw-stream-'));
      app = createFcgiServer(async (req, res) => {
        if (req.method === 'POST') {
          await sleep(Number(req.query.wait ?? 0));
          const hash = createHash('sha256');
          appRead = 0;
          for await (const chunk of req as AsyncIterable<Buffer>) {
            hash.update(chunk);
            appRead += chunk.length;
          }
          return void res.end(
            JSON.stringify({ length: appRead, sha256: hash.digest('hex'), contentLength: req.environ.CONTENT_LENGTH }),
          );
        }
        const total = Number(req.query.bytes);
        res.setHeader('Content-Length', total);
        appWritten = 0;
        while (appWritten < total && !res.destroyed) {
          const n = Math.min(PATTERN.length, total - appWritten);
          appWritten += n;
          if (!res.write(n === PATTERN.length ? PATTERN : PATTERN.subarray(0, n))) await drainOrClose(res);
        }
        res.end();
      });
      await app.listenOn({ kind: 'unix', path: join(dir, 'app.sock') });
      gw = spawn(process.execPath, [CLI, 'gateway', '--to', join(dir, 'app.sock'), '--port', '0'], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let out = '';
      gw.stdout!.setEncoding('utf8').on('data', (s: string) => (out += s));
      for (let i = 0; i < 200 && !/:(\d+) -> /.test(out) && gw.exitCode === null; i++) await sleep(50);
      port = Number(/:(\d+) -> /.exec(out)?.[1] ?? assert.fail(`the gateway printed no address: ${out}`));
      // Warm up code paths and the pool, so the growth measured below is the transfer's.
      for (let i = 0; i < 5; i++) {
        await send('POST', '/warm', Buffer.alloc(256 * 1024));
        await send('GET', `/warm?bytes=${256 * 1024}`);
      }
    },
    { timeout: 30_000 },
  );
  after(
    async () => {
      if (gw) await stopChild(gw);
      await Promise.race([app?.close(), sleep(5000, undefined, { ref: false })]);
      await rm(dir, { recursive: true, force: true });
    },
    { timeout: 20_000 },
  );

  interface Sent {
    status: number;
    length: number;
    sha256: string;
    text: string;
  }

  /**
   * One request through the gateway. `body` as a number: that many pattern bytes, written as the
   * socket takes them (`sent()` tells how many so far). `stall`: stop reading the response for
   * STALL_MS after its first bytes, calling `probe` at the end of the stall.
   */
  function send(method: string, path: string, body?: Buffer | number, stall?: () => void, sent?: { n: number }) {
    return new Promise<Sent>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method, path, timeout: 60_000 }, (res) => {
        const hash = createHash('sha256');
        let length = 0;
        let text = '';
        res.on('data', (c: Buffer) => {
          hash.update(c);
          if (text.length < 10_000) text += c.toString('latin1');
          if (length === 0 && stall) {
            res.pause();
            setTimeout(() => {
              stall();
              res.resume();
            }, STALL_MS);
          }
          length += c.length;
        });
        res.on('end', () => resolve({ status: res.statusCode!, length, sha256: hash.digest('hex'), text }));
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out`)));
      req.on('error', reject);
      if (typeof body !== 'number') return void req.end(body);
      req.setHeader('Content-Length', body);
      const counter = sent ?? { n: 0 };
      const pump = () => {
        while (counter.n < body) {
          const n = Math.min(body - counter.n, PATTERN.length);
          counter.n += n;
          if (!req.write(n === PATTERN.length ? PATTERN : PATTERN.subarray(0, n))) return void req.once('drain', pump);
        }
        req.end();
      };
      pump();
    });
  }

  it('a 20 MB download to a client that stops reading for 1.5 s: held back at the app, then whole', {
    timeout: 60_000,
  }, async () => {
    const before = rssKb(gw!.pid!);
    let probe: { written: number; grew: number } | undefined;
    const r = await send('GET', `/download?bytes=${TOTAL}`, undefined, () => {
      probe = { written: appWritten, grew: rssKb(gw!.pid!) - before };
    });
    assert.equal(r.status, 200);
    assert.equal(r.length, TOTAL);
    assert.equal(r.sha256, patternSha256(TOTAL));
    assert.ok(probe, 'probed during the stall');
    // Without backpressure the app's 20 MB would have gone into the gateway during the stall.
    assert.ok(
      probe.written < IN_FLIGHT_MAX,
      `the app had written ${probe.written} bytes while the client did not read`,
    );
    assert.ok(probe.grew < 12 * 1024, `the gateway's RSS grew by ${probe.grew} kB during the stall`);
    assert.equal(gw!.exitCode, null);
  });

  it('a 20 MB upload to an app that waits 1.5 s before reading: held back at the client, then whole', {
    timeout: 60_000,
  }, async () => {
    const before = rssKb(gw!.pid!);
    const sent = { n: 0 };
    let probe: { sent: number; grew: number } | undefined;
    const t = setTimeout(() => (probe = { sent: sent.n, grew: rssKb(gw!.pid!) - before }), STALL_MS - 200);
    const r = await send('POST', `/upload?wait=${STALL_MS}`, TOTAL, undefined, sent);
    clearTimeout(t);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(JSON.parse(r.text), { length: TOTAL, sha256: patternSha256(TOTAL), contentLength: String(TOTAL) });
    assert.ok(probe, 'probed during the wait');
    // The gateway stopped reading while the app did not: the client could not send it all.
    assert.ok(probe.sent < IN_FLIGHT_MAX, `the client had sent ${probe.sent} bytes while the app waited`);
    assert.ok(probe.grew < 12 * 1024, `the gateway's RSS grew by ${probe.grew} kB holding the upload`);
  });
});
