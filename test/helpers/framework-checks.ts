// The check list every framework app of test/fixtures/frameworks/ must pass, on node:http and on
// @fcgi alike: route params and query, JSON and form bodies, header reads, bearer auth, cookies both
// ways, the client's IP, a 5 MB streamed answer, a client hanging up in the middle of it, a
// redirect, the error handler, 404 and parallel requests. One list, so every framework and every
// front end is held to the same answers.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Agent } from 'node:http';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { bigBody, type Tally } from '../fixtures/frameworks/shared.js';
import { fetchRaw, type HttpOptions, type HttpResult } from './nginx.js';

/** One request to the app of `host` through the front end on `port` (both kept, for raw sockets). */
export type Client = ((path: string, options?: HttpOptions) => Promise<HttpResult>) & {
  readonly port: number;
  readonly host: string;
};

export interface FrameworkCheck {
  name: string;
  run(client: Client): Promise<void>;
}

export function clientFor(port: number, host: string): Client {
  const get = (path: string, options: HttpOptions = {}) =>
    fetchRaw(port, path, { ...options, headers: { host, ...options.headers } });
  return Object.assign(get, { port, host });
}

/**
 * Asks for the 5 MB answer on a raw socket, reads `atLeast` bytes of it (the head included), then
 * destroys the socket: a browser tab closed mid-download. Resolves once the socket is gone.
 */
function hangUpDuringBig(client: Client, atLeast: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect(client.port, '127.0.0.1');
    const timer = setTimeout(() => socket.destroy(new Error(`no ${atLeast} bytes of /big in 10 s`)), 10_000);
    let got = 0;
    socket.on('connect', () => socket.write(`GET /big HTTP/1.1\r\nHost: ${client.host}\r\n\r\n`));
    socket.on('data', (chunk: Buffer) => {
      got += chunk.length;
      if (got >= atLeast) socket.destroy();
    });
    socket.on('error', reject);
    socket.on('close', () => {
      clearTimeout(timer);
      if (got < atLeast) reject(new Error(`the connection closed after ${got} bytes of /big`));
      else resolve();
    });
  });
}

async function tallyOf(get: Client): Promise<Tally> {
  return jsonOf(ok(await get('/tally'))) as Tally;
}

/** Polls /tally until every 5 MB answer begun is closed (10 s at most); returns the last counts. */
async function settledTally(get: Client): Promise<Tally> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const t = await tallyOf(get);
    if ((t.streams === t.streamsClosed && t.responses === t.responsesClosed) || Date.now() > deadline) return t;
    await sleep(50);
  }
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const BIG_SHA = sha256(bigBody());

function jsonOf(r: HttpResult): unknown {
  assert.match(
    String(r.headers['content-type']),
    /^application\/json/,
    `content-type of ${r.body.toString().slice(0, 200)}`,
  );
  return JSON.parse(r.body.toString('utf8'));
}

function ok(r: HttpResult, status = 200): HttpResult {
  assert.equal(r.status, status, `status ${r.status}: ${r.body.toString().slice(0, 300)}`);
  return r;
}

