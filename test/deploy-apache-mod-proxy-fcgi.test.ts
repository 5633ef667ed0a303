// Apache 2.4 + mod_proxy_fcgi in front of the bundled matrix app running on its own (as www-data):
// on a unix socket at / and under /sub/, and on a TCP port under /tcp/, with the config of
// docs/deploy/apache-mod-proxy-fcgi.md.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { apacheDeploy, skipUnlessApache } from './helpers/apache-deploy.js';
import { bundleMatrixApp, startBundledApp, type RunningApp } from './helpers/deploy-app.js';
import { echoAt, matrixTests } from './helpers/deploy-matrix.js';
import { freePort } from './helpers/nginx.js';

const skip = skipUnlessApache(['proxy_fcgi'], 'apache2');

/**
 * The proxy part of the doc's config. Without `proxy-fcgi-pathinfo` mod_proxy_fcgi sends no
 * PATH_INFO and SCRIPT_NAME is the whole path: fine at /, but an app under /sub/ would see
 * /sub/echo. With it (set early, by SetEnvIf), PATH_INFO is the path below the prefix.
 */
export function proxyConfig(socket: string, tcpPort: number): string {
  return `SetEnvIf Request_URI "^/(sub|tcp)/" proxy-fcgi-pathinfo=unescape
ProxyPass /sub/ unix:${socket}|fcgi://localhost/
ProxyPass /tcp/ fcgi://127.0.0.1:${tcpPort}/
ProxyPass / unix:${socket}|fcgi://localhost/
`;
}

describe('Apache mod_proxy_fcgi to the bundled app on a unix socket and on TCP', { skip, timeout: 90_000 }, () => {
  const apps: RunningApp[] = [];
  const apache = apacheDeploy({
    prefix: 'fcgi-deploy-proxy-',
    mpm: 'event',
    modules: ['setenvif', 'proxy', 'proxy_fcgi'],
    setup: async ({ deploy, user }) => {
      // The app's own dir: it creates its socket there, as the user Apache connects as.
      const appDir = deploy.mkdir('app', user);
      const file = join(appDir, 'app.fcgi');
      bundleMatrixApp(file);
      const socket = join(appDir, 'app.sock');
      const tcpPort = await freePort();
      apps.push(await startBundledApp(file, socket, user, appDir));
      apps.push(await startBundledApp(file, `127.0.0.1:${tcpPort}`, user, appDir));
      return proxyConfig(socket, tcpPort);
    },
    cleanup: async () => {
      for (const app of apps) await app.stop();
    },
  });

  matrixTests({ port: () => apache.port, log: () => apache.errorLog() }, [
    { base: '', how: 'ProxyPass / unix socket' },
    { base: '/sub', how: 'ProxyPass /sub/ unix socket + proxy-fcgi-pathinfo' },
    { base: '/tcp', how: 'ProxyPass /tcp/ TCP + proxy-fcgi-pathinfo' },
  ]);

  it('the params: SCRIPT_NAME is the path at /, the prefix under /sub/ with PATH_INFO below it', {
    timeout: 15_000,
  }, async () => {
    const root = await echoAt(apache.port, '/echo?x=1');
    assert.equal(root.environ.SCRIPT_NAME, '/echo');
    assert.equal(root.environ.PATH_INFO, undefined);
    const sub = await echoAt(apache.port, '/sub/echo?x=1');
    assert.equal(sub.environ.SCRIPT_NAME, '/sub');
    assert.equal(sub.environ.PATH_INFO, '/echo');
    assert.equal(sub.environ.REQUEST_URI, '/sub/echo?x=1');
  });

  it('the apps logged nothing unexpected on their own stderr', { timeout: 5_000 }, () => {
    // Errors go over FCGI_STDERR to Apache's log, not to the app's stderr.
    for (const app of apps) assert.doesNotMatch(app.stderr(), /Error|Warning/);
  });
});
