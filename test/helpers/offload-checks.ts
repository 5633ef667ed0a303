// What the sendfile-offload tests check through each web server (nginx X-Accel-Redirect, lighttpd
// and Apache X-Sendfile): the files, the app (test/fixtures/offload-app.ts) as a child process,
// and the checks. That the web server, not the app, sent a body is read from the app's own
// /proc/<pid>/io (rchar, wchar: every byte it read or wrote through syscalls, its FastCGI socket
// included): an offloaded 8 MiB download moves a few KiB there, a streamed one at least 8 MiB.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { it } from 'node:test';
import { ROOT, stopChild, waitForListener } from './app-process.js';
import type { DeployDir } from './deploy-app.js';
import { fetchRaw } from './nginx.js';

export const SECRET = 'TOP SECRET: never served';
const MiB = 1024 * 1024;

export interface OffloadTree {
  /** The directory the web server may send from (mapped). */
  files: string;
  /** A sibling it may not: the app streams what it serves from here. */
  outside: string;
  big: Buffer;
  other: Buffer;
}

/** The files, in a directory the web server's user can read (the deploy dir is 755). */
export async function makeOffloadTree(deploy: DeployDir): Promise<OffloadTree> {
  const files = deploy.mkdir('files');
  const outside = deploy.mkdir('outside');
  const big = randomBytes(8 * MiB);
  const other = randomBytes(2 * MiB);
  await writeFile(join(files, 'big.bin'), big);
  await writeFile(join(files, 'a b.txt'), 'space\n');
  await writeFile(join(files, 'a%20b.txt'), 'percent-20\n');
  await writeFile(join(files, 'odd ?#☃ name.txt'), 'odd\n');
  await writeFile(join(files, '.secret'), SECRET);
  await mkdir(join(files, 'sub'), { mode: 0o755 });
  await writeFile(join(files, 'sub', 'index.html'), '<p>sub</p>\n');
  await writeFile(join(outside, 'other.bin'), other);
  await writeFile(join(outside, 'secret.txt'), SECRET);
  return { files, outside, big, other };
}

export interface OffloadApp {
  readonly child: ChildProcess;
  readonly socket: string;
  /** Bytes the app has read and written through syscalls so far. */
  io(): { rchar: number; wchar: number };
  stop(): Promise<void>;
}

/** Starts the fixture app with `offload` as its 'sendfile offload' setting, on a socket in the deploy dir. */
export async function startOffloadApp(deploy: DeployDir, tree: OffloadTree, offload: unknown): Promise<OffloadApp> {
  const socket = join(deploy.mkdir('app'), 'app.sock');
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/offload-app.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      FCGI_LISTEN: socket,
      OFFLOAD: JSON.stringify(offload),
      FILES: tree.files,
      OUTSIDE: tree.outside,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (s: string) => {
    if (err.length < 100_000) err += s;
  });
  const app: OffloadApp = {
    child,
    socket,
    io() {
      const text = readFileSync(`/proc/${child.pid}/io`, 'latin1');
      const field = (name: string) => Number(new RegExp(`^${name}: (\\d+)$`, 'm').exec(text)![1]);
      return { rchar: field('rchar'), wchar: field('wchar') };
    },
    stop: () => stopChild(child),
  };
  try {
    await waitForListener(socket, 20_000, () => (child.exitCode !== null ? `offload app exited: ${err}` : null));
  } catch (e) {
    await app.stop();
    throw e;
  }
  return app;
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

export interface OffloadFront {
  port(): number;
  app(): OffloadApp;
  tree(): OffloadTree;
  /** Paths the web server must refuse itself (nginx: the internal location asked for directly). */
  refusedByServer?: string[];
}

/** Runs `get` and returns what the app read and wrote meanwhile. */
async function measured<T>(app: OffloadApp, get: () => Promise<T>): Promise<{ r: T; read: number; wrote: number }> {
  const before = app.io();
  const r = await get();
  const after = app.io();
  return { r, read: after.rchar - before.rchar, wrote: after.wchar - before.wchar };
}

