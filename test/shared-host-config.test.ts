// What reaches the app under suEXEC, on the cPanel/DirectAdmin-like shared host
// (test/helpers/shared-host.ts), for docs/deploy/configuration.md's suEXEC columns: FcgidInitialEnv
// (server-wide) never reaches process.env, nor does its PATH; SetEnv in .htaccess reaches
// req.environ only (CGI: only the names on suEXEC's list); fcgi.env (600, the customer's) and
// `fcgi bundle --env` reach process.env; a 644 fcgi.env is refused (500, the fix in the error
// log); fcgi.env is never served; and a Node outside suEXEC's PATH, named with
// `fcgi bundle --node`, runs the app.
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fetchRaw } from './helpers/nginx.js';
import {
  fcgiBundle,
  SUEXEC_SAFE_PATH,
  sharedHostSkip,
  startSharedHost,
  type SharedHost,
} from './helpers/shared-host.js';

const skip = sharedHostSkip();
const NAMES = ['INITIAL_ENV', 'SET_ENV', 'TZ', 'FROM_FILE', 'FROM_BUNDLE', 'IN_BOTH'];

/** The host's server-wide settings a customer cannot change (and which never reach the app). */
const SERVER_CONFIG = `FcgidInitialEnv INITIAL_ENV initial
FcgidInitialEnv PATH /opt/fcgi-nowhere/bin:/usr/local/bin:/usr/bin:/bin
`;
/** The customer's per-directory settings, in .htaccess. */
const SET_ENV = 'SetEnv SET_ENV set\nSetEnv TZ Etc/UTC\n';

type Answer = Record<'env' | 'atImport' | 'environ', Record<string, string | null>>;

