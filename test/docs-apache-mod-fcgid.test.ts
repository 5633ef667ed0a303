// Runs docs/deploy/apache-mod-fcgid.md, the path of a root admin with Debian's Apache + mod_fcgid
// (no suEXEC, the app runs as www-data), command by command with test/helpers/doc-runner.ts: every
// ```sh block in page order as root, from a home folder of the test's; the site file written where
// its first line says; each ```text block compared with what its command printed.
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
import { ROOT, skipUnless } from './helpers/app-process.js';
import { APACHE, hasApacheModule } from './helpers/apache.js';
import { startDebianApache, type DebianApache } from './helpers/debian-apache.js';
import { checkNodeRunnableBy, createDeployDir, webUser, type DeployDir } from './helpers/deploy-app.js';
import { DocShell, fencedBlocks, npmCache, npmEnv, packCore, pageTests, readerPath } from './helpers/doc-runner.js';

const PAGE = 'docs/deploy/apache-mod-fcgid.md';
const skip =
  (process.getuid?.() !== 0 && "the page is a root admin's (sudo, www-data): runs as root only") ||
  skipUnless(APACHE && hasApacheModule('fcgid') ? APACHE : null, 'apache2 libapache2-mod-fcgid');

describe(`${PAGE}: every command, run on an Apache of the test's own`, { skip, timeout: 120_000 }, () => {
  let deploy: DeployDir | undefined;
  let host: DebianApache | undefined;
  let shell: DocShell | undefined;
  let tarball = '';
  let www = '';
  const user = webUser();
  const blocks = fencedBlocks(readFileSync(join(ROOT, PAGE), 'utf8'));

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
      deploy = await createDeployDir('fcgi-docs-fcgid-');
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
    page: PAGE,
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

  it(`${PAGE}: the .htaccess shown is what fcgi bundle --htaccess wrote`, () => {
    const shown = blocks.find((b) => b.lang === 'apache')!.text;
    assert.equal(shown, readFileSync(join(www, 'myapp/.htaccess'), 'utf8'));
  });

  it(`${PAGE}: the error of /fail is in Apache's error log with a stack naming src/app.ts`, () => {
    const log = host!.apache.errorLog();
    const at = log.indexOf('Error: the database password is hunter2');
    assert.ok(at >= 0, `not in the error log:\n${log.slice(-2000)}`);
    assert.match(log.slice(at, at + 2000), /\n.*\s+at .*src\/app\.ts:\d+:\d+/);
  });
});
