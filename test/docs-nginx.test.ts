// Runs docs/deploy/nginx.md, the path of a root admin with nginx in front of the app run by systemd,
// command by command with test/helpers/doc-runner.ts: every ```sh block in page order as root from a
// home folder of the test's, the unit and the site file written where their first lines say, each
// ```text block compared with what its command printed. nginx is the test's own, laid out as
// Debian's /etc/nginx (nginx.conf including sites-enabled/*, fastcgi_params).
//
// Substitutions, in commands, expected output and files alike (and nothing else):
//   - `sudo ` -> `` (the test is root);
//   - `/etc/nginx` -> the test's nginx folder; `nginx` on the shell's PATH is a wrapper that passes
//     its config file, prefix and error log (-c, -p, -e); `/var/log/nginx/error.log` -> that log;
//   - `/etc/systemd/system`, `/srv`, `/run` -> folders of the test's;
//   - `listen 80;` and `http://example.com` -> a free loopback port;
//   - `npm install @fcgi/core` -> npm install <this repository's packages/core, packed>.
// A block marked `<!-- not run: ... -->` may hold only package installs and systemctl lines: where
// the page enables the unit, the test runs it with test/helpers/unit-runner.ts (ExecStart= with
// the test's node as its User=, Environment=, RuntimeDirectory=, Restart=always); where it reloads
// nginx, the test sends the test's nginx SIGHUP and waits for the site's port.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ROOT, signalPid, skipUnless, waitForListener } from './helpers/app-process.js';
import { checkNodeRunnableBy, createDeployDir, webUser, type DeployDir } from './helpers/deploy-app.js';
import {
  blockFile,
  DocShell,
  fencedBlocks,
  npmCache,
  npmEnv,
  packCore,
  pageTests,
  readerPath,
} from './helpers/doc-runner.js';
import { until } from './helpers/lifecycle.js';
import { NGINX, freePort } from './helpers/nginx.js';
import { collectOutput, logReader, stopTree } from './helpers/process-tree.js';
import { lookupUser, parseUnit, runUnit, type RunningUnit } from './helpers/unit-runner.js';

const PAGE = 'docs/deploy/nginx.md';
const skip =
  (process.getuid?.() !== 0 && "the page is a root admin's (sudo, www-data): runs as root only") ||
  skipUnless(NGINX, 'nginx');

/** Debian's /etc/nginx/nginx.conf, reduced, with the test's paths; in the foreground. */
function nginxConf(dir: string, user: string | null): string {
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((k) => `  ${k}_temp_path ${join(dir, k)};`);
  return [
    'daemon off;',
    'worker_processes 1;',
    user ? `user ${user};` : '',
    `pid ${join(dir, 'nginx.pid')};`,
    `error_log ${join(dir, 'error.log')} warn;`,
    'events { worker_connections 256; }',
    'http {',
    '  access_log off;',
    ...temp,
    `  include ${join(dir, 'sites-enabled')}/*;`,
    '}',
    '',
  ].join('\n');
}