describe('configuration under suEXEC on the shared host', { skip, timeout: 240_000 }, () => {
  let host: SharedHost | undefined;
  let build = '';
  /** A Node outside suEXEC's PATH, as cPanel's /opt/alt/alt-nodejs20 is: a copy, owned by root. */
  let altRoot = '';
  let altNode = '';

  before(
    async () => {
      build = mkdtempSync(join(tmpdir(), 'fcgi-shared-host-config-'));
      altRoot = mkdtempSync('/opt/fcgi-test-alt-');
      chmodSync(altRoot, 0o755);
      mkdirSync(join(altRoot, 'node20/bin'), { recursive: true, mode: 0o755 });
      altNode = join(altRoot, 'node20/bin/node');
      copyFileSync(process.execPath, altNode);
      chmodSync(altNode, 0o755);
      const env = ['--env', 'FROM_BUNDLE=bundle', '--env', 'IN_BOTH=bundle'];
      const bundles = Promise.all([
        fcgiBundle('test/fixtures/env-app.ts', join(build, 'fcgid', 'app.fcgi'), '--htaccess', ...env),
        fcgiBundle('test/fixtures/env-app.ts', join(build, 'cgi', 'app.cgi'), '--htaccess', ...env),
        fcgiBundle('test/fixtures/shared-host-app.ts', join(build, 'alt', 'app.fcgi'), '--htaccess', '--node', altNode),
      ]);
      const [b, h] = await Promise.allSettled([bundles, startSharedHost('fcgi-shared-host-config-', SERVER_CONFIG)]);
      if (h.status === 'fulfilled') host = h.value;
      if (b.status === 'rejected') throw b.reason;
      if (h.status === 'rejected') throw h.reason;
      const alice = host!.alice;
      /** Uploads the bundle in build/`from` to public_html/`rel`: the app 755, its .htaccess plus `extra`. */
      const upload = (from: string, name: string, rel: string, extra = '') => {
        alice.mkdir(rel);
        alice.upload(`${rel}/.htaccess`, readFileSync(join(build, from, '.htaccess'), 'utf8') + extra);
        alice.uploadFile(`${rel}/${name}`, join(build, from, name), 0o755);
      };
      upload('fcgid', 'app.fcgi', 'config', SET_ENV);
      alice.upload('config/fcgi.env', 'FROM_FILE=file\nIN_BOTH=file\n', 0o600);
      upload('cgi', 'app.cgi', 'config-cgi', SET_ENV);
      alice.upload('config-cgi/fcgi.env', 'FROM_FILE=file\nIN_BOTH=file\n', 0o600);
      upload('fcgid', 'app.fcgi', 'config-refused');
      alice.upload('config-refused/fcgi.env', 'FROM_FILE=file\n', 0o644);
      // Without the .htaccess rule that refuses fcgi.env: only its mode keeps Apache out.
      alice.mkdir('config-no-rule');
      alice.upload(
        'config-no-rule/.htaccess',
        readFileSync(join(build, 'fcgid', '.htaccess'), 'utf8').replace(/^RewriteRule \^fcgi.*\n/m, ''),
      );
      alice.uploadFile('config-no-rule/app.fcgi', join(build, 'fcgid', 'app.fcgi'), 0o755);
      alice.upload('config-no-rule/fcgi.env', 'FROM_FILE=file\n', 0o600);
      upload('alt', 'app.fcgi', 'alt-node');
    },
    { timeout: 200_000 },
  );
  after(
    async () => {
      await host?.stop();
      if (build) rmSync(build, { recursive: true, force: true });
      if (altRoot) rmSync(altRoot, { recursive: true, force: true });
    },
    { timeout: 30_000 },
  );

  const ask = async (rel: string, names = NAMES) => {
    const r = await fetchRaw(host!.port, host!.alice.url(`${rel}/x?names=${names.join(',')}`));
    assert.equal(r.status, 200, `${r.body.toString().slice(0, 300)}\n${host!.errorLog().slice(-2000)}`);
    return JSON.parse(r.body.toString()) as Answer;
  };

  it('mod_fcgid: FcgidInitialEnv and its PATH never reach process.env; fcgi.env and bundle --env do; SetEnv only req.environ', {
    timeout: 30_000,
  }, async () => {
    const a = await ask('config', [...NAMES, 'PATH']);
    assert.deepEqual(a.env, {
      INITIAL_ENV: null, // FcgidInitialEnv: suEXEC clears the environment
      SET_ENV: null,
      TZ: null,
      FROM_FILE: 'file',
      FROM_BUNDLE: 'bundle',
      IN_BOTH: 'file', // fcgi.env wins over the bundle's value
      PATH: SUEXEC_SAFE_PATH.join(':'), // suEXEC's own, not FcgidInitialEnv PATH
    });
    assert.deepEqual(a.atImport, a.env, 'all of it set before the app module ran');
    const { PATH: _, ...environ } = a.environ;
    assert.deepEqual(environ, {
      INITIAL_ENV: null,
      SET_ENV: 'set',
      TZ: 'Etc/UTC',
      FROM_FILE: null,
      FROM_BUNDLE: null,
      IN_BOTH: null,
    });
  });

  it("CGI (mod_cgid): of SetEnv only the names on suEXEC's list arrive (TZ, not SET_ENV); fcgi.env and bundle --env reach process.env", {
    timeout: 30_000,
  }, async () => {
    const a = await ask('config-cgi', [...NAMES, 'PATH']);
    assert.deepEqual(a.env, {
      INITIAL_ENV: null,
      SET_ENV: null, // not on suEXEC's list: dropped
      TZ: 'Etc/UTC', // on it
      FROM_FILE: 'file',
      FROM_BUNDLE: 'bundle',
      IN_BOTH: 'file',
      PATH: SUEXEC_SAFE_PATH.join(':'),
    });
    assert.deepEqual(a.atImport, a.env);
    // Under CGI the request's params are the process's environment, read after fcgi.env was loaded.
    assert.deepEqual(
      {
        SET_ENV: a.environ.SET_ENV,
        TZ: a.environ.TZ,
        FROM_FILE: a.environ.FROM_FILE,
        FROM_BUNDLE: a.environ.FROM_BUNDLE,
      },
      { SET_ENV: null, TZ: 'Etc/UTC', FROM_FILE: 'file', FROM_BUNDLE: 'bundle' },
    );
  });

  it("fcgi.env is never served: 403 with the rule fcgi bundle --htaccess writes, and 403 without it (mode 600, not www-data's)", {
    timeout: 20_000,
  }, async () => {
    for (const rel of ['config', 'config-cgi', 'config-no-rule']) {
      const r = await fetchRaw(host!.port, host!.alice.url(`${rel}/fcgi.env`));
      assert.equal(r.status, 403, `${rel}/fcgi.env: ${r.body.toString().slice(0, 200)}`);
      assert.doesNotMatch(r.body.toString(), /FROM_FILE|file/);
    }
    assert.match(
      host!.errorLog(),
      /Permission denied.*config-no-rule\/fcgi\.env|config-no-rule\/fcgi\.env.*Permission denied/,
    );
    // The app beside it still answers, with the file's values.
    assert.equal((await ask('config-no-rule', ['FROM_FILE'])).env.FROM_FILE, 'file');
  });

  it('a 644 fcgi.env is refused: the production 500, the fix in the error log; chmod 600 and restart.txt serve', {
    timeout: 40_000,
  }, async () => {
    const t0 = Date.now();
    const r = await fetchRaw(host!.port, host!.alice.url('config-refused/x?names=FROM_FILE'), { timeoutMs: 20_000 });
    assert.equal(r.status, 500);
    assert.ok(Date.now() - t0 < 10_000, `answered in ${Date.now() - t0} ms`);
    assert.match(r.body.toString(), /500 Internal Server Error/);
    assert.doesNotMatch(r.body.toString(), /FROM_FILE|fcgi\.env|public_html/);
    const file = host!.alice.path('config-refused/fcgi.env');
    assert.match(
      host!.errorLog(),
      new RegExp(
        `\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z \\[pid \\d+\\] fcgi: the app did not start; every request gets a 500 until the app's file is replaced or restart\\.txt beside it is touched: ${file.replaceAll('.', '\\.')} is readable by every user of this machine \\(mode 644\\), .*fix: chmod 600 ${file.replaceAll('.', '\\.')}`,
      ),
    );
    // The fix, then restart.txt: the process that refused the file serves its 500 until then.
    chmodSync(file, 0o600);
    host!.alice.upload('config-refused/restart.txt', '');
    const deadline = Date.now() + 15_000;
    let status = 0;
    while (Date.now() < deadline) {
      status = (await fetchRaw(host!.port, host!.alice.url('config-refused/x?names=FROM_FILE'))).status;
      if (status === 200) break;
      await new Promise((res) => setTimeout(res, 250));
    }
    assert.equal(status, 200, host!.errorLog().slice(-1500));
    assert.equal((await ask('config-refused', ['FROM_FILE'])).env.FROM_FILE, 'file');
  });

  it("a Node outside suEXEC's PATH, named on the first line with fcgi bundle --node, runs the app", {
    timeout: 30_000,
  }, async () => {
    const app = readFileSync(host!.alice.path('alt-node/app.fcgi'), 'utf8');
    assert.ok(app.startsWith(`#!${altNode}\n`), app.slice(0, 100));
    const r = await fetchRaw(host!.port, host!.alice.url('alt-node/whoami'));
    assert.equal(r.status, 200, `${r.body.toString().slice(0, 300)}\n${host!.errorLog().slice(-1500)}`);
    const me = JSON.parse(r.body.toString()) as { user: string; node: string; path: string };
    assert.deepEqual(
      { user: me.user, node: me.node, path: me.path },
      { user: host!.alice.customer.name, node: altNode, path: SUEXEC_SAFE_PATH.join(':') },
    );
  });
});
