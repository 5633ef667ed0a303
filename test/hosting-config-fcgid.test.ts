// What reaches the app behind Apache mod_fcgid without suEXEC (docs/deploy/configuration.md's table):
// FcgidInitialEnv, SetEnv, PassEnv, fcgi.env and `fcgi bundle --env`, each in process.env or in
// req.environ; fcgi.env never served (the --htaccess rule needs only AllowOverride FileInfo, where
// <Files> + Require breaks the whole directory); a refused fcgi.env is a start-up failure in the log.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ROOT } from './helpers/app-process.js';
import { apacheDeploy, skipUnlessApache } from './helpers/apache-deploy.js';
import { installCopy } from './helpers/deploy-app.js';
import { fetchRaw } from './helpers/nginx.js';

const skip = skipUnlessApache(['fcgid'], 'apache2 libapache2-mod-fcgid');
const NAMES = 'INITIAL_ENV,SET_ENV,LANG,FROM_FILE,FROM_BUNDLE,IN_BOTH';

type Answer = Record<'env' | 'atImport' | 'environ', Record<string, string | null>>;

describe('configuration behind Apache mod_fcgid (no suEXEC)', { skip, timeout: 120_000 }, () => {
  const apache = apacheDeploy({
    prefix: 'fcgi-config-fcgid-',
    mpm: 'event',
    modules: ['rewrite', 'fcgid', 'env', 'cgid'],
    fcgid: true,
    setup: ({ deploy, www }) => {
      const app = join(www, 'app.fcgi');
      const r = spawnSync(
        process.execPath,
        [
          'packages/core/dist/cli.js',
          'bundle',
          'test/fixtures/env-app.ts',
          app,
          '--htaccess',
          '--env',
          'FROM_BUNDLE=bundle',
          '--env',
          'IN_BOTH=bundle',
        ],
        { cwd: ROOT, encoding: 'utf8', timeout: 60_000 },
      );
      assert.equal(r.status, 0, r.stderr);
      const htaccess = readFileSync(join(www, '.htaccess'), 'utf8');
      // The same app as CGI (mod_cgid), with the same per-directory settings.
      const cgiDir = deploy.mkdir('www/cgi');
      const cgi = spawnSync(
        process.execPath,
        ['packages/core/dist/cli.js', 'bundle', 'test/fixtures/env-app.ts', join(cgiDir, 'app.cgi'), '--htaccess'],
        { cwd: ROOT, encoding: 'utf8', timeout: 60_000 },
      );
      assert.equal(cgi.status, 0, cgi.stderr);
      writeFileSync(
        join(cgiDir, '.htaccess'),
        `${readFileSync(join(cgiDir, '.htaccess'), 'utf8')}SetEnv SET_ENV set\nPassEnv LANG\n`,
      );
      envFile(cgiDir, 'FROM_FILE=file\nSET_ENV=file\n', 0o600);
      // Per-directory settings a customer may write: SetEnv and PassEnv (LANG is in Apache's environment).
      writeFileSync(join(www, '.htaccess'), `${htaccess}SetEnv SET_ENV set\nPassEnv LANG\n`);
      envFile(www, 'FROM_FILE=file\nIN_BOTH=file\nINITIAL_ENV=file\n', 0o600);
      for (const sub of ['limited', 'files-require', 'refused']) {
        const dir = deploy.mkdir(`www/${sub}`);
        installCopy(app, join(dir, 'app.fcgi'));
        writeFileSync(join(dir, '.htaccess'), htaccess);
        envFile(dir, 'FROM_FILE=file\n', sub === 'refused' ? 0o644 : 0o600);
      }
      // Without the rule, as under suEXEC: mode 600 and another owner than Apache's user.
      const noRule = deploy.mkdir('www/no-rule');
      writeFileSync(join(noRule, '.htaccess'), htaccess.replace(/^RewriteRule \^fcgi.*\n/m, ''));
      writeFileSync(join(noRule, 'fcgi.env'), 'FROM_FILE=file\n', { mode: 0o600 });
      // Debian's stock userdir.conf: Options without ExecCGI, and .htaccess may not set Options.
      for (const sub of ['no-exec', 'no-exec-options']) {
        const dir = deploy.mkdir(`www/${sub}`);
        installCopy(app, join(dir, 'app.fcgi'));
        writeFileSync(join(dir, '.htaccess'), sub === 'no-exec' ? htaccess.replace(/^Options .*\n/m, '') : htaccess);
      }
      // What the docs once suggested: <Files> with Require, which needs AllowOverride AuthConfig.
      writeFileSync(
        join(www, 'files-require', '.htaccess'),
        `${htaccess}<Files "fcgi.env">\n  Require all denied\n</Files>\n`,
      );
      return `FcgidInitialEnv INITIAL_ENV initial
FcgidIOTimeout 20
ScriptSock ${join(deploy.path, 'apache', 'run', 'cgid.sock')}
# Limited overrides, as shared hosts set them: no AuthConfig.
<Directory ${www}/limited>
  AllowOverride FileInfo Options=ExecCGI
</Directory>
<Directory ${www}/no-exec>
  Options MultiViews Indexes SymLinksIfOwnerMatch IncludesNoExec
  AllowOverride FileInfo AuthConfig Limit Indexes
</Directory>
<Directory ${www}/no-exec-options>
  Options MultiViews Indexes SymLinksIfOwnerMatch IncludesNoExec
  AllowOverride FileInfo AuthConfig Limit Indexes
</Directory>
<Directory ${www}/files-require>
  AllowOverride FileInfo Options=ExecCGI
</Directory>
`;
    },
    startTimeout: 90_000,
  });
  const user = apache.user;

  /** Writes dir/fcgi.env with `mode`, owned by the user the app runs as. */
  function envFile(dir: string, text: string, mode: number): void {
    const file = join(dir, 'fcgi.env');
    writeFileSync(file, text);
    chmodSync(file, mode);
    if (user) chownSync(file, user.uid, user.gid);
  }

  it('process.env: FcgidInitialEnv, then fcgi.env, then bundle --env; req.environ: SetEnv and PassEnv', {
    timeout: 20_000,
  }, async () => {
    const r = await fetchRaw(apache.port, `/anything?names=${NAMES}`);
    assert.equal(r.status, 200, r.body.toString() + apache.errorLog());
    const a = JSON.parse(r.body.toString()) as Answer;
    assert.deepEqual(a.env, {
      INITIAL_ENV: 'initial', // the environment wins over fcgi.env
      SET_ENV: null,
      LANG: null,
      FROM_FILE: 'file',
      FROM_BUNDLE: 'bundle',
      IN_BOTH: 'file', // fcgi.env wins over the bundle's value
    });
    assert.deepEqual(a.atImport, a.env, 'all of it set before the app module ran');
    assert.deepEqual(a.environ, {
      INITIAL_ENV: null,
      SET_ENV: 'set',
      LANG: 'C',
      FROM_FILE: null,
      FROM_BUNDLE: null,
      IN_BOTH: null,
    });
  });

  it('CGI (mod_cgid): SetEnv and PassEnv reach process.env too (the CGI environment), and win over fcgi.env; req.environ is the process environment', {
    timeout: 20_000,
  }, async () => {
    const r = await fetchRaw(apache.port, `/cgi/x?names=${NAMES}`);
    assert.equal(r.status, 200, r.body.toString() + apache.errorLog());
    const a = JSON.parse(r.body.toString()) as Answer;
    assert.deepEqual(a.env, {
      INITIAL_ENV: null, // FcgidInitialEnv is mod_fcgid's
      SET_ENV: 'set',
      LANG: 'C',
      FROM_FILE: 'file',
      FROM_BUNDLE: null,
      IN_BOTH: null,
    });
    assert.equal(a.environ.SET_ENV, 'set');
    // Under CGI the request's params are the process's environment: read after fcgi.env was loaded.
    assert.equal(a.environ.FROM_FILE, 'file');
  });

  it('fcgi.env is refused to visitors (403), the app answers beside it', { timeout: 20_000 }, async () => {
    for (const path of ['/fcgi.env', '/limited/fcgi.env']) {
      const r = await fetchRaw(apache.port, path);
      assert.equal(r.status, 403, `${path}: ${r.body.toString()}`);
      assert.doesNotMatch(r.body.toString(), /FROM_FILE/);
    }
    const r = await fetchRaw(apache.port, `/limited/x?names=FROM_FILE`);
    assert.equal(r.status, 200, apache.errorLog());
    assert.equal((JSON.parse(r.body.toString()) as Answer).env.FROM_FILE, 'file');
  });

  it("without the rule, a 600 fcgi.env of another user than Apache's is not served either (as under suEXEC)", {
    timeout: 20_000,
    skip: user ? false : "needs root: Apache must run as another user (www-data) than the file's owner",
  }, async () => {
    const r = await fetchRaw(apache.port, '/no-rule/fcgi.env');
    assert.equal(r.status, 403);
    assert.doesNotMatch(r.body.toString(), /FROM_FILE/);
    assert.match(apache.errorLog(), /Permission denied.*no-rule\/fcgi\.env|no-rule\/fcgi\.env.*Permission denied/);
  });

  it("Debian's stock userdir options: no Options line gives 403, Options +ExecCGI gives 500; doctor says both", {
    timeout: 30_000,
  }, async () => {
    let r = await fetchRaw(apache.port, '/no-exec/x');
    assert.equal(r.status, 403);
    assert.match(apache.errorLog(), /location of script .*no-exec\/app\.fcgi does not have ExecCGI enabled/);
    r = await fetchRaw(apache.port, '/no-exec-options/x');
    assert.equal(r.status, 500);
    assert.match(apache.errorLog(), /no-exec-options\/\.htaccess: Options not allowed here/);
    const www = apache.www;
    const d = spawnSync(
      process.execPath,
      [join(ROOT, 'packages/core/dist/cli.js'), 'doctor', '--no-load', 'app.fcgi'],
      {
        cwd: join(www, 'no-exec'),
        encoding: 'utf8',
        timeout: 30_000,
      },
    );
    assert.match(d.stdout, /WARNING {2}\.htaccess ExecCGI: no Options \+ExecCGI: .*does not have ExecCGI enabled/);
    assert.match(d.stdout, /fix: add the line: Options \+ExecCGI .*"Options not allowed here".*ask the host/);
  });

  it('<Files> + Require under AllowOverride without AuthConfig: 500 for the whole directory', {
    timeout: 20_000,
  }, async () => {
    const r = await fetchRaw(apache.port, '/files-require/x');
    assert.equal(r.status, 500);
    assert.match(apache.errorLog(), /\.htaccess: Require not allowed in <Files> context/);
  });

  it('a refused fcgi.env stops the start: 500, the fix in the error log', {
    timeout: 40_000,
  }, async () => {
    const r = await fetchRaw(apache.port, '/refused/x?names=FROM_FILE', { timeoutMs: 30_000 });
    assert.equal(r.status, 500);
    assert.doesNotMatch(r.body.toString(), /FROM_FILE/);
    assert.match(
      apache.errorLog(),
      /the app did not start; every request gets a 500 .*refused\/fcgi\.env is readable by every user .*fix: chmod 600/,
    );
  });
});
