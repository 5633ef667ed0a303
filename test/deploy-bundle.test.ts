// scripts/bundle.mjs: one executable file that runs with nothing but Node (no node_modules), under
// the names web servers want (.fcgi, .cgi), and says so clearly when it cannot bundle an entry.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ROOT } from './helpers/app-process.js';
import { bundleMatrixApp, createDeployDir, type DeployDir } from './helpers/deploy-app.js';

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

  it("refuses a top-level await in the entry with esbuild's message (the bundle is CommonJS)", {
    timeout: 30_000,
  }, () => {
    const entry = join(dir!.path, 'tla.ts');
    writeFileSync(entry, 'await Promise.resolve(1);\nexport {};\n');
    const r = bundle(entry, join(dir!.path, 'tla.js'));
    assert.equal(r.status, 1);
    assert.match(r.stderr, /Top-level await is currently not supported with the "cjs" output format/);
  });
});
