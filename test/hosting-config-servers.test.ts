// What reaches the app behind nginx, lighttpd and Caddy (docs/deploy/configuration.md's table): the
// server's per-request params (fastcgi_param, setenv.add-environment, the fastcgi transport's env)
// land in req.environ only; lighttpd's bin-environment, fcgi.env and `fcgi bundle --env` in process.env.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ROOT, skipUnless } from './helpers/app-process.js';
import { CADDY, startCaddy } from './helpers/caddy.js';
import {
  APP_PATH,
  checkNodeRunnableBy,
  startBundledApp,
  webUser,
  type DeployDir,
  type RunningApp,
} from './helpers/deploy-app.js';
import { LIGHTTPD, startLighttpd } from './helpers/lighttpd.js';
import { fetchRaw, NGINX, startNginx } from './helpers/nginx.js';
import { serverDeploy } from './helpers/server-deploy.js';

const NAMES = 'SERVER_PARAM,BIN_ENV,FROM_FILE,FROM_BUNDLE';
type Answer = Record<'env' | 'atImport' | 'environ', Record<string, string | null>>;

/** The env app bundled with --env FROM_BUNDLE=bundle into a directory of the web user's in `deploy`, with its fcgi.env. */
function setUp(deploy: DeployDir): { appDir: string; file: string } {
  const user = webUser();
  checkNodeRunnableBy(user);
  const appDir = deploy.mkdir('app', webUser());
  const file = join(appDir, 'app.fcgi');
  const r = spawnSync(
    process.execPath,
    ['packages/core/dist/cli.js', 'bundle', 'test/fixtures/env-app.ts', file, '--env', 'FROM_BUNDLE=bundle'],
    { cwd: ROOT, encoding: 'utf8', timeout: 60_000 },
  );
  assert.equal(r.status, 0, r.stderr);
  const env = join(appDir, 'fcgi.env');
  writeFileSync(env, 'FROM_FILE=file\n');
  chmodSync(env, 0o600);
  if (user) {
    chownSync(env, user.uid, user.gid);
    chownSync(file, user.uid, user.gid);
  }
  return { appDir, file };
}

async function ask(port: number, path: string): Promise<Answer> {
  const r = await fetchRaw(port, `${path}?names=${NAMES}`);
  assert.equal(r.status, 200, r.body.toString());
  return JSON.parse(r.body.toString()) as Answer;
}

describe('configuration behind nginx (fastcgi_param)', { skip: skipUnless(NGINX, 'nginx'), timeout: 90_000 }, () => {
  let app: RunningApp | undefined;
  const site = serverDeploy({
    prefix: 'fcgi-config-nginx-',
    start: async (deploy) => {
      const s = setUp(deploy);
      const socket = join(s.appDir, 'app.sock');
      app = await startBundledApp(s.file, socket, webUser(), s.appDir);
      return startNginx(socket, {
        locations: `    location /cfg/ {
      include /etc/nginx/fastcgi_params;
      fastcgi_param SERVER_PARAM nginx;
      fastcgi_pass app;
    }
`,
      });
    },
    cleanup: () => app?.stop(),
  });

  it('fastcgi_param reaches req.environ only; fcgi.env and --env reach process.env', { timeout: 15_000 }, async () => {
    const a = await ask(site.server.port, '/cfg/x');
    assert.deepEqual(a.env, { SERVER_PARAM: null, BIN_ENV: null, FROM_FILE: 'file', FROM_BUNDLE: 'bundle' });
    assert.deepEqual(a.environ, { SERVER_PARAM: 'nginx', BIN_ENV: null, FROM_FILE: null, FROM_BUNDLE: null });
  });
});

describe('configuration behind lighttpd (bin-environment, setenv)', {
  skip: skipUnless(LIGHTTPD, 'lighttpd'),
  timeout: 90_000,
}, () => {
  const site = serverDeploy({
    prefix: 'fcgi-config-lighttpd-',
    start: (deploy) => {
      const s = setUp(deploy);
      return startLighttpd(deploy, {
        docRoot: deploy.mkdir('www'),
        user: webUser(),
        extra: `server.modules += ( "mod_setenv" )
setenv.add-environment = ( "SERVER_PARAM" => "lighttpd" )
fastcgi.server = (
  "/" => ((
    "bin-path" => "${s.file}",
    "socket" => "${join(s.appDir, 'spawned.sock')}",
    "check-local" => "disable",
    "fix-root-scriptname" => "enable",
    "max-procs" => 1,
    "bin-environment" => ( "HOME" => "${s.appDir}", "PATH" => "${APP_PATH}", "BIN_ENV" => "bin" ),
  )),
)
`,
      });
    },
  });

  it('bin-environment reaches process.env, setenv.add-environment req.environ', { timeout: 15_000 }, async () => {
    const a = await ask(site.server.port, '/x');
    assert.deepEqual(a.env, { SERVER_PARAM: null, BIN_ENV: 'bin', FROM_FILE: 'file', FROM_BUNDLE: 'bundle' });
    assert.deepEqual(a.environ, { SERVER_PARAM: 'lighttpd', BIN_ENV: null, FROM_FILE: null, FROM_BUNDLE: null });
  });
});

describe("configuration behind Caddy (the fastcgi transport's env)", {
  skip: skipUnless(CADDY, 'caddy'),
  timeout: 90_000,
}, () => {
  let app: RunningApp | undefined;
  const site = serverDeploy({
    prefix: 'fcgi-config-caddy-',
    start: async (deploy) => {
      const s = setUp(deploy);
      const socket = join(s.appDir, 'app.sock');
      app = await startBundledApp(s.file, socket, webUser(), s.appDir);
      return startCaddy(
        deploy,
        `reverse_proxy unix/${socket} {
	transport fastcgi {
		env SERVER_PARAM caddy
	}
}
`,
      );
    },
    cleanup: () => app?.stop(),
  });

  it('env in the fastcgi transport reaches req.environ only', { timeout: 15_000 }, async () => {
    const a = await ask(site.server.port, '/x');
    assert.deepEqual(a.env, { SERVER_PARAM: null, BIN_ENV: null, FROM_FILE: 'file', FROM_BUNDLE: 'bundle' });
    assert.deepEqual(a.environ, { SERVER_PARAM: 'caddy', BIN_ENV: null, FROM_FILE: null, FROM_BUNDLE: null });
  });
});
