// Deploying a new version under a real Apache mod_fcgid (and under FCGI_LISTEN alone): the bundled
// test/fixtures/version-app.ts uploaded beside and renamed over app.fcgi, or its data.txt changed
// and restart.txt touched. Requests in flight finish on the old version, the next ones get the new
// one (a version string in the answer), none fails, and the old process exits by itself (the
// restart check) long before mod_fcgid's idle timeout (300 s by default) would retire it.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { waitForListener } from './helpers/app-process.js';
import { LOST_REQUEST, apacheDeploy, skipUnlessApache } from './helpers/apache-deploy.js';
import { APP_PATH, bundleApp, createDeployDir, type DeployDir, FCGID_HTACCESS } from './helpers/deploy-app.js';
import { getJson, until } from './helpers/lifecycle.js';
import { Child, fcgiGet, getParams, parseCgi, RawClient } from './helpers/raw-client.js';

const skip = skipUnlessApache(['fcgid'], 'apache2 libapache2-mod-fcgid');

interface Answer {
  code: string;
  data: string;
  pid: number;
}

/** GET /slow?ms=`ms` over FastCGI on `sock` (with its QUERY_STRING, which fcgiGet leaves empty). */
async function slowOver(sock: string, ms: number) {
  const client = await RawClient.connect(sock);
  try {
    client.sendRequest(1, { ...getParams(`/slow?ms=${ms}`), QUERY_STRING: `ms=${ms}` });
    return parseCgi((await client.reply(1, ms + 10_000)).stdout);
  } finally {
    client.close();
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const gone = (pid: number) => !existsSync(`/proc/${pid}`);

/** The bundle's text with its CODE_VERSION made `version`. */
function withCode(bundle: string, version: string): string {
  // The code is a string in the bundle (its quotes escaped): the version without them.
  assert.ok(bundle.includes('code-version-1'), 'the fixture bundle carries its version string');
  return bundle.replace('code-version-1', version);
}

/** The documented atomic upload: write app.fcgi.new beside it, then rename it over app.fcgi. */
function uploadBeside(file: string, text: string): void {
  writeFileSync(`${file}.new`, text, { mode: 0o755 });
  chmodSync(`${file}.new`, 0o755);
  renameSync(`${file}.new`, file);
}

describe('a new version under Apache mod_fcgid', { skip, timeout: 180_000 }, () => {
  let v1 = '';
  const apache = apacheDeploy({
    prefix: 'fcgi-new-version-',
    mpm: 'event',
    modules: ['rewrite', 'fcgid'],
    fcgid: true,
    app: { entry: 'test/fixtures/version-app.ts', file: 'app.fcgi', htaccess: FCGID_HTACCESS },
    setup: ({ www }) => {
      v1 = readFileSync(join(www, 'app.fcgi'), 'utf8');
      writeFileSync(join(www, 'data.txt'), 'data-1\n');
      // mod_fcgid's own idle retiring stays at its default (300 s): only the app's restart check
      // can make an old process go within the test's time.
      return `FcgidIdleScanInterval 1
FcgidErrorScanInterval 1
FcgidZombieScanInterval 1
FcgidSpawnScoreUpLimit 1000
FcgidTerminationScore 0
`;
    },
  });

  const version = async (path = '/version') => {
    const r = await getJson<Answer>(apache.port, path);
    assert.equal(r.status, 200, `${path}: ${r.raw.slice(0, 300)}`);
    return r.body;
  };

  /** `streams` clients sending GET /version one after another for `ms`; every answer (all 200). */
  async function streamFor(ms: number, streams = 2): Promise<Answer[]> {
    const seen: Answer[] = [];
    const end = Date.now() + ms;
    await Promise.all(
      Array.from({ length: streams }, async () => {
        while (Date.now() < end) seen.push(await version());
      }),
    );
    return seen;
  }

  const noErrors = () => assert.doesNotMatch(apache.errorLog(), LOST_REQUEST);

  it('uploaded beside and renamed over: in-flight requests finish on v1, the next ones get v2, the old process exits', {
    timeout: 60_000,
  }, async () => {
    const first = await version();
    assert.equal(first.code, 'code-version-1');
    const slow = Array.from({ length: 4 }, () => version('/slow?ms=2500'));
    await sleep(500); // the slow requests are in the old process now
    uploadBeside(join(apache.www, 'app.fcgi'), withCode(v1, 'code-version-2'));
    // mod_fcgid keys a process class by the script's device and inode: every request from now on
    // goes to a new class, started from the new file. The old process answers what it has.
    const during = await streamFor(3000);
    assert.ok(during.length >= 4, `${during.length} requests during the replacement`);
    assert.deepEqual([...new Set(during.map((a) => a.code))], ['code-version-2']);
    assert.ok(!during.some((a) => a.pid === first.pid), 'no request after the rename reached the old process');
    // Each process answers with the code it started with. The old process had the first slow
    // request; mod_fcgid started more processes of the old class for the others, and a process of
    // the old class started after the rename runs the new file (it spawns by path).
    const slowDone = await Promise.all(slow);
    assert.ok(
      slowDone.some((a) => a.pid === first.pid),
      'a slow request was in the old process',
    );
    for (const a of slowDone) if (a.pid === first.pid) assert.equal(a.code, 'code-version-1');
    // Without the restart check the old process would wait for FcgidIdleTimeout (300 s).
    await until(() => gone(first.pid), 10_000, `the old process ${first.pid} to exit`);
    // Every process that runs the old code sees its file replaced and exits.
    for (const pid of new Set(slowDone.filter((a) => a.code === 'code-version-1').map((a) => a.pid)))
      await until(() => gone(pid), 10_000, `${pid} (old code) to exit`);
    assert.match(
      apache.errorLog(),
      new RegExp(
        `\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z \\[pid ${first.pid}\\] fcgi: \\S*app\\.fcgi was replaced \\(a new file under its name\\): finishing \\d+ request\\(s\\) in flight`,
      ),
    );
    noErrors();
  });

  it('data.txt changed and restart.txt touched: in-flight requests finish, the next process reads the new data', {
    timeout: 60_000,
  }, async () => {
    const first = await version();
    assert.equal(first.data, 'data-1');
    writeFileSync(join(apache.www, 'data.txt'), 'data-2\n');
    assert.equal((await version()).data, 'data-1', 'read at start: a running process keeps it');
    const slow = Array.from({ length: 4 }, () => version('/slow?ms=2500'));
    await sleep(500);
    writeFileSync(join(apache.www, 'restart.txt'), '');
    // The same file, the same class: mod_fcgid sends requests to the draining process until it is
    // gone, then starts a new one. None may fail on the way.
    const during = await streamFor(5000);
    const slowDone = await Promise.all(slow);
    assert.ok(
      slowDone.some((a) => a.pid === first.pid),
      'a slow request was in the old process',
    );
    for (const a of slowDone) if (a.pid === first.pid) assert.equal(a.data, 'data-1');
    await until(() => gone(first.pid), 10_000, `the old process ${first.pid} to exit`);
    // Every process that read data-1 at start sees restart.txt touched and exits.
    for (const pid of new Set([...slowDone, ...during].filter((a) => a.data === 'data-1').map((a) => a.pid)))
      await until(() => gone(pid), 10_000, `${pid} (old data) to exit`);
    assert.ok(!during.some((a) => a.pid === first.pid && a.data !== 'data-1'));
    const after = await version();
    assert.equal(after.data, 'data-2');
    assert.notEqual(after.pid, first.pid);
    assert.match(
      apache.errorLog(),
      new RegExp(
        `Z \\[pid ${first.pid}\\] fcgi: \\S*restart\\.txt was touched: finishing \\d+ request\\(s\\) in flight`,
      ),
    );
    noErrors();
  });
});

describe('the restart check under FCGI_LISTEN', { timeout: 60_000 }, () => {
  let dir: DeployDir | undefined;
  let v1 = '';
  const children: Child[] = [];

  before(
    async () => {
      dir = await createDeployDir('fcgi-restart-check-');
      bundleApp('test/fixtures/version-app.ts', join(dir.path, 'app.fcgi'));
      v1 = readFileSync(join(dir.path, 'app.fcgi'), 'utf8');
    },
    { timeout: 60_000 },
  );
  after(async () => {
    await Promise.all(children.map((c) => c.stop()));
    await dir?.remove();
  });

  /** Starts a copy of v1 in its own directory on a unix socket; resolves once it listens. */
  async function start(name: string, env: Record<string, string> = {}) {
    const home = dir!.mkdir(name);
    const file = join(home, 'app.fcgi');
    writeFileSync(file, v1, { mode: 0o755 });
    const sock = join(home, 'app.sock');
    const child = new Child(file, [], { env: { PATH: APP_PATH, FCGI_LISTEN: sock, ...env } });
    children.push(child);
    await waitForListener(sock, 15_000, () => (child.proc.exitCode !== null ? `exited: ${child.stderr}` : null));
    return { home, file, sock, child };
  }

  it('renamed over: the request in flight is answered, then the process exits 0 with one line saying why', {
    timeout: 30_000,
  }, async () => {
    const { file, sock, child } = await start('rename');
    const inFlight = slowOver(sock, 1500);
    await sleep(300);
    uploadBeside(file, withCode(v1, 'code-version-2'));
    const r = await inFlight;
    assert.equal(r.status, 200);
    assert.equal((JSON.parse(r.body.toString()) as Answer).code, 'code-version-1');
    assert.equal(await Promise.race([child.exited, sleep(8000).then(() => 'still running')]), 0);
    const lines = child.stderr.trim().split('\n');
    assert.equal(lines.length, 1, child.stderr);
    assert.match(
      lines[0]!,
      new RegExp(
        `^\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z \\[pid ${child.proc.pid}\\] fcgi: \\S+/rename/app\\.fcgi was replaced \\(a new file under its name\\): finishing 1 request\\(s\\) in flight, then exiting for the new version$`,
      ),
    );
  });

  it('restart.txt touched: the process exits 0; with FCGI_RESTART_CHECK_INTERVAL=0 it serves on', {
    timeout: 30_000,
  }, async () => {
    const on = await start('touch');
    const off = await start('off', { FCGI_RESTART_CHECK_INTERVAL: '0' });
    writeFileSync(join(on.home, 'restart.txt'), '');
    writeFileSync(join(off.home, 'restart.txt'), '');
    assert.equal(await Promise.race([on.child.exited, sleep(8000).then(() => 'still running')]), 0);
    assert.match(on.child.stderr, /Z \[pid \d+\] fcgi: \S+\/touch\/restart\.txt was touched: finishing 0 request/);
    await sleep(1500);
    const r = await fcgiGet(off.sock, '/version', 10_000);
    assert.equal(r.status, 200, 'the check turned off: still serving');
    assert.equal(off.child.stderr, '');
  });
});
