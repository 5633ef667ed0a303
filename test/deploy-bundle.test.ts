// `fcgi bundle` (and scripts/bundle.mjs, its shortcut): one executable file that runs with nothing but
// Node (no node_modules), under the names web servers want (.fcgi, .cgi), with top-level await and
// source-mapped stacks, reached through symlinks or not; every refusal names its fix.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, readFileSync, renameSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ROOT } from './helpers/app-process.js';
import { APP_PATH, bundleMatrixApp, createDeployDir, docsHtaccess, type DeployDir } from './helpers/deploy-app.js';
import { Child, fcgiGet } from './helpers/raw-client.js';

/** Runs `file` as a CGI script for one request; resolves with its stdout. */
function runCgi(
  file: string,
  env: Record<string, string>,
  body = Buffer.alloc(0),
): Promise<{ code: number | null; out: Buffer; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, [], {
      cwd: '/', // nowhere near a node_modules
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        GATEWAY_INTERFACE: 'CGI/1.1',
        SERVER_PROTOCOL: 'HTTP/1.1',
        ...env,
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    let err = '';
    const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(t);
      resolve({ code, out: Buffer.concat(out), err });
    });
    child.stdin.end(body);
  });
}

function bundle(entry: string, out: string) {
  return spawnSync(process.execPath, ['scripts/bundle.mjs', entry, out], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 60_000,
  });
}

describe('scripts/bundle.mjs', { timeout: 60_000 }, () => {
  let dir: DeployDir | undefined;
  let file = '';

  before(
    async () => {
      dir = await createDeployDir('fcgi-bundle-');
      file = join(dir.path, 'app.cgi');
      bundleMatrixApp(file);
    },
    { timeout: 60_000 },
  );
  after(async () => {
    await dir?.remove();
  });

  it('writes one executable file with a node shebang and no imports left to resolve', () => {
    assert.equal(statSync(file).mode & 0o777, 0o755);
    const code = readFileSync(file, 'utf8');
    assert.ok(code.startsWith('#!/usr/bin/env node\n'), code.slice(0, 80));
    assert.equal(code.split('\n').filter((l) => l.startsWith('#!')).length, 1, 'one shebang');
    assert.doesNotMatch(code, /require\(["']@fcgi\/|require\(["'](cookie|mime-types)["']\)/);
  });

  it('runs as a CGI script from anywhere: a POST echoed back', { timeout: 20_000 }, async () => {
    const body = Buffer.from('{"a":[1,2]}');
    const r = await runCgi(
      file,
      {
        REQUEST_METHOD: 'POST',
        REQUEST_URI: '/sub/echo?q=1',
        SCRIPT_NAME: '/sub/app.cgi',
        PATH_INFO: '/echo',
        QUERY_STRING: 'q=1',
        CONTENT_TYPE: 'application/json',
        CONTENT_LENGTH: String(body.length),
      },
      body,
    );
    assert.equal(r.code, 0, r.err);
    const text = r.out.toString('utf8');
    const split = text.indexOf('\r\n\r\n');
    assert.match(text.slice(0, split), /^Content-Type: application\/json; charset=utf-8$/m);
    const e = JSON.parse(text.slice(split + 4)) as { path: string; base: string; json: unknown; bodyLength: number };
    assert.equal(e.path, '/echo');
    assert.equal(e.base, '/sub');
    assert.deepEqual(e.json, { a: [1, 2] });
    assert.equal(e.bodyLength, body.length);
  });

  it('an entry with its own shebang still gets exactly one', { timeout: 30_000 }, () => {
    const entry = join(dir!.path, 'with-shebang.ts');
    writeFileSync(entry, '#!/usr/bin/env -S node --import tsx\nconst n: number = 42;\nconsole.log(n);\n');
    const out = join(dir!.path, 'with-shebang.js');
    const r = bundle(entry, out);
    assert.equal(r.status, 0, r.stderr);
    const code = readFileSync(out, 'utf8');
    assert.ok(code.startsWith('#!/usr/bin/env node\n'));
    assert.equal(code.split('\n').filter((l) => l.startsWith('#!')).length, 1);
    assert.equal(spawnSync(out, [], { encoding: 'utf8' }).stdout, '42\n');
  });
});

