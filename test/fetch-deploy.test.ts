// serve({ fetch }) deployed the two other ways a host runs an app: as a CGI script under Apache
// mod_cgi (the bundled test/fixtures/fetch-app.ts, one process per request), and with
// FCGI_WORKERS=2 behind nginx (the primary listens, two workers answer). Real requests both ways:
// query, a JSON body, a 2 MB body hashed as it streams in, a 5 MB streamed answer.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { skipUnless, startApp, type AppProcess } from './helpers/app-process.js';
import { apacheDeploy, skipUnlessApache } from './helpers/apache-deploy.js';
import { CGI_HTACCESS } from './helpers/deploy-app.js';
import { NGINX, fetchRaw, startNginx, type HttpResult, type Nginx } from './helpers/nginx.js';

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const patternOf = (size: number) => Buffer.alloc(size).map((_, i) => (i % (64 * 1024)) % 256);

function jsonOf(r: HttpResult, status = 200): Record<string, unknown> {
  assert.equal(r.status, status, `status ${r.status}: ${r.body.toString().slice(0, 300)}`);
  assert.match(String(r.headers['content-type']), /^application\/json/);
  return JSON.parse(r.body.toString('utf8')) as Record<string, unknown>;
}

/** The checks both deployments pass, through the front end on `port()`. */
function fetchAppChecks(port: () => number): void {
  it('a GET with a query', async () => {
    const got = jsonOf(await fetchRaw(port(), '/who?name=Zo%C3%AB&n=2'));
    assert.equal(got.method, 'GET');
    assert.deepEqual(got.query, { name: 'Zoë', n: '2' });
  });

  it('a JSON body in, 201 and JSON out', async () => {
    const sent = { name: 'zoë', list: [1, 'two'] };
    const r = await fetchRaw(port(), '/json', {
      method: 'POST',
      body: Buffer.from(JSON.stringify(sent)),
      headers: { 'content-type': 'application/json' },
    });
    assert.deepEqual(jsonOf(r, 201).got, sent);
  });

  it('a 2 MB body streamed in, hashed by the app', async () => {
    const body = randomBytes(2 * 1024 * 1024);
    const r = await fetchRaw(port(), '/hash', {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/octet-stream' },
    });
    assert.deepEqual(jsonOf(r), { size: body.length, sha: sha256(body) });
  });

  it('a 5 MB answer streamed out arrives whole', async () => {
    const size = 5 * 1024 * 1024;
    const r = await fetchRaw(port(), `/big?n=${size}`);
    assert.equal(r.status, 200);
    assert.equal(r.body.length, size);
    assert.equal(sha256(r.body), sha256(patternOf(size)));
  });

  it("the app's own 404", async () => {
    const r = await fetchRaw(port(), '/nowhere');
    assert.equal(r.status, 404);
    assert.equal(r.body.toString(), 'not found\n');
  });
}

describe('serve({ fetch }) as a CGI script under Apache mod_cgi', {
  skip: skipUnlessApache(['cgi'], 'apache2'),
  timeout: 120_000,
}, () => {
  const apache = apacheDeploy({
    prefix: 'fcgi-fetch-cgi-',
    mpm: 'prefork',
    modules: ['rewrite', 'cgi'],
    app: { entry: 'test/fixtures/fetch-app.ts', file: 'app.cgi', htaccess: CGI_HTACCESS },
  });

  fetchAppChecks(() => apache.port);

  it('each request is its own process', async () => {
    const a = jsonOf(await fetchRaw(apache.port, '/who'));
    const b = jsonOf(await fetchRaw(apache.port, '/who'));
    assert.notEqual(a.pid, b.pid);
  });
});

describe('serve({ fetch }) with FCGI_WORKERS=2 behind nginx', {
  skip: skipUnless(NGINX, 'nginx'),
  timeout: 120_000,
}, () => {
  let app: AppProcess | undefined;
  let nginx: Nginx | undefined;

  before(
    async () => {
      app = await startApp('test/fixtures/fetch-app.ts', { env: { FCGI_WORKERS: '2' } });
      nginx = await startNginx(app.socket);
    },
    { timeout: 60_000 },
  );

  after(
    async () => {
      await nginx?.stop();
      await app?.stop();
    },
    { timeout: 30_000 },
  );

  fetchAppChecks(() => nginx!.port);

  it('parallel requests are answered by both workers', async () => {
    // Workers start after the primary listens: until both answer, ask again (bounded).
    const pids = new Set<unknown>();
    for (let round = 0; round < 20 && pids.size < 2; round++) {
      const answers = await Promise.all(Array.from({ length: 8 }, () => fetchRaw(nginx!.port, '/slow?ms=100')));
      for (const r of answers) pids.add(jsonOf(r).pid);
    }
    assert.equal(pids.size, 2, `pids seen: ${[...pids].join(', ')}`);
    assert.ok(!pids.has(app!.child.pid), 'the primary only listens; workers answer');
  });
});
