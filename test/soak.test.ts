// Soak: a real nginx in front of an in-process createApp() app, 32 keep-alive clients sending a
// mix for ~100 s (SOAK_SECONDS): small and big responses, JSON echoes, streamed output, slow
// handlers, thrown errors, and clients aborting mid-response (nginx then drops the upstream
// connection). Every answer is checked; heapUsed after GC must not grow beyond a bound from
// warm-up to the end, and the app must end with nothing in flight.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { createApp, createFcgiServer, json, type FcgiServer, type Handler } from '@fcgi/core';
import { skipUnless } from './helpers/app-process.js';
import { NGINX, startNginx, type Nginx } from './helpers/nginx.js';

const SECONDS = Number(process.env.SOAK_SECONDS ?? 100);
const WARMUP = Math.min(10, SECONDS / 5);
const CLIENTS = 32;
/** Bound on heapUsed growth after GC, warm-up to end (app, clients and test in one process). */
const HEAP_GROWTH_MB = 10;
const MB = 1024 * 1024;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const BIG = Buffer.alloc(256 * 1024, 'b');

function app(): Handler {
  const a = createApp();
  a.set('env', 'production');
  a.use(json());
  a.use((req, res) => {
    switch (req.path) {
      case '/small':
        return res.send('hello');
      case '/echo':
        return res.json(req.body);
      case '/big':
        return res.send(BIG);
      case '/throw':
        throw new Error('soak: thrown');
      case '/slow':
        return void setTimeout(() => res.send('slow'), 20);
      case '/stream': {
        let n = 0;
        const next = (): void => {
          while (n < 20) {
            n++;
            if (!res.write(Buffer.alloc(8192, 's'))) return void res.once('drain', next);
          }
          res.end();
        };
        return next();
      }
      default:
        res.status(404).end();
    }
  });
  return a as unknown as Handler;
}

interface Result {
  status: number | string;
  body: Buffer;
}

/** One request on the shared keep-alive agent; `abortAfterHeaders` destroys it mid-response. */
function call(port: number, agent: Agent, path: string, body?: string, abortAfterHeaders = false): Promise<Result> {
  return new Promise((resolve) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        agent,
        method: body ? 'POST' : 'GET',
        timeout: 20_000,
        headers: body ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } : {},
      },
      (res) => {
        if (abortAfterHeaders) {
          req.destroy();
          return resolve({ status: 'aborted', body: Buffer.alloc(0) });
        }
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
        res.on('error', (e: NodeJS.ErrnoException) => resolve({ status: e.code ?? 'error', body: Buffer.alloc(0) }));
      },
    );
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
    req.on('error', (e: NodeJS.ErrnoException) =>
      resolve({ status: abortAfterHeaders ? 'aborted' : (e.code ?? 'error'), body: Buffer.alloc(0) }),
    );
    req.end(body);
  });
}

/** The i-th request of the mix, and a check of its answer (null when right). */
function step(i: number, port: number, agent: Agent): Promise<string | null> {
  const kind = i % 50;
  const expect = (r: Result, status: number, ok: (b: Buffer) => boolean, what: string) =>
    r.status === status && ok(r.body) ? null : `${what}: ${r.status} ${r.body.subarray(0, 60).toString()}`;
  if (kind === 0) return call(port, agent, '/big', undefined, true).then(() => null);
  if (kind < 20)
    return call(port, agent, '/small').then((r) => expect(r, 200, (b) => b.toString() === 'hello', 'small'));
  if (kind < 30) {
    const payload = JSON.stringify({ i, text: 'x'.repeat(i % 3000) });
    return call(port, agent, '/echo', payload).then((r) => expect(r, 200, (b) => b.toString() === payload, 'echo'));
  }
  if (kind < 36) return call(port, agent, '/big').then((r) => expect(r, 200, (b) => b.equals(BIG), 'big'));
  if (kind < 42)
    return call(port, agent, '/stream').then((r) => expect(r, 200, (b) => b.length === 20 * 8192, 'stream'));
  if (kind < 47) return call(port, agent, '/slow').then((r) => expect(r, 200, (b) => b.toString() === 'slow', 'slow'));
  return call(port, agent, '/throw').then((r) => expect(r, 500, (b) => !b.includes('soak: thrown'), 'throw'));
}

describe(`soak through nginx for ${SECONDS} s`, {
  skip: skipUnless(NGINX, 'nginx'),
  timeout: (SECONDS + 60) * 1000,
}, () => {
  let dir = '';
  let server: FcgiServer | null = null;
  let nginx: Nginx | null = null;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fcgi-soak-'));
    const socket = join(dir, 'app.sock');
    server = createFcgiServer(app(), { onConnectionError: () => {} });
    await server.listenOn({ kind: 'unix', path: socket });
    nginx = await startNginx(socket);
  });

  after(async () => {
    await nginx?.stop();
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it(`${CLIENTS} clients, mixed traffic: every answer right, heap flat, nothing left in flight`, {
    timeout: (SECONDS + 50) * 1000,
  }, async (t) => {
    const agent = new Agent({ keepAlive: true, maxSockets: CLIENTS });
    const start = Date.now();
    const end = start + SECONDS * 1000;
    let next = 0;
    let done = 0;
    const errors: string[] = [];
    let heapStart = -1;
    const rss: string[] = [];
    const sampler = setInterval(
      () => rss.push(`${((Date.now() - start) / 1000).toFixed(0)}s:${(process.memoryUsage().rss / MB).toFixed(0)}`),
      10_000,
    );
    const warm = setTimeout(() => {
      gc();
      heapStart = process.memoryUsage().heapUsed;
    }, WARMUP * 1000);
    try {
      await Promise.all(
        Array.from({ length: CLIENTS }, async () => {
          while (Date.now() < end && errors.length < 10) {
            const err = await step(next++, nginx!.port, agent);
            done++;
            if (err) errors.push(err);
          }
        }),
      );
    } finally {
      clearInterval(sampler);
      clearTimeout(warm);
      agent.destroy();
    }
    const settle = Date.now() + 10_000;
    while (server!.activeRequests > 0 && Date.now() < settle) await sleep(20);
    await sleep(200);
    gc();
    gc();
    const heapEnd = process.memoryUsage().heapUsed;
    const growth = (heapEnd - heapStart) / MB;
    t.diagnostic(
      `${done} requests in ${((Date.now() - start) / 1000).toFixed(0)} s (${(done / SECONDS).toFixed(0)}/s); heapUsed after GC ${(heapStart / MB).toFixed(1)} -> ${(heapEnd / MB).toFixed(1)} MB; rss ${rss.join(' ')} MB; peak rss ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`,
    );
    assert.deepEqual(errors, []);
    assert.ok(done > SECONDS * 50, `only ${done} requests`);
    assert.ok(heapStart > 0);
    assert.ok(growth < HEAP_GROWTH_MB, `heap grew ${growth.toFixed(1)} MB`);
    assert.equal(server!.activeRequests, 0);
    assert.doesNotMatch(nginx!.errorLog(), /upstream sent|invalid header|prematurely/);
  });
});
