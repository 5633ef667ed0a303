// `fcgi request` (the built CLI) against examples/echo.ts and a real PHP-FPM: prints the body (-i
// the status and headers first), -d sends a body (a string or @FILE), -H adds headers, -p params;
// exit code 0 for 2xx/3xx, 1 for 4xx/5xx or an app that is not there, 2 for a bad command line.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ROOT, exited, signalPid, startApp, type AppProcess } from './helpers/app-process.js';
import { phpFpmSkip, startPhpFpm, type PhpFpm } from './helpers/php-fpm.js';

const CLI = join(ROOT, 'packages/core/dist/cli.js');
const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

const PHP = `<?php
$body = file_get_contents('php://input');
if (isset($_GET['code'])) http_response_code((int) $_GET['code']);
setcookie('first', 'one');
setcookie('second', 'two');
header('Content-Type: application/json');
echo json_encode(['method' => $_SERVER['REQUEST_METHOD'], 'query' => $_GET, 'cookies' => $_COOKIE,
  'type' => $_SERVER['CONTENT_TYPE'] ?? null, 'len' => strlen($body), 'md5' => md5($body)]);
`;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI with `args` in `cwd`; fails if it has not exited by itself within 15 s. */
async function fcgi(args: string[], cwd = ROOT): Promise<Run> {
  const child = spawn(process.execPath, [CLI, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  if (!(await exited(child, 15_000))) {
    signalPid(child.pid, 'SIGKILL');
    await exited(child, 2000);
    assert.fail(`fcgi ${args.join(' ')} did not exit within 15 s`);
  }
  await new Promise((resolve) => setImmediate(resolve));
  return { code: child.exitCode, stdout, stderr };
}

/** `-i` output: the status line, header lines, an empty line, the body. */
function included(out: string): { status: string; headers: string[]; body: string } {
  const end = out.indexOf('\n\n');
  assert.ok(end > 0, `no header block in ${JSON.stringify(out.slice(0, 300))}`);
  const [status, ...headers] = out.slice(0, end).split('\n');
  return { status: status!, headers, body: out.slice(end + 2) };
}

describe('`fcgi request` against examples/echo.ts', { timeout: 60_000 }, () => {
  let app: AppProcess | undefined;
  let dir = '';

  before(
    async () => {
      app = await startApp('examples/echo.ts');
      dir = await mkdtemp(join(tmpdir(), 'fcgi-cli-'));
    },
    { timeout: 30_000 },
  );
  after(
    async () => {
      await app?.stop();
      await rm(dir, { recursive: true, force: true });
    },
    { timeout: 20_000 },
  );

  it('GET /path?x=1 prints the body; exit 0', { timeout: 20_000 }, async () => {
    const r = await fcgi(['request', '--to', app!.socket, 'GET', '/path?x=1']);
    assert.equal(r.code, 0, r.stderr);
    const e = JSON.parse(r.stdout);
    assert.equal(e.method, 'GET');
    assert.equal(e.url, '/path?x=1');
    assert.deepEqual({ ...e.query }, { x: '1' });
    assert.equal(e.environ.QUERY_STRING, 'x=1');
    assert.equal(e.environ.SCRIPT_NAME, '/path');
    assert.equal(e.environ.SERVER_SOFTWARE, 'fcgi-request');
  });

  it('-i prints the status and headers first', { timeout: 20_000 }, async () => {
    const r = await fcgi(['request', '--to', app!.socket, '-i', '/i']);
    assert.equal(r.code, 0, r.stderr);
    const out = included(r.stdout);
    assert.equal(out.status, '200 OK');
    assert.ok(out.headers.includes('Content-Type: application/json; charset=utf-8'), out.headers.join('\n'));
    assert.ok(out.headers.includes(`Content-Length: ${Buffer.byteLength(out.body)}`), out.headers.join('\n'));
    assert.equal(JSON.parse(out.body).url, '/i');
  });

  it('-d DATA and -d @FILE send a body (POST by default), -H and -p add headers and params', {
    timeout: 20_000,
  }, async () => {
    const r = await fcgi([
      'request',
      '--to',
      app!.socket,
      '-d',
      'hello=world',
      '-H',
      'Content-Type: application/x-www-form-urlencoded',
      '-H',
      'X-Custom: one two',
      '-p',
      'MY_PARAM=yes',
      '/form',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const e = JSON.parse(r.stdout);
    assert.equal(e.method, 'POST');
    assert.equal(e.bodyLength, 11);
    assert.equal(e.bodySha256, sha256('hello=world'));
    assert.equal(e.environ.CONTENT_LENGTH, '11');
    assert.equal(e.environ.CONTENT_TYPE, 'application/x-www-form-urlencoded');
    assert.equal(e.headers['x-custom'], 'one two');
    assert.equal(e.environ.MY_PARAM, 'yes');
    const file = join(dir, 'body.bin');
    const data = randomBytes(300_000);
    await writeFile(file, data);
    const f = await fcgi(['request', '--to', app!.socket, '-d', `@${file}`, 'PUT', '/file']);
    assert.equal(f.code, 0, f.stderr);
    const fe = JSON.parse(f.stdout);
    assert.equal(fe.method, 'PUT');
    assert.equal(fe.bodyLength, data.length);
    assert.equal(fe.bodySha256, sha256(data));
  });

  it('a 404 or 500 from the app: the body is printed, exit 1', { timeout: 20_000 }, async () => {
    for (const status of [404, 500]) {
      const r = await fcgi(['request', '--to', app!.socket, `/x?status=${status}`]);
      assert.equal(r.code, 1, `status ${status}`);
      assert.equal(JSON.parse(r.stdout).path, '/x');
    }
    const ok = await fcgi(['request', '--to', app!.socket, '-i', '/moved?status=302']);
    assert.equal(ok.code, 0, 'a 3xx is not a failure');
    assert.match(ok.stdout, /^302 Found\n/);
  });

  it('no app at --to: a message on stderr, exit 1; a bad command line: usage, exit 2', {
    timeout: 20_000,
  }, async () => {
    const down = await fcgi(['request', '--to', join(dir, 'nobody.sock'), '/']);
    assert.equal(down.code, 1);
    assert.match(down.stderr, /^fcgi: .*(ENOENT|ECONNREFUSED)/m);
    assert.equal(down.stdout, '');
    for (const args of [['request', '/'], ['request', '--to', app!.socket], ['frobnicate'], []]) {
      const bad = await fcgi(args);
      assert.equal(bad.code, 2, args.join(' '));
      assert.match(bad.stderr, /usage:\n\s+fcgi gateway/);
    }
  });
});

describe('`fcgi request` against PHP-FPM', { skip: phpFpmSkip(), timeout: 60_000 }, () => {
  let fpm: PhpFpm | undefined;

  before(
    async () => {
      fpm = await startPhpFpm({ 'r.php': PHP });
    },
    { timeout: 30_000 },
  );
  after(
    async () => {
      await fpm?.stop();
    },
    { timeout: 20_000 },
  );

  // SCRIPT_FILENAME is the working directory + the path: run in the scripts' directory.
  const inFpm = (args: string[]) => fcgi(['request', '--to', fpm!.socket, ...args], dirname(fpm!.script('r.php')));

  it('GET with a query and -H Cookie: the JSON body; -i shows both Set-Cookie lines', { timeout: 20_000 }, async () => {
    const r = await inFpm(['-i', '-H', 'Cookie: a=1; b=two', 'GET', '/r.php?x=1&y=two']);
    assert.equal(r.code, 0, `${r.stderr}\n${fpm!.log()}`);
    const out = included(r.stdout);
    assert.equal(out.status, '200 OK');
    assert.deepEqual(
      out.headers.filter((h) => h.startsWith('Set-Cookie:')),
      ['Set-Cookie: first=one', 'Set-Cookie: second=two'],
    );
    const j = JSON.parse(out.body);
    assert.equal(j.method, 'GET');
    assert.deepEqual(j.query, { x: '1', y: 'two' });
    assert.deepEqual(j.cookies, { a: '1', b: 'two' });
  });

  it('-d sends the body PHP reads from php://input', { timeout: 20_000 }, async () => {
    const r = await inFpm(['-d', 'raw body bytes', '-H', 'Content-Type: text/plain', '/r.php']);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.equal(j.method, 'POST');
    assert.equal(j.type, 'text/plain');
    assert.equal(j.len, 14);
    assert.equal(j.md5, createHash('md5').update('raw body bytes').digest('hex'));
  });

  it("a 4xx from PHP exits 1; a missing script is PHP-FPM's 404, exit 1", { timeout: 20_000 }, async () => {
    const r = await inFpm(['-i', '/r.php?code=418']);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^418 /);
    const missing = await inFpm(['/missing.php']);
    assert.equal(missing.code, 1);
    assert.match(missing.stdout, /File not found/);
  });
});