/** The checks, as `it`s inside the caller's describe. */
export function offloadChecks(front: OffloadFront): void {
  const get = (path: string, headers: Record<string, string> = {}, method = 'GET') =>
    fetchRaw(front.port(), path, { headers, method, timeoutMs: 30_000 });

  it('the web server sends the bytes: the file whole, its length, the type from the app; the app moved only KiBs', {
    timeout: 30_000,
  }, async (t) => {
    const { big } = front.tree();
    // The app loads its table of file types (mime-db, 200 KB) at the first file it sends: not measured.
    assert.equal((await get('/files/sub/index.html')).status, 200);
    const m = await measured(front.app(), () => get('/files/big.bin'));
    assert.equal(m.r.status, 200);
    assert.equal(m.r.headers['content-length'], String(big.length));
    assert.equal(sha256(m.r.body), sha256(big));
    assert.equal(m.r.headers['content-type'], 'application/octet-stream');
    t.diagnostic(`8 MiB offloaded: the app read ${m.read} and wrote ${m.wrote} bytes`);
    assert.ok(m.wrote < 64 * 1024 && m.read < 64 * 1024, `the app read ${m.read} and wrote ${m.wrote} bytes`);
    const typed = await measured(front.app(), () => get('/typed'));
    assert.equal(typed.r.headers['content-type'], 'application/x-offload-test');
    assert.equal(sha256(typed.r.body), sha256(big));
    assert.ok(typed.wrote < 64 * 1024, `the app wrote ${typed.wrote} bytes`);
  });

  it('a file outside the mapped directory is streamed by the app (and the measure sees it)', {
    timeout: 30_000,
  }, async (t) => {
    const { other } = front.tree();
    const m = await measured(front.app(), () => get('/outside'));
    assert.equal(m.r.status, 200);
    assert.equal(sha256(m.r.body), sha256(other));
    t.diagnostic(`2 MiB streamed: the app read ${m.read} and wrote ${m.wrote} bytes`);
    assert.ok(m.wrote >= other.length && m.read >= other.length, `the app read ${m.read} and wrote ${m.wrote} bytes`);
  });

  it('Range: 206 with the right bytes, from the web server', { timeout: 30_000 }, async () => {
    const { big } = front.tree();
    const from = 3 * MiB + 17;
    const m = await measured(front.app(), () => get('/files/big.bin', { range: `bytes=${from}-${from + 99_999}` }));
    assert.equal(m.r.status, 206);
    assert.equal(m.r.headers['content-range'], `bytes ${from}-${from + 99_999}/${big.length}`);
    assert.deepEqual(m.r.body, big.subarray(from, from + 100_000));
    assert.ok(m.wrote < 64 * 1024, `the app wrote ${m.wrote} bytes`);
    const tail = await get('/files/big.bin', { range: 'bytes=-10' });
    assert.deepEqual(tail.body, big.subarray(big.length - 10));
    assert.equal((await get('/files/big.bin', { range: `bytes=${big.length}-` })).status, 416);
  });

  it('download: the Content-Disposition from the app arrives', { timeout: 30_000 }, async () => {
    const r = await get('/dl');
    assert.equal(r.status, 200);
    assert.match(
      String(r.headers['content-disposition']),
      /^attachment; filename="report \?\.bin"; filename\*=UTF-8''report%20%E2%98%83\.bin$/,
    );
    assert.equal(sha256(r.body), sha256(front.tree().big));
  });

  it('HEAD: the length of the file, no body', { timeout: 30_000 }, async () => {
    const r = await get('/files/big.bin', {}, 'HEAD');
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-length'], String(front.tree().big.length));
    assert.equal(r.body.length, 0);
  });

  it('conditional GETs: 304 for the ETag and the Last-Modified the client was given', { timeout: 30_000 }, async () => {
    const r = await get('/files/a%20b.txt');
    const etag = r.headers.etag;
    const modified = r.headers['last-modified'];
    assert.ok(etag && modified, JSON.stringify(r.headers));
    const nm = await get('/files/a%20b.txt', { 'if-none-match': etag });
    assert.equal(nm.status, 304);
    assert.equal(nm.body.length, 0);
    assert.equal((await get('/files/a%20b.txt', { 'if-modified-since': modified })).status, 304);
    assert.equal((await get('/files/a%20b.txt', { 'if-none-match': '"other"' })).status, 200);
  });

  it('awkward names reach the web server as the right file: space, %, ?, #, non-ASCII', {
    timeout: 30_000,
  }, async () => {
    assert.equal((await get('/files/a%20b.txt')).body.toString(), 'space\n');
    assert.equal((await get('/files/a%2520b.txt')).body.toString(), 'percent-20\n');
    assert.equal((await get('/files/odd%20%3F%23%E2%98%83%20name.txt')).body.toString(), 'odd\n');
  });

  it('the app still refuses: missing 404 (its own page), traversal, dotfiles; the secret never leaks', {
    timeout: 30_000,
  }, async () => {
    const missing = await get('/files/nope.txt');
    assert.equal(missing.status, 404);
    assert.match(missing.body.toString(), /Cannot GET \/files\/nope\.txt/);
    for (const path of [
      '/files/..%2Foutside%2Fsecret.txt',
      '/files/%2e%2e/outside/secret.txt',
      '/files/..%5Coutside%5Csecret.txt',
      '/files/.secret',
      '/files/%2esecret',
      ...(front.refusedByServer ?? []),
    ]) {
      const r = await get(path);
      assert.ok(r.status >= 400 && r.status < 500, `${path}: ${r.status}`);
      assert.ok(!r.body.toString().includes(SECRET), path);
    }
    assert.equal((await get('/files/sub/')).body.toString(), '<p>sub</p>\n');
  });
}
