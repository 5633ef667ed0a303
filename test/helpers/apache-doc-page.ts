// The tests of a docs page that walks a root admin through Debian's Apache (apache-mod-fcgid.md,
// apache-mod-cgi.md): every command run with doc-runner.ts, as root, against an Apache of the test's
// own laid out as /etc/apache2 (debian-apache.ts), then what the page says of the files and the log.
//
// Substitutions, in commands, expected output and files alike (and nothing else):
//   - `sudo ` -> `` (the test is root);
//   - `/etc/apache2` -> the ServerRoot of test/helpers/debian-apache.ts, laid out as Debian's, and
//     the shell's APACHE_CONFDIR points Debian's a2enmod/a2ensite/apache2ctl at it;
//   - `/var/log/apache2/error.log` -> that Apache's error log; `/var/www` -> a folder of the test's;
//   - `<VirtualHost *:80>` -> `<VirtualHost *>`, `http://example.com` -> that Apache's loopback port;
//   - `npm install @fcgi/core` -> npm install <this repository's packages/core, packed>.
// A block marked `<!-- not run: ... -->` may hold only package installs and `systemctl restart
// apache2`, where the test stops its Apache and starts it again (on a new port) instead.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ROOT, skipUnless } from './app-process.js';
import { APACHE, hasApacheModule } from './apache.js';
import { startDebianApache, type DebianApache } from './debian-apache.js';
import { until } from './lifecycle.js';
import { checkNodeRunnableBy, createDeployDir, webUser, type DeployDir } from './deploy-app.js';
import { DocShell, fencedBlocks, npmCache, npmEnv, packCore, pageTests, readerPath } from './doc-runner.js';

export interface ApachePage {
  page: string;
  /** The Apache module the page enables (its .so must be installed), and the Debian package holding it. */
  module: string;
  pkg: string;
  /** The file the page bundles into /var/www/myapp: app.fcgi or app.cgi. */
  appFile: string;
  /** What else the page's steps must have left in Apache's error log (a restart's line, say). */
  logLines: readonly RegExp[];
}

export function apachePageTests(o: ApachePage): void {
  const skip =
    (process.getuid?.() !== 0 && "the page is a root admin's (sudo, www-data): runs as root only") ||
    skipUnless(APACHE && hasApacheModule(o.module) ? APACHE : null, o.pkg);

  describe(`${o.page}: every command, run on an Apache of the test's own`, { skip, timeout: 120_000 }, () => {
    let deploy: DeployDir | undefined;
    let host: DebianApache | undefined;
    let shell: DocShell | undefined;
    let tarball = '';
    let www = '';
    const user = webUser();
    const blocks = fencedBlocks(readFileSync(join(ROOT, o.page), 'utf8'));

    const subst = (text: string): string =>
      text
        .replaceAll('sudo ', '')
        .replaceAll('/etc/apache2', host!.confDir)
        .replaceAll('/var/log/apache2/error.log', host!.errorLogFile)
        .replaceAll('/var/www', www)
        .replaceAll('<VirtualHost *:80>', '<VirtualHost *>')
        .replaceAll('http://example.com', `http://127.0.0.1:${host!.apache.port}`)
        .replaceAll('npm install @fcgi/core', `npm install ${tarball}`);

    before(
      async () => {
        checkNodeRunnableBy(user);
        deploy = await createDeployDir('fcgi-docs-apache-');
        www = deploy.mkdir('www');
        const home = deploy.mkdir('home');
        tarball = packCore(deploy.mkdir('packs'));
        host = await startDebianApache(deploy, user);
        shell = new DocShell({
          cwd: home,
          user: null,
          cwdFile: join(deploy.path, '.cwd'),
          env: {
            HOME: home,
            PATH: `${readerPath()}:/usr/local/sbin:/usr/sbin:/sbin`,
            LANG: 'C.UTF-8',
            ...npmEnv(npmCache('docs-pages-npm', null, () => '')),
            ...host.env,
          },
        });
      },
      { timeout: 60_000 },
    );
    after(
      async () => {
        await host?.apache.stop();
        await deploy?.remove();
      },
      { timeout: 30_000 },
    );

    pageTests({
      page: o.page,
      blocks,
      shell: () => shell!,
      subst,
      fileLangs: ['ts', 'apache'],
      notRunLines: /^sudo (apt-get install [\w .-]+|systemctl restart apache2)$/,
      onNotRun: async (b) => {
        if (b.text.includes('systemctl restart apache2')) await host!.restart();
      },
      timeoutMs: 20_000,
      diagnose: () => `\nApache's error log:\n${host!.apache.errorLog().slice(-3000)}`,
    });

    it(`${o.page}: the .htaccess shown is what fcgi bundle --htaccess wrote`, () => {
      const shown = blocks.find((b) => b.lang === 'apache')!.text;
      assert.equal(shown, readFileSync(join(www, 'myapp/.htaccess'), 'utf8'));
      assert.match(shown, new RegExp(`app\\.${o.appFile.split('.')[1]}/\\$1`));
    });

    it(`${o.page}: the error of /fail is in Apache's error log with a stack naming src/app.ts, and the restarts the page made`, async () => {
      const log = host!.apache.errorLog();
      const at = log.indexOf('Error: the database password is hunter2');
      assert.ok(at >= 0, `not in the error log:\n${log.slice(-2000)}`);
      assert.match(log.slice(at, at + 3000), /\n.*\s+at .*src\/app\.ts:\d+:\d+/);
      // The replaced process notices its new file within a second of the page's last command.
      for (const line of o.logLines) await until(() => line.test(host!.apache.errorLog()), 5000, `${line} in the log`);
    });
  });
}
