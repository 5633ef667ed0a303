// Beyond one host (docs/deploy/multi-host.md, whose nginx, systemd and redis.conf blocks this test
// reads): four app processes, two on 127.0.0.1 and two on 127.0.0.2 standing for two machines,
// behind one nginx upstream, sessions in a Redis of the test's own through express-session and
// connect-redis; once as an Express app through serve(), once as a createApp() app. One process is
// SIGKILLed under load: no GET fails, no session loses an increment, a POST in flight there gets 502.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { skipUnless } from './helpers/app-process.js';
import { until } from './helpers/lifecycle.js';
import {
  REDIS_SERVER,
  bundleFixture,
  docBlock,
  freePortOn,
  startBackend,
  startFront,
  startRedis,
  substitute,
  type Backend,
  type Front,
  type Redis,
} from './helpers/multihost.js';
import { NGINX, fetchRaw, freePort } from './helpers/nginx.js';

const KINDS = ['express', 'fcgi'] as const;
type Kind = (typeof KINDS)[number];
/** The doc's machines and the loopback addresses that stand for them. */
const MACHINES = [
  { doc: '10.0.0.11', host: '127.0.0.1' },
  { doc: '10.0.0.12', host: '127.0.0.2' },
];
const DOC_PORTS = ['9001', '9002'];
const CLIENTS = 4;
const GETS_PER_CLIENT = 50;
const KILL_AT = Math.floor((CLIENTS * GETS_PER_CLIENT) / 3);
const HOLD_MS = 3000;
const SECRET = 'multihost-test-secret';

interface Cluster {
  front: Front;
  backends: Backend[];
}

/** The unit's ExecStart= command, running the test's bundle with the test's node. */
function unitCommand(bundle: string): string[] {
  const line = /^ExecStart=(.*)$/m.exec(docBlock('systemd'))?.[1];
  assert.ok(line, 'the unit in the doc has an ExecStart= line');
  return substitute(
    line,
    [
      [/^\/usr\/bin\/node /, `${process.execPath} `],
      [/\/srv\/app\/app\.fcgi$/, bundle],
    ],
    'ExecStart=',
  ).split(' ');
}

/** The unit's Environment= lines for the process on `host`:`port`, made the test's. */
function unitEnv(host: string, port: number, redisUrl: string, kind: Kind): Record<string, string> {
  const unit = docBlock('systemd');
  assert.match(unit, /^EnvironmentFile=/m, 'the unit reads the session secret from a file');
  const env: Record<string, string> = {};
  for (const m of unit.matchAll(/^Environment=([A-Z_]+)=(.*)$/gm)) env[m[1]!] = m[2]!;
  for (const key of ['NODE_ENV', 'FCGI_LISTEN', 'FCGI_WEB_SERVER_ADDRS', 'REDIS_URL']) {
    assert.ok(key in env, `the unit in the doc sets ${key}`);
  }
  const made = (v: string) =>
    v
      .replace('%i', String(port))
      .replace('0.0.0.0', host)
      .replace('10.0.0.10', '127.0.0.1')
      .replace('redis://10.0.0.20:6379', redisUrl);
  const out: Record<string, string> = { MULTIHOST_KIND: kind, SESSION_SECRET: SECRET };
  for (const [k, v] of Object.entries(env)) out[k] = made(v);
  assert.equal(out.FCGI_LISTEN, `${host}:${port}`);
  return out;
}

/** Four processes of `kind` and an nginx in front of them with the doc's block; each is pushed to `own` as it starts. */
async function startCluster(
  kind: Kind,
  bundle: string,
  redis: Redis,
  own: { stop(): Promise<void> }[],
): Promise<Cluster> {
  const slots: { doc: string; host: string; port: number }[] = [];
  for (const m of MACHINES) {
    for (const p of DOC_PORTS) slots.push({ doc: `${m.doc}:${p}`, host: m.host, port: await freePortOn(m.host) });
  }
  const settled = await Promise.allSettled(
    slots.map((s) => startBackend(s.host, s.port, unitCommand(bundle), unitEnv(s.host, s.port, redis.url, kind))),
  );
  const backends: Backend[] = [];
  for (const r of settled) {
    if (r.status === 'fulfilled') {
      backends.push(r.value);
      own.push({ stop: () => r.value.kill() });
    }
  }
  for (const r of settled) if (r.status === 'rejected') throw r.reason;
  const block = substitute(
    docBlock('nginx'),
    [
      ...slots.map((s) => [new RegExp(`${s.doc.replaceAll('.', '\\.')}\\b`), `${s.host}:${s.port}`] as const),
      [/listen 80;/, `listen 127.0.0.1:${await freePort()};`],
    ],
    'the nginx block',
  );
  for (const directive of ['fastcgi_next_upstream error timeout', 'fastcgi_keep_conn on;', 'keepalive ']) {
    assert.ok(block.includes(directive), `the doc's nginx block has ${directive}`);
  }
  const front = await startFront(block);
  own.push(front);
  return { front, backends };
}

