// An app that throws while loading (test/fixtures/broken-app.ts: its top-level await rejects),
// bundled and run as a host runs it: under a real Apache with mod_fcgid and with mod_cgi, under
// FCGI_LISTEN, and by hand behind the development gateway. The visitor gets the production 500 page
// at once (not a hang, no details), the error log says why with a time, and the fixed upload serves.
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, existsSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { waitForListener } from './helpers/app-process.js';
import { hasApacheModule } from './helpers/apache.js';
import { apacheDeploy, skipUnlessApache } from './helpers/apache-deploy.js';
import { APP_PATH, bundleApp, createDeployDir, type DeployDir } from './helpers/deploy-app.js';
import { get, until } from './helpers/lifecycle.js';
import { fetchRaw, freePort } from './helpers/nginx.js';
import { Child, fcgiGet } from './helpers/raw-client.js';

const UNIQUE_ID = hasApacheModule('unique_id');
const skip = skipUnlessApache(['fcgid', 'cgi'], 'apache2 libapache2-mod-fcgid');

const WHY = 'broken-app: the database at db.invalid:5432 refused the connection';
const TIME = '\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z';

/** The production 500 page: the status line, nothing of the error. */
function assertProduction500(status: number, body: string): void {
  assert.equal(status, 500, body);
  assert.match(body, /500 Internal Server Error/);
  assert.doesNotMatch(body, /database|broken-app|\/tmp\/|\.ts:\d|\bat /);
}