describe(`${PAGE}: every command, run on an nginx of the test's own`, { skip, timeout: 120_000 }, () => {
  let deploy: DeployDir | undefined;
  let shell: DocShell | undefined;
  let nginx: ChildProcess | undefined;
  let unit: RunningUnit | undefined;
  let tarball = '';
  let dir = '';
  let port = 0;
  const paths: Record<string, string> = {};
  const user = webUser();
  const blocks = fencedBlocks(readFileSync(join(ROOT, PAGE), 'utf8'));
  const errorLog = () => logReader(join(dir, 'error.log'))();

  const subst = (text: string): string =>
    text
      .replaceAll('sudo ', '')
      .replaceAll('/etc/nginx', dir)
      .replaceAll('/var/log/nginx/error.log', join(dir, 'error.log'))
      .replaceAll('/etc/systemd/system', paths.systemd!)
      .replaceAll('/srv/', `${paths.srv!}/`)
      .replaceAll('/run/', `${paths.run!}/`)
      .replaceAll('listen 80;', `listen 127.0.0.1:${port};`)
      .replaceAll('http://example.com', `http://127.0.0.1:${port}`)
      .replaceAll('npm install @fcgi/core', `npm install ${tarball}`);

  before(
    async () => {
      checkNodeRunnableBy(user);
      deploy = await createDeployDir('fcgi-docs-nginx-');
      dir = deploy.mkdir('nginx');
      deploy.mkdir('nginx/sites-available');
      deploy.mkdir('nginx/sites-enabled');
      paths.systemd = deploy.mkdir('systemd');
      paths.srv = deploy.mkdir('srv');
      paths.run = deploy.mkdir('run');
      const home = deploy.mkdir('home');
      const bin = deploy.mkdir('bin');
      copyFileSync('/etc/nginx/fastcgi_params', join(dir, 'fastcgi_params'));
      writeFileSync(join(dir, 'nginx.conf'), nginxConf(dir, user?.name ?? null));
      // `nginx -t` and the like act on this nginx, never on the system's.
      const wrapper = join(bin, 'nginx');
      writeFileSync(
        wrapper,
        `#!/bin/sh\nexec ${NGINX} -p ${dir}/ -c ${join(dir, 'nginx.conf')} -e ${join(dir, 'error.log')} "$@"\n`,
      );
      chmodSync(wrapper, 0o755);
      tarball = packCore(deploy.mkdir('packs'));
      port = await freePort();
      nginx = spawn(NGINX!, ['-p', `${dir}/`, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      const output = collectOutput(nginx);
      await until(
        () => {
          if (nginx!.exitCode !== null) throw new Error(`nginx exited: ${output()}${errorLog()}`);
          return existsSync(join(dir, 'nginx.pid'));
        },
        10_000,
        'nginx wrote its pid file',
      );
      shell = new DocShell({
        cwd: home,
        user: null,
        cwdFile: join(deploy.path, '.cwd'),
        env: {
          HOME: home,
          PATH: `${readerPath(bin)}:/usr/local/sbin:/usr/sbin:/sbin`,
          LANG: 'C.UTF-8',
          ...npmEnv(npmCache('docs-pages-npm', null, () => '')),
        },
      });
    },
    { timeout: 60_000 },
  );
  after(
    async () => {
      await unit?.stop();
      if (nginx) await stopTree(nginx, 5000);
      await deploy?.remove();
    },
    { timeout: 30_000 },
  );

  /** The unit the page writes, as the test wrote it. */
  const unitText = () => {
    const b = blocks.find((x) => x.lang === 'ini' && blockFile(x, ['ini']) !== null);
    assert.ok(b, 'the page shows a unit file');
    return readFileSync(subst(blockFile(b, ['ini'])!), 'utf8');
  };

  pageTests({
    page: PAGE,
    blocks,
    shell: () => shell!,
    subst,
    fileLangs: ['ts', 'ini', 'nginx'],
    notRunLines: /^sudo (apt-get install [\w .-]+|systemctl (daemon-reload|enable --now myapp|reload nginx))$/,
    onNotRun: async (b) => {
      if (b.text.includes('systemctl enable --now myapp')) {
        const u = parseUnit(unitText());
        assert.match(u.execStart[0]!, /^\/usr\/bin\/node$/, 'ExecStart= names node');
        u.execStart[0] = process.execPath;
        assert.ok(u.env.FCGI_LISTEN, 'the unit sets FCGI_LISTEN');
        unit = runUnit(u, paths.run!, user && u.user ? lookupUser(u.user) : null);
        await waitForListener(u.env.FCGI_LISTEN, 15_000, () =>
          unit!.stderr().includes('spawn failed') ? `the unit did not start: ${unit!.stderr()}` : null,
        );
      }
      if (b.text.includes('systemctl reload nginx')) {
        signalPid(nginx!.pid, 'SIGHUP');
        await waitForListener(port, 10_000, () => (nginx!.exitCode !== null ? `nginx exited: ${errorLog()}` : null));
      }
    },
    timeoutMs: 20_000,
    diagnose: () => `\nnginx's error log:\n${errorLog().slice(-3000)}\nthe app's stderr:\n${unit?.stderr() ?? ''}`,
  });

  it(`${PAGE}: the error of /fail is in nginx's error log with a stack naming src/app.ts`, () => {
    const log = errorLog();
    const at = log.indexOf('Error: the database password is hunter2');
    assert.ok(at >= 0, `not in the error log:\n${log.slice(-2000)}`);
    assert.match(log.slice(at, at + 3000), /\s+at .*src\/app\.ts:\d+:\d+/);
  });

  it(`${PAGE}: the new version replaced the running process, and systemd's Restart=always started the next`, async () => {
    assert.match(unitText(), /^Restart=always$/m);
    await until(() => unit!.starts() >= 2, 10_000, 'a second start');
    assert.match(unit!.stderr(), /app\.fcgi was replaced/);
  });
});
