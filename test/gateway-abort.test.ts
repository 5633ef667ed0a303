// A browser that goes away mid-download: `fcgi gateway` (its own process, the built CLI) passes the
// abort on, so the app in this process sees req.signal abort and 'aborted' and stops writing; the
// gateway serves on. Ten such aborts in a row must not use up its pool of 8 connections.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { createFcgiServer, type FcgiServer } from '@fcgi/core';
import { ROOT, stopChild } from './helpers/app-process.js';

const CLI = join(ROOT, 'packages/core/dist/cli.js');
const CHUNK = Buffer.alloc(64 * 1024, 0x61);

interface Download {
  written: number;
  signalAborted: boolean;
  abortedEvent: boolean;
  /** The handler's write loop has stopped. */
  stopped: boolean;
}

/** Waits for 'drain' or 'close', whichever first, leaving no listener behind. */
function drainOrClose(res: NodeJS.EventEmitter): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done).off('close', done);
      resolve();
    };
    res.on('drain', done).on('close', done);
  });
}

async function until(what: string, ok: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms: ${what}`);
    await sleep(20);
  }
}

/** GETs `path` through the gateway and destroys the socket once `after` bytes of body came. */
function disconnectAfter(port: number, path: string, after: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path }, (res) => {
      let got = 0;
      res.on('data', (c: Buffer) => {
        got += c.length;
        if (got >= after) {
          res.socket.destroy();
          resolve(got);
        }
      });
      res.on('end', () => reject(new Error(`the whole body came (${got} bytes)`)));
    });
    req.on('error', () => {});
    req.setTimeout(10_000, () => req.destroy(new Error('timed out')));
    req.end();
  });
}

function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (s: string) => (body += s));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

describe('a client that disconnects mid-download', { timeout: 90_000 }, () => {
  let dir = '';
  let app: FcgiServer | undefined;
  let gw: ChildProcess | undefined;
  let gwErr = '';
  let port = 0;
  const downloads: Download[] = [];

  before(
    async () => {
      dir = await mkdtemp(join(tmpdir(), 'fcgi-gw-abort-'));
      app = createFcgiServer(async (req, res) => {
        if (req.path === '/ok') return void res.end('ok\n');
        const d: Download = { written: 0, signalAborted: false, abortedEvent: false, stopped: false };
        downloads.push(d);
        req.signal.addEventListener('abort', () => (d.signalAborted = true));
        req.on('aborted', () => (d.abortedEvent = true));
        const total = Number(req.query.bytes);
        res.setHeader('Content-Type', 'application/octet-stream');
        res.setHeader('Content-Length', total);
        while (d.written < total && !req.signal.aborted && !res.destroyed) {
          d.written += CHUNK.length;
          if (!res.write(CHUNK)) await drainOrClose(res);
        }
        d.stopped = true;
      });
      await app.listenOn({ kind: 'unix', path: join(dir, 'app.sock') });
      gw = spawn(process.execPath, [CLI, 'gateway', '--to', join(dir, 'app.sock'), '--port', '0'], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      gw.stderr!.setEncoding('utf8').on('data', (s: string) => (gwErr = (gwErr + s).slice(-100_000)));
      let out = '';
      gw.stdout!.setEncoding('utf8').on('data', (s: string) => (out += s));
      await until('the gateway prints its address', () => /:(\d+) -> /.test(out) || gw!.exitCode !== null, 10_000);
      port = Number(/:(\d+) -> /.exec(out)?.[1] ?? assert.fail(`gateway did not start: ${gwErr}`));
    },
    { timeout: 20_000 },
  );
  after(
    async () => {
      if (gw) await stopChild(gw);
      await Promise.race([app?.close(), sleep(5000, undefined, { ref: false })]);
      await rm(dir, { recursive: true, force: true });
    },
    { timeout: 20_000 },
  );

  it('the app sees the abort and stops writing; the gateway serves on', { timeout: 30_000 }, async () => {
    const got = await disconnectAfter(port, '/big?bytes=200000000', 1024 * 1024);
    assert.ok(got >= 1024 * 1024);
    const d = downloads[0]!;
    await until('the handler sees req.signal abort', () => d.signalAborted);
    await until("the handler sees 'aborted'", () => d.abortedEvent);
    await until('the write loop stops', () => d.stopped);
    assert.ok(d.written < 50_000_000, `the app wrote ${d.written} of 200000000 bytes for a client that left`);
    await until('no request left in flight in the app', () => app!.activeRequests === 0);
    assert.deepEqual(await get(port, '/ok'), { status: 200, body: 'ok\n' });
    assert.equal(gw!.exitCode, null, 'the gateway process still runs');
  });

  it('ten aborts in a row leave no connection stuck: more requests than the pool holds still pass', {
    timeout: 60_000,
  }, async () => {
    for (let i = 0; i < 10; i++) await disconnectAfter(port, `/big?n=${i}&bytes=200000000`, 256 * 1024);
    await until(
      'every download aborted',
      () => downloads.length === 11 && downloads.every((d) => d.signalAborted),
      10_000,
    );
    const results = await Promise.all(Array.from({ length: 20 }, () => get(port, '/ok')));
    assert.ok(
      results.every((r) => r.status === 200 && r.body === 'ok\n'),
      JSON.stringify(results),
    );
    assert.equal(gw!.exitCode, null);
    assert.doesNotMatch(gwErr, /Error|at .*\.js:\d+/, 'nothing thrown in the gateway');
  });
});