/** The documented atomic upload: copy beside it, then rename over. */
function uploadBeside(from: string, to: string): void {
  copyFileSync(from, `${to}.new`);
  chmodSync(`${to}.new`, 0o755);
  renameSync(`${to}.new`, to);
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

let bundles: DeployDir | undefined;
let broken = '';
let fixed = '';

before(
  async () => {
    bundles = await createDeployDir('fcgi-load-failure-bundles-');
    broken = join(bundles.path, 'broken.fcgi');
    fixed = join(bundles.path, 'fixed.fcgi');
    bundleApp('test/fixtures/broken-app.ts', broken);
    bundleApp('test/fixtures/version-app.ts', fixed);
  },
  { timeout: 90_000 },
);
after(async () => {
  await bundles?.remove();
});

describe('a bundle that fails to load, under Apache mod_fcgid and mod_cgi', { skip, timeout: 120_000 }, () => {
  let cgiPort = 0;
  const dirs = { fcgid: '', cgi: '' };
  const apache = apacheDeploy({
    prefix: 'fcgi-load-failure-',
    // mod_cgi wants prefork; mod_fcgid runs under it too.
    mpm: 'prefork',
    modules: ['rewrite', 'fcgid', 'cgi', ...(UNIQUE_ID ? ['unique_id'] : [])],
    fcgid: true,
    // The mod_fcgid site is www/fcgid; www/cgi is the mod_cgi site on its own port.
    docRoot: 'www/fcgid',
    setup: async ({ deploy, www }) => {
      dirs.fcgid = deploy.mkdir('www/fcgid');
      dirs.cgi = deploy.mkdir('www/cgi');
      uploadBeside(broken, join(dirs.fcgid, 'app.fcgi'));
      uploadBeside(broken, join(dirs.cgi, 'app.cgi'));
      writeFileSync(
        join(dirs.fcgid, '.htaccess'),
        'AddHandler fcgid-script .fcgi\nOptions +ExecCGI\nRewriteEngine On\nRewriteCond %{REQUEST_FILENAME} !-f\nRewriteRule ^(.*)$ app.fcgi/$1 [L,QSA]\n',
      );
      writeFileSync(
        join(dirs.cgi, '.htaccess'),
        'AddHandler cgi-script .cgi\nOptions +ExecCGI\nRewriteEngine On\nRewriteCond %{REQUEST_FILENAME} !-f\nRewriteRule ^(.*)$ app.cgi/$1 [L,QSA]\n',
      );
      cgiPort = await freePort();
      return `<Directory ${www}>
  Options +ExecCGI
  AllowOverride All
  Require all granted
</Directory>
FcgidIdleScanInterval 1
FcgidErrorScanInterval 1
FcgidZombieScanInterval 1
FcgidSpawnScoreUpLimit 1000
FcgidTerminationScore 0
StartServers 4
Listen 127.0.0.1:${cgiPort}
<VirtualHost 127.0.0.1:${cgiPort}>
  DocumentRoot ${dirs.cgi}
</VirtualHost>
`;
    },
  });

  it('mod_fcgid: every request gets the production 500 at once; the log says why; the fixed upload serves', {
    timeout: 60_000,
  }, async () => {
    for (let i = 0; i < 3; i++) {
      const t0 = Date.now();
      const r = await get(apache.port, `/version?try=${i}`, { Accept: 'text/html' });
      assertProduction500(r.status, r.body.toString());
      assert.ok(Date.now() - t0 < 5000, `answered in ${Date.now() - t0} ms`);
    }
    const log = apache.errorLog();
    const failed = new RegExp(
      `${TIME} \\[pid (\\d+)\\] fcgi: the app did not start; every request gets a 500 until the app's file is replaced or restart\\.txt beside it is touched: Error: ${WHY}\\n\\s+at `,
    ).exec(log);
    assert.ok(failed, log);
    const pid = Number(failed[1]);
    // Each answer is logged by the one renderer: time, request id (mod_unique_id's when loaded), method, URL.
    const id = UNIQUE_ID ? '[A-Za-z0-9@_-]{16,}' : `${pid}-\\d+`;
    assert.match(log, new RegExp(`${TIME} \\[req ${id}\\] GET /version\\?try=2: Error: ${WHY}`));
    // One process served them all: a broken app does not make mod_fcgid spawn one per request.
    assert.equal((log.match(/the app did not start/g) ?? []).length, 1, log);

    uploadBeside(fixed, join(dirs.fcgid, 'app.fcgi'));
    const ok = await get(apache.port, '/version');
    assert.equal(ok.status, 200, ok.body.toString());
    assert.equal((JSON.parse(ok.body.toString()) as { code: string }).code, 'code-version-1');
    await until(() => !existsSync(`/proc/${pid}`), 10_000, `the broken process ${pid} to exit`);
  });

  it('mod_cgi: the request gets the production 500 at once; the log says why; the fixed upload serves', {
    timeout: 60_000,
  }, async () => {
    const t0 = Date.now();
    const r = await fetchRaw(cgiPort, '/version', { headers: { Accept: 'text/html' } });
    assertProduction500(r.status, r.body.toString());
    assert.ok(Date.now() - t0 < 5000, `answered in ${Date.now() - t0} ms`);
    const log = apache.errorLog();
    assert.match(
      log,
      new RegExp(`${TIME} \\[pid \\d+\\] fcgi: the app did not start; this request gets a 500: Error: ${WHY}`),
    );
    assert.match(log, new RegExp(`${TIME} \\[req \\S+\\] GET /version: Error: ${WHY}`));

    uploadBeside(fixed, join(dirs.cgi, 'app.cgi'));
    const ok = await fetchRaw(cgiPort, '/version');
    assert.equal(ok.status, 200, ok.body.toString());
    assert.equal((JSON.parse(ok.body.toString()) as { code: string }).code, 'code-version-1');
  });
});

describe('a bundle that fails to load, run by itself', { timeout: 60_000 }, () => {
  let dir: DeployDir | undefined;
  const children: Child[] = [];

  before(async () => {
    dir = await createDeployDir('fcgi-load-failure-listen-');
  });
  after(async () => {
    await Promise.all(children.map((c) => c.stop()));
    await dir?.remove();
  });

  it('under FCGI_LISTEN: it listens, answers 500, and exits 0 once the fixed file is renamed over', {
    timeout: 30_000,
  }, async () => {
    const file = join(dir!.path, 'app.fcgi');
    uploadBeside(broken, file);
    const sock = join(dir!.path, 'app.sock');
    const child = new Child(file, [], { env: { PATH: APP_PATH, FCGI_LISTEN: sock } });
    children.push(child);
    await waitForListener(sock, 15_000, () => (child.proc.exitCode !== null ? `exited: ${child.stderr}` : null));
    const r = await fcgiGet(sock, '/version', 5000);
    assertProduction500(r.status, r.body.toString());
    assert.match(
      child.stderr,
      new RegExp(`^${TIME} \\[pid ${child.proc.pid}\\] fcgi: the app did not start; every request gets a 500`),
    );
    uploadBeside(fixed, file);
    assert.equal(await Promise.race([child.exited, sleep(8000).then(() => 'still running')]), 0);
    assert.match(child.stderr, /app\.fcgi was replaced \(a new file under its name\)/);
  });

  it('by hand (no web server): thrown on, so Node prints it and exits 1 at once, no 500 served', {
    timeout: 30_000,
  }, async () => {
    const child = new Child(broken, [], { env: { PATH: APP_PATH } });
    children.push(child);
    assert.equal(await Promise.race([child.exited, sleep(10_000).then(() => 'still running')]), 1);
    assert.match(
      child.stderr,
      new RegExp(`Error: ${WHY}\\n\\s+at connectToDatabase \\(.*broken-app\\.ts:\\d+:\\d+\\)`),
    );
    assert.doesNotMatch(child.stderr, /the app did not start/);
  });
});
