// lighttpd + mod_fastcgi in front of the bundled matrix app two ways, with the config of
// docs/deploy/lighttpd.md: at / lighttpd spawns the app itself (bin-path: a listening socket on
// fd 0), under /sub/ it connects to an app already running on a unix socket.
import assert from 'node:assert/strict';
import { readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { skipUnless } from './helpers/app-process.js';
import {
  APP_PATH,
  bundleMatrixApp,
  checkNodeRunnableBy,
  startBundledApp,
  webUser,
  type RunningApp,
} from './helpers/deploy-app.js';
import { echoAt, matrixTests } from './helpers/deploy-matrix.js';
import { LIGHTTPD, startLighttpd } from './helpers/lighttpd.js';
import { descendants } from './helpers/process-tree.js';
import { serverDeploy } from './helpers/server-deploy.js';

const skip = skipUnless(LIGHTTPD, 'lighttpd');

/**
 * The fastcgi.server block of the doc. "/sub" without a trailing slash: lighttpd then sends
 * SCRIPT_NAME=/sub and PATH_INFO=/the/rest. At "/", fix-root-scriptname makes SCRIPT_NAME "" and
 * PATH_INFO the whole path (without it lighttpd would split off the first segment as SCRIPT_NAME).
 */
export function fastcgiServer(appFile: string, spawnSocket: string, runningSocket: string, home: string): string {
  return `fastcgi.server = (
  "/sub" => ((
    "socket" => "${runningSocket}",
    "check-local" => "disable",
  )),
  "/" => ((
    "bin-path" => "${appFile}",
    "socket" => "${spawnSocket}",
    "check-local" => "disable",
    "fix-root-scriptname" => "enable",
    "max-procs" => 1,
    "bin-environment" => ( "HOME" => "${home}", "PATH" => "${APP_PATH}" ),
  )),
)
`;
}

describe('lighttpd mod_fastcgi: a spawned app (bin-path) and a running one (socket)', { skip, timeout: 90_000 }, () => {
  let running: RunningApp | undefined;
  const user = webUser();
  const site = serverDeploy({
    prefix: 'fcgi-deploy-lighttpd-',
    start: async (deploy) => {
      checkNodeRunnableBy(user);
      const www = deploy.mkdir('www');
      // Owned by the web user: lighttpd (as www-data) creates the spawn socket here.
      const appDir = deploy.mkdir('app', user);
      const file = join(appDir, 'app.fcgi');
      bundleMatrixApp(file);
      const runningSocket = join(appDir, 'running.sock');
      running = await startBundledApp(file, runningSocket, user, appDir);
      return startLighttpd(deploy, {
        docRoot: www,
        user,
        extra: fastcgiServer(file, join(appDir, 'spawned.sock'), runningSocket, appDir),
      });
    },
    cleanup: () => running?.stop(),
  });

  matrixTests({ port: () => site.server.port, log: () => site.server.errorLog() }, [
    { base: '', how: 'bin-path: lighttpd spawns the app' },
    { base: '/sub', how: 'socket: an app already running' },
  ]);

  it('the params: SCRIPT_NAME "" at / (fix-root-scriptname), /sub below it, PATH_INFO the rest', {
    timeout: 15_000,
  }, async () => {
    const root = await echoAt(site.server.port, '/echo?x=1');
    assert.equal(root.environ.SCRIPT_NAME, '');
    assert.equal(root.environ.PATH_INFO, '/echo');
    const sub = await echoAt(site.server.port, '/sub/echo?x=1');
    assert.equal(sub.environ.SCRIPT_NAME, '/sub');
    assert.equal(sub.environ.PATH_INFO, '/echo');
  });

  it("the spawned app is lighttpd's child, serving on the socket lighttpd gave it as fd 0", { timeout: 5_000 }, () => {
    const apps = descendants(site.server.child.pid).filter(({ pid }) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'latin1').includes('app.fcgi');
      } catch {
        return false;
      }
    });
    assert.equal(apps.length, 1, 'max-procs 1: one app process below lighttpd');
    assert.match(readlinkSync(`/proc/${apps[0]!.pid}/fd/0`), /^socket:\[\d+\]$/);
    assert.doesNotMatch(site.server.errorLog(), /child exited|connect .* failed|Permission denied/i);
  });
});
