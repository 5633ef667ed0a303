// fcgi doctor and `node app.fcgi --check` on real files with each upload mistake a customer makes
// (made here in temp dirs): each finding with its fix in plain words, exit status 1; a clean
// upload passes. Doctor runs as a child process, as a customer runs it over SSH.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { ROOT } from './helpers/app-process.js';
import { APP_PATH, createDeployDir, installCopy, type DeployDir } from './helpers/deploy-app.js';

const CLI = join(ROOT, 'packages/core/dist/cli.js');
const CORE = pathToFileURL(join(ROOT, 'packages/core/dist/index.js')).href;
/** util-linux's prlimit, to run doctor under an address-space limit. */
const PRLIMIT = '/usr/bin/prlimit';
const ROOT_ONLY = process.getuid?.() === 0 ? false : 'needs root to give files to another user (nobody)';

function run(command: string, args: string[], cwd: string, path = APP_PATH) {
  const r = spawnSync(command, args, { cwd, env: { PATH: path }, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, out: r.stdout, err: r.stderr };
}

/** `fcgi doctor file` in the file's directory, by suEXEC's rules unless `server` says otherwise. */
function doctor(dir: string, file = 'app.fcgi', path?: string, server = 'suexec') {
  return run(process.execPath, [CLI, 'doctor', file, '--server', server], dir, path);
}

/**
 * Asserts one finding of `level` for `check` whose text (its lines up to the fix) matches
 * `message`, followed by the fix line matching `fix`.
 */
function assertProblem(out: string, check: string, message: RegExp, fix: RegExp, level = 'PROBLEM'): void {
  const lines = out.split('\n');
  const i = lines.findIndex((l) => l.startsWith(`${level.padEnd(8)} ${check}:`));
  assert.ok(i >= 0, `no ${level} for ${check} in:\n${out}`);
  const f = lines.findIndex((l, j) => j > i && l.startsWith('         fix: '));
  assert.ok(f > i, `no fix after ${level} ${check} in:\n${out}`);
  assert.match(lines.slice(i, f).join('\n'), message);
  assert.match(lines[f]!, fix);
}

describe('fcgi doctor', { timeout: 240_000 }, () => {
  let deploy: DeployDir | undefined;
  let bundled = '';
  let htaccess = '';
  let n = 0;

  /** A fresh directory with a copy of the clean upload (app.fcgi and its .htaccess). */
  function upload(): string {
    const dir = deploy!.mkdir(`case-${n++}`);
    installCopy(bundled, join(dir, 'app.fcgi'));
    writeFileSync(join(dir, '.htaccess'), htaccess);
    return dir;
  }

  before(
    async () => {
      deploy = await createDeployDir('fcgi-doctor-');
      const dir = deploy.mkdir('built');
      bundled = join(dir, 'app.fcgi');
      const r = spawnSync(process.execPath, [CLI, 'bundle', 'test/fixtures/env-app.ts', bundled, '--htaccess'], {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: 60_000,
      });
      assert.equal(r.status, 0, r.stderr);
      htaccess = readFileSync(join(dir, '.htaccess'), 'utf8');
    },
    { timeout: 90_000 },
  );
  after(async () => {
    await deploy?.remove();
  });

  it('passes a clean upload, and says how the app would serve', () => {
    const dir = upload();
    const r = doctor(dir);
    assert.equal(r.status, 0, r.out + r.err);
    assert.doesNotMatch(r.out, /PROBLEM/);
    assert.match(r.out, /^ok {7}interpreter: the first line runs \S+ \(Node v\d+/m);
    assert.match(
      r.out,
      /^ok {7}app loads: the app loaded and called serve\(\): started here it would serve the development HTTP gateway/m,
    );
    assert.match(r.out, /^no problems found/m);
  });

  it('finds the one app file in the working directory when none is named', () => {
    const dir = upload();
    const r = run(process.execPath, [CLI, 'doctor', '--no-load'], dir);
    assert.equal(r.status, 0, r.out + r.err);
    assert.match(r.out, /^fcgi doctor: app\.fcgi$/m);
  });

  it('CR LF line ends: node\\r is not found; doctor says how to convert the file', () => {
    const dir = upload();
    const file = join(dir, 'app.fcgi');
    writeFileSync(file, readFileSync(file, 'latin1').replace('\n', '\r\n'), 'latin1');
    // What the server's error log would say, for real:
    assert.match(run(file, [], dir).err, /'node\\r': No such file or directory/);
    const r = doctor(dir);
    assert.equal(r.status, 1);
    assertProblem(r.out, 'line ends', /Windows line ends \(CR LF\).*"node\\r"/, /sed -i 's\/\\r\$\/\/' app\.fcgi/);
    // The app's code itself is still checked, with this Node.
    assert.match(r.out, /^ok {7}app loads: .*\(run as: /m);
  });

  it('a byte order mark before #!', () => {
    const dir = upload();
    const file = join(dir, 'app.fcgi');
    writeFileSync(file, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), readFileSync(file)]));
    const r = doctor(dir);
    assert.equal(r.status, 1);
    assertProblem(r.out, 'first line', /byte order mark/, /without BOM/);
  });

  it('no exec bit', () => {
    const dir = upload();
    chmodSync(join(dir, 'app.fcgi'), 0o644);
    const r = doctor(dir);
    assert.equal(r.status, 1);
    assertProblem(
      r.out,
      'exec bit',
      /not executable \(mode 644\).*suexec policy violation.*; under mod_fcgid the visitor may wait seconds for it, or get a 503 after about a minute$/,
      /chmod 755 app\.fcgi$/,
    );
  });

  it('a group-writable file, and a group-writable directory (suEXEC refuses both)', () => {
    const dir = upload();
    chmodSync(join(dir, 'app.fcgi'), 0o775);
    chmodSync(dir, 0o777);
    const r = doctor(dir);
    assert.equal(r.status, 1);
    assertProblem(
      r.out,
      'write bits',
      /writable by its group \(mode 775\).*"file is writable by others"/,
      /chmod 755 app\.fcgi/,
    );
    assertProblem(
      r.out,
      'directory write bits',
      /writable by every user \(mode 777\)/,
      new RegExp(`chmod 755 ${dir}$`),
    );
  });

  it('setuid is refused', () => {
    const dir = upload();
    chmodSync(join(dir, 'app.fcgi'), 0o4755);
    const r = doctor(dir);
    assert.equal(r.status, 1);
    assertProblem(r.out, 'setuid', /setuid or setgid \(mode 4755\)/, /chmod 755 app\.fcgi/);
  });

  it('a symbolic link (suEXEC will not run one)', () => {
    const dir = upload();
    symlinkSync(join(dir, 'app.fcgi'), join(dir, 'link.fcgi'));
    const r = doctor(dir, 'link.fcgi');
    assert.equal(r.status, 1);
    assertProblem(r.out, 'link', /symbolic link/, /cp --remove-destination "\$\(readlink -f link\.fcgi\)" link\.fcgi/);
  });

  it('a file and a directory that belong to another user', { skip: ROOT_ONLY }, () => {
    const dir = upload();
    chownSync(join(dir, 'app.fcgi'), 65534, 65534);
    const r = doctor(dir);
    assert.equal(r.status, 1);
    assertProblem(
      r.out,
      'owner',
      /belongs to (nobody \(65534\)|uid 65534), group .*but it runs as you \(root \(0\).*"target uid\/gid mismatch"/,
      /cp app\.fcgi app\.fcgi\.new && mv app\.fcgi\.new app\.fcgi && chmod 755 app\.fcgi/,
    );
    const other = upload();
    chownSync(other, 65534, 65534);
    const r2 = doctor(other);
    assert.equal(r2.status, 1);
    assertProblem(r2.out, 'directory owner', /belongs to (nobody|uid 65534)/, /a directory of your own/);
  });

  it("#!/usr/bin/env looks on suEXEC's PATH, not the shell's", () => {
    const dir = upload();
    const bin = deploy!.mkdir(`bin-${n++}`);
    symlinkSync(process.execPath, join(bin, 'mynode'));
    const file = join(dir, 'app.fcgi');
    writeFileSync(file, readFileSync(file, 'latin1').replace(/^#!.*\n/, '#!/usr/bin/env mynode\n'), 'latin1');
    const r = doctor(dir, 'app.fcgi', `${bin}:${APP_PATH}`);
    assert.equal(r.status, 1);
    assertProblem(
      r.out,
      'interpreter',
      new RegExp(
        `looks for "mynode" on the PATH the web server gives the app \\(suEXEC's /usr/local/bin:/usr/bin:/bin\\).*your shell finds ${bin}/mynode`,
      ),
      /fcgi bundle src\/app\.ts app\.fcgi --node /,
    );
  });

  it('an interpreter that is not there, and one that is too old', () => {
    const dir = upload();
    const file = join(dir, 'app.fcgi');
    const code = readFileSync(file, 'latin1');
    writeFileSync(file, code.replace(/^#!.*\n/, '#!/opt/nowhere/bin/node\n'), 'latin1');
    const r = doctor(dir);
    assert.equal(r.status, 1);
    assertProblem(
      r.out,
      'interpreter',
      /runs \/opt\/nowhere\/bin\/node, which does not exist or cannot be run: .*visitors get a 500, and under suEXEC the error log says "suexec policy violation"/,
      /^ {9}fix: run: sed -i '1s\|\.\*\|#!\/\S+\/node\|' app\.fcgi {3}\(or bundle it again: fcgi bundle src\/app\.ts app\.fcgi --node \/\S+\/node\)$/,
    );
    // The fix as doctor words it, run in the app's directory (the host has no npm to bundle again).
    const fix = r.out.split('\n').find((l) => l.startsWith('         fix: run: '))!;
    const sed = run('/bin/sh', ['-c', fix.slice('         fix: run: '.length).replace(/\s{2,}\(.*\)$/, '')], dir);
    assert.equal(sed.status, 0, sed.err);
    const fixed = doctor(dir);
    assert.equal(fixed.status, 0, fixed.out);
    assert.match(fixed.out, /^ok {7}interpreter: the first line runs \/\S+\/node \(Node v\d+/m);
    // A Node 18 stands in as a program that answers --version as Node 18 does.
    const bin = deploy!.mkdir(`old-${n++}`);
    writeFileSync(join(bin, 'node'), '#!/bin/sh\necho v18.19.0\n', { mode: 0o755 });
    writeFileSync(file, code.replace(/^#!.*\n/, `#!${bin}/node\n`), 'latin1');
    const r2 = doctor(dir);
    assert.equal(r2.status, 1);
    assertProblem(r2.out, 'interpreter', /is Node v18\.19\.0; the app needs Node 20 or newer/, /--node /);
  });

  it('.htaccess: none, Options without ExecCGI, no Options, no rewrite', () => {
    const none = upload();
    rmSync(join(none, '.htaccess'));
    let r = doctor(none);
    assert.equal(r.status, 1);
    assertProblem(r.out, '.htaccess', /no \.htaccess beside app\.fcgi/, /--htaccess writes it/);

    const off = upload();
    writeFileSync(join(off, '.htaccess'), htaccess.replace('Options +ExecCGI', 'Options FollowSymLinks'));
    r = doctor(off);
    assert.equal(r.status, 1);
    assertProblem(
      r.out,
      '.htaccess ExecCGI',
      /leaves ExecCGI off: Apache answers 403 \("mod_fcgid: location of script \.\.\. does not have ExecCGI enabled" in its log\)/,
      /Options \+ExecCGI.*Options not allowed here.*ask the host/,
    );

    const bare = upload();
    writeFileSync(join(bare, '.htaccess'), 'AddHandler fcgid-script .fcgi\n');
    r = doctor(bare);
    assert.equal(r.status, 0, r.out);
    assertProblem(
      r.out,
      '.htaccess ExecCGI',
      /no Options \+ExecCGI: .*403/,
      /Debian's stock userdir\.conf does not/,
      'WARNING',
    );
    assertProblem(
      r.out,
      '.htaccess rewrite',
      /only URLs under \/app\.fcgi\/ reach the app/,
      /RewriteRule \^\(\.\*\)\$ app\.fcgi\/\$1/,
      'WARNING',
    );

    const nohandler = upload();
    writeFileSync(join(nohandler, '.htaccess'), htaccess.replace(/^AddHandler.*\n/, ''));
    r = doctor(nohandler);
    assert.equal(r.status, 1);
    assertProblem(r.out, '.htaccess handler', /no handler for \.fcgi/, /AddHandler fcgid-script \.fcgi/);
  });

  it('fcgi.env readable by others: the app would refuse it, and so does the load', () => {
    const dir = upload();
    writeFileSync(join(dir, 'fcgi.env'), 'DB_PASSWORD=x\n', { mode: 0o644 });
    chmodSync(join(dir, 'fcgi.env'), 0o644);
    const r = doctor(dir);
    assert.equal(r.status, 1);
    assertProblem(
      r.out,
      'fcgi.env',
      /readable by every user .*mode 644.*every request gets a 500/,
      /chmod 600 \S*fcgi\.env && touch \S*\/restart\.txt$/,
    );
    assertProblem(r.out, 'app loads', /did not load: it exited with 1/, /fix: chmod 600 .*fcgi\.env$/);
    chmodSync(join(dir, 'fcgi.env'), 0o600);
    const ok = doctor(dir);
    assert.equal(ok.status, 0, ok.out);
    assert.match(ok.out, /^ok {7}fcgi\.env: sets DB_PASSWORD \(mode 600, yours\)/m);
    assert.doesNotMatch(ok.out, /=x/, 'never a value');
    assert.match(ok.out, /^ok {7}\.htaccess fcgi\.env: visitors are refused fcgi\.env/m);
  });

  it('an app that throws while loading: the error, and that it did not load', () => {
    const dir = deploy!.mkdir(`throws-${n++}`);
    const file = join(dir, 'app.mjs');
    writeFileSync(
      file,
      `#!/usr/bin/env node\nawait import(${JSON.stringify(CORE)});\nthrow new Error('no DATABASE_URL set');\n`,
      {
        mode: 0o755,
      },
    );
    chmodSync(file, 0o755);
    writeFileSync(join(dir, '.htaccess'), htaccess.replaceAll('app.fcgi', 'app.mjs').replace('.fcgi', '.mjs'));
    const r = doctor(dir, 'app.mjs');
    assert.equal(r.status, 1);
    assertProblem(
      r.out,
      'app loads',
      /did not load: it exited with 1; it said:[\s\S]*no DATABASE_URL set/,
      /fix what the message above names/,
    );
  });

  it('an app that is not bundled and calls serve() loads in check mode too', () => {
    const dir = deploy!.mkdir(`plain-${n++}`);
    const file = join(dir, 'app.mjs');
    writeFileSync(
      file,
      `#!/usr/bin/env node\nconst { serve } = await import(${JSON.stringify(CORE)});\nawait serve(() => {});\n`,
    );
    chmodSync(file, 0o755);
    const r = run(process.execPath, [CLI, 'doctor', 'app.mjs'], dir);
    assert.match(r.out, /^ok {7}app loads: the app loaded and called serve\(\)/m, r.out);
  });

  it('an address-space limit below what Node needs (ulimit -v, prlimit): a problem; its fix followed, ok', {
    skip: existsSync(PRLIMIT) ? false : 'no prlimit (util-linux)',
  }, () => {
    const dir = upload();
    // 900 MiB: enough for Node to start doctor (the hello needs 716, docs/deploy/memory.md), under
    // the 1024 doctor asks for. Soft limit only, so the fix (raising it) can be followed.
    const limited = [
      '--as=943718400:unlimited',
      '--',
      process.execPath,
      CLI,
      'doctor',
      'app.fcgi',
      '--server',
      'suexec',
    ];
    const r = run(PRLIMIT, limited, dir);
    assert.equal(r.status, 1, r.out + r.err);
    assertProblem(
      r.out,
      'address space',
      /this shell allows 900 MiB of address space \(ulimit -v\), and Node needs about 1024 MiB to start: .*"Failed to reserve virtual memory for CodeRange"/,
      /^ {9}fix: run `ulimit -v 1048576` \(or unlimited\) before starting it here; .*ask the host for at least 1024 MiB \(Apache's RLimitMEM applies to CGI, not to mod_fcgid\)$/,
    );
    assert.equal((r.out.match(/^PROBLEM /gm) ?? []).length, 1, r.out);
    // The fix as doctor words it, in the same limited shell.
    const fix = /`(ulimit -v \d+)`/.exec(r.out)![1]!;
    const command = `${fix} && exec ${process.execPath} ${CLI} doctor app.fcgi --server suexec`;
    const fixed = run(PRLIMIT, ['--as=943718400:unlimited', '--', '/bin/sh', '-c', command], dir);
    assert.equal(fixed.status, 0, fixed.out + fixed.err);
    assert.match(fixed.out, /^ok {7}address space: 1024 MiB allowed \(Node needs about 1024\)$/m);
  });

  it('node app.fcgi --check: the checks of its own file, then the load; status 1 on a problem', () => {
    const dir = upload();
    const file = join(dir, 'app.fcgi');
    let r = run(file, ['--check'], dir);
    assert.equal(r.status, 0, r.out + r.err);
    assert.match(r.out, new RegExp(`^fcgi check: ${file}$`, 'm'));
    assert.match(r.out, /^ok {7}exec bit/m);
    assert.match(r.out, /^fcgi check: the app loaded and called serve\(\)/m);
    chmodSync(file, 0o775);
    r = run(file, ['--check', '--server', 'suexec'], dir);
    assert.equal(r.status, 1);
    assert.match(r.out, /^rules: Apache with suEXEC, the app runs as you \(as asked/m);
    assertProblem(r.out, 'write bits', /writable by its group/, /chmod 755 app\.fcgi/);
    assert.match(r.out, /^fcgi check: the app loaded and called serve\(\)/m);
    // Without suEXEC a group write bit is a risk, not a refusal.
    r = run(file, ['--check', '--server', 'other'], dir);
    assert.equal(r.status, 0, r.out);
    assertProblem(r.out, 'write bits', /writable by its group .*can change the code/, /chmod 755/, 'WARNING');
    r = run(file, ['--check', '--server', 'nginx'], dir);
    assert.equal(r.status, 1);
    assert.match(r.out, /--server takes suexec, apache, other, not "nginx"/);
  });

  it('--check on a bundle whose app never calls serve(): a problem', () => {
    const dir = deploy!.mkdir(`noserve-${n++}`);
    const entry = join(dir, 'entry.mjs');
    writeFileSync(entry, `import { createApp } from '@fcgi/core';\ncreateApp();\n`);
    mkdirSync(join(dir, 'node_modules', '@fcgi'), { recursive: true });
    symlinkSync(join(ROOT, 'packages/core'), join(dir, 'node_modules', '@fcgi', 'core'));
    const out = join(deploy!.mkdir(`noserve-out-${n++}`), 'app.fcgi');
    const b = run(process.execPath, [CLI, 'bundle', entry, out], ROOT);
    assert.equal(b.status, 0, b.err);
    const r = run(out, ['--check'], dir);
    assert.equal(r.status, 1);
    assert.match(
      r.out,
      /did not call serve\(\) or listen\(\) while loading.*fix: end the main file with `await app\.listen\(\)`/,
    );
  });
});

const WWW_DATA = /^www-data:/m.test(readFileSync('/etc/passwd', 'utf8'));

describe('fcgi doctor without suEXEC (--server apache, --server other) and the rules it picks', {
  timeout: 120_000,
}, () => {
  let deploy: DeployDir | undefined;
  let bundled = '';
  let n = 0;
  function upload(htaccess = true): string {
    const dir = deploy!.mkdir(`plain-${n++}`);
    installCopy(bundled, join(dir, 'app.fcgi'));
    if (htaccess) writeFileSync(join(dir, '.htaccess'), 'AddHandler fcgid-script .fcgi\nOptions +ExecCGI\n');
    return dir;
  }
  before(
    async () => {
      deploy = await createDeployDir('fcgi-doctor-plain-');
      bundled = join(deploy.mkdir('built'), 'app.fcgi');
      const r = spawnSync(process.execPath, [CLI, 'bundle', 'test/fixtures/env-app.ts', bundled], {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: 60_000,
      });
      assert.equal(r.status, 0, r.stderr);
    },
    { timeout: 90_000 },
  );
  after(async () => {
    await deploy?.remove();
  });

  it("apache: a file of Apache's user is fine run as root (suEXEC's owner rule does not apply)", {
    skip: ROOT_ONLY || (!WWW_DATA && 'no www-data user'),
  }, () => {
    const dir = upload();
    const www = spawnSync('id', ['-u', 'www-data'], { encoding: 'utf8' });
    const uid = Number(www.stdout.trim());
    chownSync(join(dir, 'app.fcgi'), uid, uid);
    const r = doctor(dir, 'app.fcgi', undefined, 'apache');
    assert.equal(r.status, 0, r.out + r.err);
    assert.match(r.out, /^rules: Apache without suEXEC, the app runs as www-data \(\d+\) \(as asked/m);
    assert.doesNotMatch(r.out, /owner:|PROBLEM/);
    assert.match(r.out, /^ok {7}app loads: /m);
    // The same upload by suEXEC's rules: not root's file.
    assert.match(doctor(dir).out, /^PROBLEM {2}owner: .*"target uid\/gid mismatch"/m);
  });

  it("apache: a file Apache's user cannot read and run, and a directory it cannot enter", {
    skip: ROOT_ONLY || (!WWW_DATA && 'no www-data user'),
  }, () => {
    const dir = upload();
    chmodSync(join(dir, 'app.fcgi'), 0o700);
    let r = doctor(dir, 'app.fcgi', undefined, 'apache');
    assert.equal(r.status, 1);
    assertProblem(
      r.out,
      'exec bit',
      /www-data \(\d+\), who runs the app, cannot read and execute app\.fcgi \(mode 700, owner root \(0\)\).*"Permission denied"/,
      /chmod 755 app\.fcgi/,
    );
    chmodSync(join(dir, 'app.fcgi'), 0o755);
    chmodSync(dir, 0o700);
    r = doctor(dir, 'app.fcgi', undefined, 'apache');
    assert.equal(r.status, 1);
    assertProblem(r.out, 'directory', /cannot enter .* \(mode 700/, new RegExp(`chmod 755 ${dir}$`));
    chmodSync(dir, 0o755);
  });

  it('other: no .htaccess is not a problem, a symbolic link neither; #!/usr/bin/env is looked up on your PATH', () => {
    const dir = upload(false);
    symlinkSync(join(dir, 'app.fcgi'), join(dir, 'link.fcgi'));
    const r = doctor(dir, 'link.fcgi', undefined, 'other');
    assert.equal(r.status, 0, r.out + r.err);
    assert.match(r.out, /^rules: a web server other than Apache, the app runs as you with your PATH/m);
    assert.doesNotMatch(r.out, /htaccess|link:/);
    // By Apache's rules the missing .htaccess is the problem.
    assertProblem(
      doctor(dir, 'app.fcgi', undefined, 'apache').out,
      '.htaccess',
      /there is no \.htaccess/,
      /--htaccess/,
    );
  });

  it('without --server: the rules this machine suggests, named; an unknown --server is refused', () => {
    const dir = upload();
    const r = run(process.execPath, [CLI, 'doctor', '--no-load'], dir);
    const rules = /^rules: (.*)$/m.exec(r.out)?.[1] ?? '';
    assert.match(rules, /found on this machine; --server suexec\|apache\|other to choose/);
    // suEXEC never runs root's files: as root the rules are never suEXEC's unless asked.
    if (process.getuid?.() === 0) assert.doesNotMatch(rules, /suEXEC, the app runs as you/);
    const bad = run(process.execPath, [CLI, 'doctor', '--server', 'iis'], dir);
    assert.equal(bad.status, 2);
    assert.match(bad.err, /--server takes suexec, apache, other, not "iis"/);
  });
});