export const FRAMEWORK_CHECKS: readonly FrameworkCheck[] = [
  {
    name: 'route params and query',
    async run(get) {
      assert.deepEqual(jsonOf(ok(await get('/users/42?sort=asc&x=1'))), { id: '42', sort: 'asc' });
    },
  },
  {
    name: 'JSON body',
    async run(get) {
      const sent = { name: 'zoë', n: 2, list: [1, 'two'] };
      const body = Buffer.from(JSON.stringify(sent));
      const r = await get('/json', { method: 'POST', body, headers: { 'content-type': 'application/json' } });
      assert.deepEqual(jsonOf(ok(r)), { got: sent });
    },
  },
  {
    name: 'form body',
    async run(get) {
      const body = Buffer.from('name=a+b&n=2&city=K%C3%B6ln');
      const r = await get('/form', {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      assert.deepEqual(jsonOf(ok(r)), { got: { name: 'a b', n: '2', city: 'Köln' } });
    },
  },
  {
    name: 'common request headers',
    async run(get) {
      const r = await get('/headers', {
        headers: { 'user-agent': 'fw-check/1', accept: 'application/json', 'accept-language': 'fr-CH' },
      });
      const got = jsonOf(ok(r)) as Record<string, unknown>;
      assert.deepEqual(
        { ua: got.ua, accept: got.accept, lang: got.lang, all: got.all },
        { ua: 'fw-check/1', accept: 'application/json', lang: 'fr-CH', all: true },
      );
      assert.match(String(got.host), /\.test$/);
    },
  },
  {
    name: 'bearer auth: 401 without the token, 200 with it',
    async run(get) {
      assert.equal((await get('/private')).status, 401);
      assert.equal((await get('/private', { headers: { authorization: 'Bearer wrong' } })).status, 401);
      const r = await get('/private', { headers: { authorization: 'Bearer s3cret' } });
      assert.deepEqual(jsonOf(ok(r)), { private: true });
    },
  },
  {
    name: 'cookies read and two Set-Cookie kept apart',
    async run(get) {
      const r = ok(await get('/cookies', { headers: { cookie: 'other=1; seen=yes' } }));
      assert.deepEqual(jsonOf(r), { seen: 'yes' });
      const set = r.headers['set-cookie'] ?? [];
      assert.equal(set.length, 2, `set-cookie: ${JSON.stringify(set)}`);
      assert.match(set[0]!, /^a=1;/);
      assert.match(set[0]!, /httponly/i);
      assert.match(set[1]!, /^b=2;/);
    },
  },
  {
    name: "the client's IP",
    async run(get) {
      assert.deepEqual(jsonOf(ok(await get('/ip'))), { ip: '127.0.0.1' });
    },
  },
  {
    name: 'a 5 MB streamed answer arrives whole',
    async run(get) {
      const r = ok(await get('/big'));
      assert.match(String(r.headers['content-type']), /^application\/octet-stream/);
      assert.equal(r.body.length, 5 * 1024 * 1024);
      assert.equal(sha256(r.body), BIG_SHA);
    },
  },
  {
    name: 'a client hanging up mid-download: the answer is closed, and the next requests are served',
    async run(get) {
      const before = await settledTally(get);
      await hangUpDuringBig(get, 128 * 1024);
      const after = await settledTally(get);
      assert.equal(after.streams, before.streams + 1, `one more 5 MB stream: ${JSON.stringify(after)}`);
      assert.equal(after.streamsClosed, after.streams, `every 5 MB stream closed: ${JSON.stringify(after)}`);
      assert.equal(after.responsesClosed, after.responses, `every /big response closed: ${JSON.stringify(after)}`);
      // The same front end and app go on: a few small answers and a whole 5 MB one.
      for (const id of ['1', '2', '3']) assert.deepEqual(jsonOf(ok(await get(`/users/${id}`))), { id, sort: null });
      const big = ok(await get('/big'));
      assert.equal(sha256(big.body), BIG_SHA);
    },
  },
  {
    name: 'redirect',
    async run(get) {
      const r = await get('/go');
      assert.ok(r.status === 302 || r.status === 307, `status ${r.status}`);
      assert.match(String(r.headers.location), /\/users\/7$/);
    },
  },
  {
    name: "a thrown error reaches the app's error handler",
    async run(get) {
      const r = await get('/boom');
      assert.equal(r.status, 500);
      assert.deepEqual(jsonOf(r), { error: 'boom' });
    },
  },
  {
    name: 'an unknown path is a 404',
    async run(get) {
      assert.equal((await get('/no/such/page')).status, 404);
    },
  },
  {
    name: '24 parallel requests on kept-alive connections',
    async run(get) {
      const agent = new Agent({ keepAlive: true, maxSockets: 6 });
      try {
        const ids = Array.from({ length: 24 }, (_, i) => String(i));
        const answers = await Promise.all(ids.map((id) => get(`/users/${id}?sort=${id}`, { agent })));
        answers.forEach((r, i) => assert.deepEqual(jsonOf(ok(r)), { id: ids[i], sort: ids[i] }));
      } finally {
        agent.destroy();
      }
    },
  },
];
