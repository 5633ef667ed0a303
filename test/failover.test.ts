// Beyond one machine's processes: two app processes on two loopback TCP ports behind one nginx
// `upstream` (keepalive, `fastcgi_next_upstream error timeout`). One is killed with SIGKILL in the
// middle of a stream of GETs: nginx retries what failed on the other, and no GET fails.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { signalPid, skipUnless } from './helpers/app-process.js';
import { getJson, startAppChild, startNginxFront, type AppChild, type NginxFront } from './helpers/lifecycle.js';
import { NGINX, freePort } from './helpers/nginx.js';

describe('failover between two app processes', { skip: skipUnless(NGINX, 'nginx'), timeout: 90_000 }, () => {
  const apps: AppChild[] = [];
  let nginx: NginxFront | undefined;
  after(async () => {
    await nginx?.stop();
    for (const a of apps) await a.kill();
  });

  it('SIGKILL to one of two upstreams mid-load: every GET still succeeds, served by the other', {
    timeout: 60_000,
  }, async () => {
    const addrs = [`127.0.0.1:${await freePort()}`, `127.0.0.1:${await freePort()}`];
    for (const listen of addrs) apps.push(await startAppChild({ listen }));
    const [a, b] = apps as [AppChild, AppChild];
    nginx = await startNginxFront(addrs);

    const total = 400;
    const concurrency = 8;
    let sent = 0;
    let killedAt = -1;
    const results: { status: number; pid: number; n: number }[] = [];
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (sent < total) {
          const n = sent++;
          if (n === 150) {
            killedAt = n;
            signalPid(a.pid, 'SIGKILL');
          }
          // Small and slow enough that requests are in flight on the killed process when it dies.
          const r = await getJson<{ pid: number }>(nginx!.port, n % 2 ? '/echo' : '/slow?ms=15');
          results.push({ status: r.status, pid: r.body.pid, n });
        }
      }),
    );
    assert.equal(killedAt, 150);
    assert.deepEqual(await a.exit, { code: null, signal: 'SIGKILL' });
    const failed = results.filter((r) => r.status !== 200);
    assert.deepEqual(failed, [], 'no GET failed');
    assert.equal(results.length, total);
    const before = new Set(results.filter((r) => r.n < 100).map((r) => r.pid));
    assert.deepEqual([...before].sort(), [a.pid, b.pid].sort(), 'both served before the kill');
    const late = new Set(results.filter((r) => r.n > 200).map((r) => r.pid));
    assert.deepEqual([...late], [b.pid], 'only the survivor after it');
    // nginx saw the failure and moved on (the log says so), without answering any client with it.
    assert.match(
      nginx.errorLog(),
      /connect\(\) failed \(111: Connection refused\)|upstream prematurely closed|reset by peer/,
    );
  });
});