interface Counted {
  status: number;
  n?: number;
  pid?: number;
  replay?: boolean;
}

/** A visitor with its own session cookie and its own kept-alive connections to nginx. */
class Visitor {
  readonly tag: string;
  cookie = '';
  readonly #agent = new Agent({ keepAlive: true, maxSockets: 1 });
  readonly #port: number;
  constructor(port: number, tag: string) {
    this.#port = port;
    this.tag = tag;
  }
  async #send(method: string, path: string): Promise<Counted> {
    const r = await fetchRaw(this.#port, path, {
      method,
      agent: this.#agent,
      headers: this.cookie ? { cookie: this.cookie } : {},
      timeoutMs: 10_000,
    });
    const set = r.headers['set-cookie']?.find((c) => c.startsWith('connect.sid='));
    if (set) this.cookie = set.split(';')[0]!;
    let body: { n?: number; pid?: number; replay?: boolean } = {};
    try {
      body = JSON.parse(r.body.toString('utf8')) as typeof body;
    } catch {
      // nginx's 502 page
    }
    return { status: r.status, ...body };
  }
  get(seq?: number): Promise<Counted> {
    return this.#send('GET', seq === undefined ? '/count' : `/count?seq=${seq}`);
  }
  post(seq: number, holdMs: number): Promise<Counted> {
    return this.#send('POST', `/count?seq=${seq}&holdMs=${holdMs}&tag=${this.tag}`);
  }
  close(): void {
    this.#agent.destroy();
  }
}

