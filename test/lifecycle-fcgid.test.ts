// Process replacement under a real Apache mod_fcgid spawning the bundled matrix app (unchanged: the
// settings come from FcgidInitialEnv): mod_fcgid's own FcgidMaxRequestsPerProcess and idle retiring
// (SIGTERM, which the app answers by draining and exiting 0), and the app's own recycling
// (FCGI_MAX_REQUESTS_PER_PROCESS) and idle exit (FCGI_IDLE_TIMEOUT). Streams of requests see no
// failure while processes come and go; distinct pids (from /echo) show the replacements.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import { LOST_REQUEST, apacheDeploy, skipUnlessApache } from './helpers/apache-deploy.js';
import { APP_PATH, FCGID_HTACCESS } from './helpers/deploy-app.js';
import { getJson, until } from './helpers/lifecycle.js';
import { freePort } from './helpers/nginx.js';

const skip = skipUnlessApache(['fcgid'], 'apache2 libapache2-mod-fcgid');

/** The sites besides Apache's own port (where FcgidMaxRequestsPerProcess 3 holds). */
type Site = 'ownMax' | 'fcgidIdle' | 'ownIdle';

describe('process replacement under Apache mod_fcgid', { skip, timeout: 180_000 }, () => {
  const ports = {} as Record<Site, number>;
  const apache = apacheDeploy({
    prefix: 'fcgi-lc-fcgid-',
    mpm: 'event',
    modules: ['rewrite', 'fcgid'],
    fcgid: true,
    app: { entry: 'test/fixtures/matrix-app.ts', file: 'app.fcgi', htaccess: FCGID_HTACCESS },
    setup: async ({ www, home }) => {
      for (const site of ['ownMax', 'fcgidIdle', 'ownIdle'] as const) ports[site] = await freePort();
      const vhost = (site: Site, lines: string) => `Listen 127.0.0.1:${ports[site]}
<VirtualHost 127.0.0.1:${ports[site]}>
  DocumentRoot ${www}
  FcgidInitialEnv PATH ${APP_PATH}
  FcgidInitialEnv HOME ${home}
${lines}</VirtualHost>
`;
      // Scans every second, no minimum of idle processes kept, and no spawn throttling, so the
      // replacements happen within the test's time.
      return `FcgidIdleScanInterval 1
FcgidErrorScanInterval 1
FcgidZombieScanInterval 1
FcgidMinProcessesPerClass 0
FcgidSpawnScoreUpLimit 1000
FcgidTerminationScore 0
FcgidMaxRequestsPerProcess 3
${vhost('ownMax', '  FcgidMaxRequestsPerProcess 0\n  FcgidInitialEnv FCGI_MAX_REQUESTS_PER_PROCESS 3\n')}
${vhost('fcgidIdle', '  FcgidMaxRequestsPerProcess 0\n  FcgidIdleTimeout 1\n')}
${vhost('ownIdle', '  FcgidMaxRequestsPerProcess 0\n  FcgidInitialEnv FCGI_IDLE_TIMEOUT 500\n')}
`;
    },
  });

  /** `streams` clients each sending `each` GET /echo one after another; every pid seen. */
  async function stream(port: number, streams: number, each: number): Promise<Set<number>> {
    const pids = new Set<number>();
    await Promise.all(
      Array.from({ length: streams }, async (_, s) => {
        for (let i = 0; i < each; i++) {
          const r = await getJson<{ pid: number }>(port, `/echo?s=${s}&i=${i}`);
          assert.equal(r.status, 200, `stream ${s}, request ${i}: ${r.raw.slice(0, 300)}`);
          pids.add(r.body.pid);
        }
      }),
    );
    return pids;
  }

  const gone = (pid: number) => !existsSync(`/proc/${pid}`);
  const noErrors = () => assert.doesNotMatch(apache.errorLog(), LOST_REQUEST);

  it('FcgidMaxRequestsPerProcess 3: 2 streams of 8 requests, no failure, the processes replaced', {
    timeout: 60_000,
  }, async () => {
    const pids = await stream(apache.port, 2, 8);
    assert.ok(pids.size >= 4, `16 requests at most 3 per process: ${pids.size} pids`);
    noErrors();
  });

  it("the app's own FCGI_MAX_REQUESTS_PER_PROCESS=3: no failure, the processes replaced", {
    timeout: 60_000,
  }, async () => {
    const pids = await stream(ports.ownMax, 2, 8);
    assert.ok(pids.size >= 4, `16 requests at most 3 per process: ${pids.size} pids`);
    noErrors();
  });

  it('FcgidIdleTimeout 1: the idle process gets SIGTERM and exits; the next request gets a new one', {
    timeout: 30_000,
  }, async () => {
    const first = await getJson<{ pid: number }>(ports.fcgidIdle, '/echo');
    assert.equal(first.status, 200);
    await until(() => gone(first.body.pid), 15_000, `pid ${first.body.pid} to be retired`);
    const next = await getJson<{ pid: number }>(ports.fcgidIdle, '/echo');
    assert.equal(next.status, 200);
    assert.notEqual(next.body.pid, first.body.pid);
    noErrors();
  });

  it("the app's own FCGI_IDLE_TIMEOUT=500: it exits by itself; the next request gets a new one", {
    timeout: 30_000,
  }, async () => {
    const first = await getJson<{ pid: number }>(ports.ownIdle, '/echo');
    assert.equal(first.status, 200);
    const t0 = Date.now();
    await until(() => gone(first.body.pid), 10_000, `pid ${first.body.pid} to exit`);
    assert.ok(Date.now() - t0 < 5000, "by itself, long before mod_fcgid's default idle timeout (300 s)");
    const next = await getJson<{ pid: number }>(ports.ownIdle, '/echo');
    assert.equal(next.status, 200);
    assert.notEqual(next.body.pid, first.body.pid);
    noErrors();
  });
});