const CLI = join(ROOT, 'packages/core/dist/cli.js');

/** Runs `node <cli> bundle ...args` from `cwd`; the CLI path may be a symlink. */
function fcgiBundle(args: string[], cli = CLI, cwd = ROOT) {
  return spawnSync(process.execPath, [cli, 'bundle', ...args], { cwd, encoding: 'utf8', timeout: 60_000 });
}

/** The ```apache block under `heading` in a docs page: what a user is told to write. */
/** The CGI request the tla-app bundle answers in the tests below. */
const CGI_GET = { REQUEST_METHOD: 'GET', REQUEST_URI: '/hi', SCRIPT_NAME: '', PATH_INFO: '/hi', QUERY_STRING: '' };

describe('fcgi bundle', { timeout: 120_000 }, () => {
  let dir: DeployDir | undefined;
  let tla = '';
  const children: Child[] = [];

  before(
    async () => {
      dir = await createDeployDir('fcgi-bundle-cli-');
      tla = join(dir.path, 'tla.fcgi');
      const r = fcgiBundle(['test/fixtures/tla-app.ts', tla]);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /tla\.fcgi: \d+ bytes, mode 755/);
    },
    { timeout: 60_000 },
  );
  after(async () => {
    await Promise.all(children.map((c) => c.stop()));
    await dir?.remove();
  });

  it('top-level await in the entry: the bundle answers one request as CGI', {
    timeout: 20_000,
  }, async () => {
    const r = await runCgi(tla, CGI_GET);
    assert.equal(r.code, 0, r.err);
    const text = r.out.toString('utf8');
    assert.match(text, /^Content-Type: text\/plain; charset=utf-8\r$/m);
    assert.equal(text.slice(text.indexOf('\r\n\r\n') + 4), 'tla-app: /hi\n');
    // listen() in CGI mode answers the one request and exits: nothing after the await runs.
    assert.doesNotMatch(r.err, /past the top-level await/);
  });

  it('top-level await in the entry: the bundle serves FastCGI on FCGI_LISTEN', { timeout: 30_000 }, async () => {
    const sock = join(dir!.path, 'tla-listen.sock');
    const child = new Child(tla, [], { env: { PATH: APP_PATH, FCGI_LISTEN: sock } });
    children.push(child);
    await child.waitFor(/tla-app: past the top-level await/);
    const r = await fcgiGet(sock, '/via-env', 10_000);
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), 'tla-app: /via-env\n');
    await child.stop();
  });

  it('top-level await in the entry: the bundle serves FastCGI on the socket it got as fd 0', {
    timeout: 30_000,
  }, async () => {
    const sock = join(dir!.path, 'tla-fd0.sock');
    // spawn-fcgi -n execs the bundle in place with the listening socket as fd 0, as mod_fcgid does.
    const child = new Child('spawn-fcgi', ['-n', '-s', sock, '--', tla], { env: { PATH: APP_PATH } });
    children.push(child);
    await child.waitFor(/tla-app: past the top-level await/);
    const r = await fcgiGet(sock, '/via-fd0', 10_000);
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), 'tla-app: /via-fd0\n');
    await child.stop();
  });

  it("a handler's error is logged with a stack that names the app's source line, not the bundle", {
    timeout: 20_000,
  }, async () => {
    const r = await runCgi(tla, { ...CGI_GET, REQUEST_URI: '/throw', PATH_INFO: '/throw' });
    assert.match(r.out.toString('latin1'), /^Status: 500/);
    const line = readFileSync(join(ROOT, 'test/fixtures/tla-app.ts'), 'utf8')
      .split('\n')
      .indexOf("  if (req.path === '/throw') throw new Error('tla-app failure');");
    assert.ok(line >= 0);
    assert.match(r.err, new RegExp(`Error: tla-app failure\\n\\s+at .*test/fixtures/tla-app\\.ts:${line + 1}:\\d+`));
    assert.doesNotMatch(r.err, /tla\.fcgi:\d+/);
  });

  it('an uncaught error while loading names the source file and line too', { timeout: 30_000 }, () => {
    const entry = join(dir!.path, 'boom.ts');
    writeFileSync(
      entry,
      'const n: number = await Promise.resolve(1);\nfunction fail(): never {\n  throw new Error("boom " + n);\n}\nfail();\n',
    );
    const out = join(dir!.path, 'boom.cgi');
    assert.equal(fcgiBundle([entry, out]).status, 0);
    const r = spawnSync(out, [], { encoding: 'utf8', env: { PATH: APP_PATH }, timeout: 10_000 });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /Error: boom 1\n\s+at fail \(.*boom\.ts:3:9\)/);
    assert.doesNotMatch(r.stderr, /boom\.cgi:\d+/);
  });

  it('stacks keep the map the bundle started with: a new version renamed over it or written in place', {
    timeout: 30_000,
  }, async () => {
    // The app throws once `go` exists, after the test has replaced or changed its file.
    const entry = join(dir!.path, 'late.ts');
    writeFileSync(
      entry,
      [
        "import { existsSync } from 'node:fs';",
        'const go = process.argv[2]!;',
        'while (!existsSync(go)) await new Promise((r) => setTimeout(r, 10));',
        'function late(): never {',
        '  throw new Error("late");',
        '}',
        'late();',
        '',
      ].join('\n'),
    );
    const other = join(dir!.path, 'other.cgi');
    assert.equal(fcgiBundle([join(dir!.path, 'boom.ts'), other]).status, 0);
    for (const how of ['renamed', 'in place'] as const) {
      const out = join(dir!.path, `late-${how === 'renamed' ? 'r' : 'i'}.cgi`);
      const go = `${out}.go`;
      assert.equal(fcgiBundle([entry, out]).status, 0);
      const child = spawn(out, [go], { env: { PATH: APP_PATH }, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      await new Promise((r) => setTimeout(r, 300));
      if (how === 'renamed') {
        cpSync(other, `${out}.new`);
        renameSync(`${out}.new`, out);
      } else writeFileSync(out, readFileSync(other));
      writeFileSync(go, '');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      assert.equal(await exited, 1);
      clearTimeout(timer);
      assert.match(stderr, /Error: late\n\s+at late \(.*late\.ts:5:9\)/, how);
    }
  });

  it('--no-source-maps: no map in the file, and stacks name the bundle', { timeout: 30_000 }, () => {
    const entry = join(dir!.path, 'boom.ts');
    const out = join(dir!.path, 'boom-nomap.cgi');
    assert.equal(fcgiBundle([entry, out, '--no-source-maps']).status, 0);
    const code = readFileSync(out, 'utf8');
    assert.doesNotMatch(code, /sourceMappingURL|setSourceMapsEnabled/);
    const r = spawnSync(out, [], { encoding: 'utf8', env: { PATH: APP_PATH }, timeout: 10_000 });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /Error: boom 1\n\s+at fail \(.*boom-nomap\.cgi:\d+:\d+\)/);
  });

  it('an entry in a "sideEffects": false, "type": "module" package still runs; an output there is warned of', {
    timeout: 30_000,
  }, () => {
    const pkg = dir!.mkdir('pure-pkg');
    writeFileSync(join(pkg, 'package.json'), '{"type":"module","sideEffects":false}\n');
    writeFileSync(join(pkg, 'app.js'), 'console.log("entry ran");\n');
    const out = join(dir!.path, 'pure.cgi');
    const r = fcgiBundle([join(pkg, 'app.js'), out]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.equal(spawnSync(out, [], { encoding: 'utf8', env: { PATH: APP_PATH } }).stdout, 'entry ran\n');

    const inside = fcgiBundle([join(pkg, 'app.js'), join(pkg, 'dist/app.cgi')]);
    assert.equal(inside.status, 0, inside.stderr);
    assert.match(
      inside.stderr,
      /warning: .*pure-pkg\/package\.json says "type": "module", so Node will not run app\.cgi inside .*write it outside that directory/,
    );
  });

  it("Node's built-ins as ES modules and CommonJS see them: default, named, namespace, require(), import()", {
    timeout: 30_000,
  }, () => {
    // One source in a "type": "module" package (esbuild's Node mode) and as .ts (not): each prints
    // what it saw; both must print what Node itself prints running the same source unbundled.
    const source = [
      "import EventEmitter, { once } from 'node:events';",
      "import fs, { readFileSync } from 'node:fs';",
      "import * as path from 'node:path';",
      "import http from 'http';",
      "import { createRequire } from 'node:module';",
      'const require = createRequire(import.meta.url);',
      'class Bus extends EventEmitter {}',
      'const bus = new Bus();',
      "const seen = [typeof once, bus instanceof EventEmitter, fs === require('node:fs'), readFileSync === fs.readFileSync];",
      "seen.push(path.join('a', 'b'), typeof path.default?.join, 'join' in path, http === require('node:http'));",
      'const agent = new http.Agent(); const before = http.globalAgent; http.globalAgent = agent;',
      "seen.push(require('node:http').globalAgent === agent); http.globalAgent = before;",
      "const dyn = await import('node:os'); seen.push(dyn.default === require('node:os'), typeof dyn.cpus);",
      "fs.writeSync(1, JSON.stringify(seen) + '\\n');",
    ].join('\n');
    const pkg = dir!.mkdir('builtins-pkg');
    writeFileSync(join(pkg, 'package.json'), '{"type":"module"}\n');
    writeFileSync(join(pkg, 'app.js'), source);
    writeFileSync(join(dir!.path, 'builtins.ts'), source);
    const node = spawnSync(process.execPath, [join(pkg, 'app.js')], { encoding: 'utf8' });
    assert.equal(node.status, 0, node.stderr);
    assert.equal(node.stdout, '["function",true,true,true,"a/b","function",true,true,true,true,"function"]\n');
    for (const entry of [join(pkg, 'app.js'), join(dir!.path, 'builtins.ts')]) {
      const out = join(dir!.path, `builtins-${entry.endsWith('.ts') ? 'ts' : 'esm'}.cgi`);
      const r = fcgiBundle([entry, out]);
      assert.equal(r.status, 0, r.stderr);
      const run = spawnSync(out, [], { encoding: 'utf8', env: { PATH: APP_PATH } });
      assert.equal(run.stdout, node.stdout, `${entry}: ${run.stderr}`);
      // Each imported built-in's namespace is linked to the module, not filled with a copy of it at start.
      const text = readFileSync(out, 'utf8');
      assert.match(text, /Object\.setPrototypeOf\(node_events_exports, require_node_events\(\)\)/);
      assert.doesNotMatch(text, /__reExport\(node_\w+_exports, __toESM/);
    }
  });

  it('--node PATH is the first line, and the file runs with no node on PATH', { timeout: 30_000 }, async () => {
    const alt = join(dir!.path, 'alt.cgi');
    const a = fcgiBundle(['test/fixtures/tla-app.ts', alt, '--node', '/opt/alt/alt-nodejs20/root/usr/bin/node']);
    assert.equal(a.status, 0, a.stderr);
    assert.equal(readFileSync(alt, 'utf8').split('\n')[0], '#!/opt/alt/alt-nodejs20/root/usr/bin/node');

    const own = join(dir!.path, 'own-node.cgi');
    assert.equal(fcgiBundle(['test/fixtures/tla-app.ts', own, '--node', process.execPath]).status, 0);
    const r = await new Promise<{ code: number | null; out: string }>((resolve, reject) => {
      const child = spawn(own, [], {
        cwd: '/',
        env: { ...CGI_GET, PATH: '/nonexistent', GATEWAY_INTERFACE: 'CGI/1.1' },
      });
      let out = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, out }));
      child.stdin.end();
    });
    assert.equal(r.code, 0);
    assert.match(r.out, /tla-app: \/hi\n$/);
  });

  it('works when the CLI, scripts/bundle.mjs or the entry is reached through a symlink', {
    timeout: 60_000,
  }, async () => {
    const links = dir!.mkdir('links');
    symlinkSync(CLI, join(links, 'fcgi'));
    symlinkSync(join(ROOT, 'scripts/bundle.mjs'), join(links, 'bundle.mjs'));
    symlinkSync(join(ROOT, 'test/fixtures/tla-app.ts'), join(links, 'app.ts'));
    const viaCli = join(dir!.path, 'via-cli.cgi');
    const r1 = fcgiBundle([join(links, 'app.ts'), viaCli], join(links, 'fcgi'), dir!.path);
    assert.equal(r1.status, 0, r1.stderr);
    assert.equal(statSync(viaCli).mode & 0o777, 0o755);
    const viaScript = join(dir!.path, 'via-script.cgi');
    const r2 = spawnSync(process.execPath, [join(links, 'bundle.mjs'), join(links, 'app.ts'), viaScript], {
      cwd: dir!.path,
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(r2.status, 0, r2.stderr);
    assert.match(r2.stdout, /via-script\.cgi: \d+ bytes/);
    for (const file of [viaCli, viaScript]) {
      const r = await runCgi(file, CGI_GET);
      assert.equal(r.code, 0, r.err);
      assert.match(r.out.toString(), /tla-app: \/hi\n$/);
    }
  });

  it('--htaccess writes the .htaccess of docs/deploy for app.fcgi (mod_fcgid) and app.cgi (CGI)', {
    timeout: 60_000,
  }, () => {
    const fcgid = dir!.mkdir('fcgid');
    const r = fcgiBundle(['test/fixtures/tla-app.ts', join(fcgid, 'app.fcgi'), '--htaccess']);
    assert.equal(r.status, 0, r.stderr);
    const written = readFileSync(join(fcgid, '.htaccess'), 'utf8');
    assert.equal(written, docsHtaccess('apache-mod-fcgid.md', '## 4. `.htaccess`'));
    assert.match(written, /^AddHandler fcgid-script \.fcgi$/m);
    assert.equal(statSync(join(fcgid, '.htaccess')).mode & 0o777, 0o644);
    // Run again: the same .htaccess is fine.
    assert.equal(fcgiBundle(['test/fixtures/tla-app.ts', join(fcgid, 'app.fcgi'), '--htaccess']).status, 0);

    const cgi = dir!.mkdir('cgi');
    assert.equal(fcgiBundle(['test/fixtures/tla-app.ts', join(cgi, 'app.cgi'), '--htaccess']).status, 0);
    assert.equal(readFileSync(join(cgi, '.htaccess'), 'utf8'), docsHtaccess('apache-mod-cgi.md', '## 4. `.htaccess`'));
  });

  describe('refusals say the fix and exit non-zero', () => {
    const refuse = (args: string[], status: number, ...patterns: RegExp[]) => {
      const r = fcgiBundle(args);
      assert.equal(r.status, status, r.stderr);
      for (const p of patterns) assert.match(r.stderr, p);
      return r;
    };

    it('no arguments, or an unknown option: the usage', () => {
      refuse(
        [],
        2,
        /needs an entry and an output file, e\.g\. fcgi bundle src\/app\.ts dist\/app\.fcgi/,
        /--node PATH/,
      );
      refuse(['a.ts', 'b.fcgi', '--nod', '/x'], 2, /Unknown option '--nod'/, /usage:/);
    });

    it('a missing entry', () => {
      refuse(
        [join(dir!.path, 'nope.ts'), join(dir!.path, 'x.fcgi')],
        1,
        /no entry file at .*nope\.ts: give the path of the app's main file/,
      );
    });

    it('an output that cannot be written', () => {
      const file = join(dir!.path, 'plain-file');
      writeFileSync(file, '');
      refuse(
        ['test/fixtures/tla-app.ts', join(file, 'app.fcgi')],
        1,
        /cannot make the output directory .*plain-file \((EEXIST|ENOTDIR)\)/,
        /choose an output path in a directory you can write/,
      );
      refuse(['test/fixtures/tla-app.ts', dir!.path], 1, /is a directory: give a file name, e\.g\. .*app\.fcgi/);
    });

    it('syntax esbuild cannot read, and an import that is not installed: where, and what to do', () => {
      const bad = join(dir!.path, 'bad.ts');
      writeFileSync(bad, 'const x = ;\n');
      refuse(
        [bad, join(dir!.path, 'bad.fcgi')],
        1,
        /esbuild could not bundle .*bad\.ts/,
        /bad\.ts:1:11: Unexpected ";"/,
        /fix: change the source there/,
      );
      const missing = join(dir!.path, 'missing.ts');
      writeFileSync(missing, "import 'no-such-package-fcgi-test';\n");
      refuse(
        [missing, join(dir!.path, 'missing.fcgi')],
        1,
        /Could not resolve "no-such-package-fcgi-test"/,
        /fix: install it in the app's directory \(npm install no-such-package-fcgi-test\)/,
      );
    });

    it('--node that is not an absolute path, --htaccess for a name with no handler, an .htaccess with other lines', () => {
      refuse(
        ['test/fixtures/tla-app.ts', join(dir!.path, 'n.fcgi'), '--node', 'node'],
        1,
        /--node "node" is not an absolute path.*give the full path of node on the host/,
      );
      refuse(
        ['test/fixtures/tla-app.ts', join(dir!.path, 'app.js'), '--htaccess'],
        1,
        /ends in neither \.fcgi nor \.cgi: name the output app\.fcgi \(Apache mod_fcgid\) or app\.cgi/,
      );
      const own = dir!.mkdir('own-htaccess');
      writeFileSync(join(own, '.htaccess'), 'Require all denied\n');
      refuse(
        ['test/fixtures/tla-app.ts', join(own, 'app.fcgi'), '--htaccess'],
        1,
        /exists with other lines/,
        /merge these lines into it, or remove it and run again:\nAddHandler fcgid-script \.fcgi/,
      );
      assert.equal(readFileSync(join(own, '.htaccess'), 'utf8'), 'Require all denied\n');
    });

    it('no esbuild to be found: the install command', () => {
      // scripts/bundle.mjs and the bundle command's files alone, far from any node_modules, bundling
      // an entry that has none either.
      const lonely = dir!.mkdir('lonely');
      cpSync(join(ROOT, 'packages/core/dist/bundle'), join(lonely, 'packages/core/dist/bundle'), { recursive: true });
      writeFileSync(join(lonely, 'packages/core/package.json'), '{"type":"module"}\n');
      cpSync(join(ROOT, 'scripts/bundle.mjs'), join(lonely, 'scripts/bundle.mjs'));
      writeFileSync(join(lonely, 'app.js'), 'console.log(1);\n');
      const r = spawnSync(process.execPath, ['scripts/bundle.mjs', 'app.js', 'out/app.fcgi'], {
        cwd: lonely,
        encoding: 'utf8',
        timeout: 30_000,
      });
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stderr, /esbuild is not installed.*: run `npm install --save-dev esbuild` in the app's directory/);
    });
  });
});