describe('several app processes on two machines behind one nginx upstream, sessions in Redis', {
  skip: skipUnless(NGINX, 'nginx') || skipUnless(REDIS_SERVER, 'redis-server'),
  timeout: 150_000,
}, () => {
  const own: { stop(): Promise<void> }[] = [];
  const clusters = new Map<Kind, Cluster>();
  const visitors = new Map<Kind, Visitor[]>();
  let redis: Redis;
  let dir: string | undefined;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fcgi-multihost-'));
    const bundle = bundleFixture(dir);
    redis = await startRedis();
    own.push(redis);
    // Both clusters start at once: app start-up is most of this file's time.
    const made = await Promise.allSettled(KINDS.map((k) => startCluster(k, bundle, redis, own)));
    made.forEach((r, i) => {
      if (r.status === 'rejected') throw r.reason;
      clusters.set(KINDS[i]!, r.value);
    });
  });
  after(async () => {
    for (const vs of visitors.values()) for (const v of vs) v.close();
    // nginx first, the apps next, Redis last (the reverse of `own`).
    for (const o of own.reverse()) await o.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  for (const kind of KINDS) {
    const what = kind === 'express' ? 'an Express app through serve()' : 'a createApp() app';
    it(`${what}: SIGKILL to one process mid-load: no GET lost (a cut answer asked again), no lost session, the POST it held gets 502`, {
      timeout: 40_000,
    }, async (t) => {
      const { front, backends } = clusters.get(kind)!;
      const pids = backends.map((b) => b.pid);

      // Four visitors each hold a POST open in some process (their sessions made first).
      const posters = Array.from({ length: CLIENTS }, (_, i) => new Visitor(front.port, `${kind}-p${i}`));
      for (const p of posters) assert.deepEqual((await p.get(1)).n, 1);
      let postsPending = posters.length;
      const posts = Promise.all(posters.map((p) => p.post(2, HOLD_MS).finally(() => postsPending--)));
      posts.catch(() => {}); // awaited below; a test failing before that must not leave it unhandled
      const holder = (p: Visitor) => backends.find((b) => b.stderr().includes(`hold ${p.tag} `));
      await until(() => posters.every((p) => holder(p) !== undefined), 10_000, 'every POST held by a process');
      const victim = holder(posters[0]!)!;

      // Four visitors send 50 increments each, one at a time; at a third of them, the kill.
      const getters = Array.from({ length: CLIENTS }, (_, i) => new Visitor(front.port, `${kind}-g${i}`));
      visitors.set(kind, [...posters, ...getters]);
      let started = 0;
      let killedAt = 0;
      let postsPendingAtKill = false;
      const results: { seq: number; startedAt: number; r: Counted }[] = [];
      // A GET whose answer the killed process had begun to send (nginx passed its header on, then
      // the rest never came): nginx cannot move it to another server, the client sees the answer
      // cut, and, as a visitor's browser would on reload, asks again with the same number.
      const cutGets: { seq: number; startedAt: number; error: string }[] = [];
      await Promise.all(
        getters.map(async (v) => {
          for (let seq = 1; seq <= GETS_PER_CLIENT; seq++) {
            if (++started === KILL_AT) {
              postsPendingAtKill = postsPending === posters.length;
              killedAt = performance.now();
              void victim.kill();
            }
            for (;;) {
              const startedAt = performance.now();
              try {
                results.push({ seq, startedAt, r: await v.get(seq) });
                break;
              } catch (err) {
                const code = (err as NodeJS.ErrnoException).code;
                if (killedAt === 0 || (code !== 'ECONNRESET' && code !== 'EPIPE')) throw err;
                cutGets.push({ seq, startedAt, error: `${code}: ${(err as Error).message}` });
              }
            }
          }
        }),
      );
      // Only a request in flight at the kill can be cut: at most one per visitor.
      assert.ok(cutGets.length <= CLIENTS, `${cutGets.length} answers cut: ${JSON.stringify(cutGets)}`);
      for (const c of cutGets)
        assert.ok(c.startedAt < killedAt + 1000, `an answer cut long after the kill: ${JSON.stringify(c)}`);
      assert.ok(killedAt > 0, 'the kill happened');
      assert.ok(postsPendingAtKill, `every POST was still held at the kill (${HOLD_MS} ms)`);
      assert.deepEqual(await victim.exit, { code: null, signal: 'SIGKILL' });

      // No GET failed, and each answered the counter it asked for.
      const wrong = results.filter(({ seq, r }) => r.status !== 200 || r.n !== seq);
      assert.deepEqual(wrong, [], 'every GET answered 200 with its own increment');
      assert.equal(results.length, CLIENTS * GETS_PER_CLIENT);
      // No session lost: each counter ends at the number of its successful increments.
      for (const v of getters) assert.equal((await v.get()).n, GETS_PER_CLIENT, `${v.tag}'s counter`);
      const before = new Set(results.filter((x) => x.startedAt < killedAt).map((x) => x.r.pid));
      assert.deepEqual([...before].sort(), [...pids].sort(), 'all four processes served before the kill');
      const afterKill = results.filter((x) => x.startedAt > killedAt);
      assert.ok(afterKill.length > 0);
      assert.ok(!afterKill.some((x) => x.r.pid === victim.pid), 'the dead process served nothing after');
      const replays = results.filter((x) => x.r.replay).length;
      t.diagnostic(
        `${results.length} GETs, ${afterKill.length} after the kill, ${replays} replayed by a retry, ${cutGets.length} cut and asked again`,
      );

      // The POSTs: 502 from the dead process (nginx does not resend a POST it sent), 200 elsewhere.
      const answers = await posts;
      posters.forEach((p, i) => {
        const a = answers[i]!;
        if (holder(p) === victim) assert.equal(a.status, 502, `${p.tag}'s POST was held by the killed process`);
        else assert.deepEqual([a.status, a.n], [200, 2], `${p.tag}'s POST was held by a survivor`);
      });
      // The failed POST never incremented; sent again with the same number, it counts once.
      for (const p of posters.filter((x) => holder(x) === victim)) {
        assert.equal((await p.get()).n, 1, `${p.tag}: the failed POST did not increment`);
        assert.deepEqual(await p.post(2, 0).then((a) => [a.status, a.n, a.replay]), [200, 2, undefined]);
        assert.equal((await p.get()).n, 2);
      }
      // What nginx saw: requests cut by the kill (the GETs among them were retried on another process).
      const errors = front
        .errorLog()
        .split('\n')
        .filter((l) => l.includes('[error]'));
      const cut = (method: string) => errors.filter((l) => l.includes(`request: "${method} `)).length;
      assert.ok(cut('POST') >= 1, 'nginx logged the POST it could not finish');
      t.diagnostic(`nginx's error log: ${cut('GET')} GET(s) and ${cut('POST')} POST(s) cut by the kill`);
    });
  }

  it('the Express app and the createApp() app read each other’s sessions', { timeout: 10_000 }, async () => {
    const fromExpress = visitors.get('express')?.at(-1);
    assert.ok(fromExpress?.cookie, 'the Express run left a session');
    const fcgiFront = clusters.get('fcgi')!.front;
    const r = await fetchRaw(fcgiFront.port, '/count', { headers: { cookie: fromExpress.cookie }, timeoutMs: 10_000 });
    assert.equal(r.status, 200);
    assert.equal((JSON.parse(r.body.toString('utf8')) as { n: number }).n, GETS_PER_CLIENT);
  });
});
