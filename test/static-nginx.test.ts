// serveStatic behind a real nginx (Debian's package, stock fastcgi_params, kept-alive upstream):
// the app runs as a child process (test/fixtures/static/big-file-app.ts) so its memory can be
// measured alone. A sparse 1 GB file is downloaded whole with the app's RSS growth bounded; the
// hostile paths, validators, ranges and precompressed variants are checked through nginx too.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, open, rm, truncate, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { brotliDecompressSync } from 'node:zlib';
import { ROOT, skipUnless, stopChild, waitForListener } from './helpers/app-process.js';
import { NGINX, fetchRaw, startNginx, type Nginx } from './helpers/nginx.js';
import { SECRET, makeStaticTree, type StaticTree } from './fixtures/static/tree.js';

const skip = skipUnless(NGINX, 'nginx');
const GB = 1024 * 1024 * 1024;
/** Bytes written into the sparse file at these offsets, to check the stream delivers them in place. */
const MARKS = [0, 65_532, 256 * 1024 - 3, 512 * 1024 * 1024, GB - 8]; // two straddle chunk and record boundaries
const mark = (offset: number) => Buffer.from(`M${(offset % 1e7).toString().padStart(7, '0')}`);

interface MemReport {
  baseline: { rss: number };
  peak: { rss: number; external: number };
  now: { rss: number };
}

/** The app as a child with IPC (to ask it for its memory samples). */
async function startStaticApp(
  root: string,
): Promise<{ child: ChildProcess; socket: string; dir: string; ask(msg: string): Promise<MemReport> }> {
  const dir = await mkdtemp(join(tmpdir(), 'fcgi-static-app-'));
  const socket = join(dir, 'app.sock');
  const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', 'test/fixtures/static/big-file-app.ts'], {
    cwd: ROOT,
    env: { ...process.env, FCGI_LISTEN: socket, STATIC_ROOT: root },
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  let err = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (s: string) => {
    if (err.length < 100_000) err += s;
  });
  await waitForListener(socket, 20_000, () => (child.exitCode !== null ? `app exited: ${err}` : null));
  const ask = (msg: string) =>
    new Promise<MemReport>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no answer to ${msg}`)), 5000);
      child.once('message', (m) => {
        clearTimeout(t);
        resolve(m as MemReport);
      });
      child.send(msg);
    });
  return { child, socket, dir, ask };
}

/** Streams a GET through nginx, keeping only the length and the bytes at MARKS. */
function download(
  port: number,
  path: string,
): Promise<{ status: number; length: number; marks: Map<number, Buffer>; ms: number }> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, timeout: 30_000 }, (res) => {
      let length = 0;
      const marks = new Map<number, Buffer>();
      res.on('data', (chunk: Buffer) => {
        for (const m of MARKS) {
          const from = Math.max(m, length);
          const to = Math.min(m + 8, length + chunk.length);
          if (from < to)
            marks.set(m, Buffer.concat([marks.get(m) ?? Buffer.alloc(0), chunk.subarray(from - length, to - length)]));
        }
        length += chunk.length;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, length, marks, ms: Date.now() - started }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('download timed out')));
    req.on('error', reject);
    req.end();
  });
}

describe('serveStatic behind nginx', { skip, timeout: 120_000 }, () => {
  let tree: StaticTree;
  let app: Awaited<ReturnType<typeof startStaticApp>> | undefined;
  let nginx: Nginx | undefined;

  before(async () => {
    tree = await makeStaticTree();
    const big = join(tree.root, 'big.bin');
    await writeFile(big, '');
    await truncate(big, GB); // sparse: no disk blocks, reads as zeros
    const fh = await open(big, 'r+');
    try {
      for (const m of MARKS) await fh.write(mark(m), 0, 8, m);
    } finally {
      await fh.close();
    }
    app = await startStaticApp(tree.root);
    nginx = await startNginx(app.socket);
  });

  after(async () => {
    await nginx?.stop();
    if (app) {
      await stopChild(app.child);
      await rm(app.dir, { recursive: true, force: true });
    }
    await tree?.remove();
  });

  it("downloads a 1 GB file whole with the app's RSS growth under 64 MB", { timeout: 90_000 }, async (t) => {
    await app!.ask('reset');
    const r = await download(nginx!.port, '/big.bin');
    const mem = await app!.ask('report');
    assert.equal(r.status, 200);
    assert.equal(r.length, GB);
    for (const m of MARKS) assert.deepEqual(r.marks.get(m), mark(m), `bytes at ${m}`);
    const growth = mem.peak.rss - mem.baseline.rss;
    const mb = (n: number) => `${(n / 1048576).toFixed(1)} MB`;
    t.diagnostic(
      `1 GB through nginx in ${r.ms} ms (${(GB / 1048576 / (r.ms / 1000)).toFixed(0)} MB/s); app RSS baseline ` +
        `${mb(mem.baseline.rss)}, peak ${mb(mem.peak.rss)} (growth ${mb(growth)}), external+arrayBuffers at peak ${mb(mem.peak.external)}`,
    );
    assert.ok(growth < 64 * 1048576, `RSS grew by ${mb(growth)}`);
    assert.equal(nginx!.errorLog().match(/upstream (sent|prematurely)/g), null, nginx!.errorLog());
  });

  it('a range deep inside the 1 GB file', async () => {
    const at = 512 * 1024 * 1024;
    const r = await fetchRaw(nginx!.port, '/big.bin', { headers: { range: `bytes=${at - 4}-${at + 11}` } });
    assert.equal(r.status, 206);
    assert.equal(r.headers['content-range'], `bytes ${at - 4}-${at + 11}/${GB}`);
    assert.deepEqual(r.body, Buffer.concat([Buffer.alloc(4), mark(at), Buffer.alloc(4)]));
  });

  it('hostile paths through nginx never reach outside the root', async () => {
    for (const path of [
      '/../outside/secret.txt',
      '/%2e%2e/outside/secret.txt',
      '/..%2foutside%2fsecret.txt',
      '/%252e%252e/outside/secret.txt',
      '/..%5coutside%5csecret.txt',
      '/%c0%ae%c0%ae/outside/secret.txt',
      '/link-out.txt',
      '/dir-out/secret.txt',
      '/.git/config',
      '/.hidden',
      '/%00',
    ]) {
      const r = await fetchRaw(nginx!.port, path);
      assert.ok(r.status >= 400 && r.status < 500, `${path}: ${r.status}`);
      assert.ok(!r.body.toString().includes(SECRET), path);
    }
    const ok = await fetchRaw(nginx!.port, '/snow%20%E2%98%83/flake%20%E2%9D%84.txt');
    assert.equal(ok.body.toString(), 'flake\n');
    const dir = await fetchRaw(nginx!.port, '//evil.example');
    assert.equal(dir.status, 301);
    assert.match(dir.headers.location!, /^(http:\/\/[^/]+)?\/evil\.example\/$/);
  });

  it('validators, HEAD, 304 and precompressed variants through nginx', async () => {
    const full = await fetchRaw(nginx!.port, '/range.txt');
    assert.equal(full.status, 200);
    assert.equal(full.headers['content-length'], '100');
    const head = await fetchRaw(nginx!.port, '/range.txt', { method: 'HEAD' });
    assert.equal(head.headers['content-length'], '100');
    assert.equal(head.body.length, 0);
    const nm = await fetchRaw(nginx!.port, '/range.txt', { headers: { 'if-none-match': full.headers.etag! } });
    assert.equal(nm.status, 304);
    assert.equal(nm.body.length, 0);
    const multi = await fetchRaw(nginx!.port, '/range.txt', { headers: { range: 'bytes=0-1,10-11' } });
    assert.equal(multi.status, 206);
    assert.match(String(multi.headers['content-type']), /^multipart\/byteranges; boundary=/);
    assert.equal(Number(multi.headers['content-length']), multi.body.length);
    const br = await fetchRaw(nginx!.port, '/app.js', { headers: { 'accept-encoding': 'gzip, br' } });
    assert.equal(br.headers['content-encoding'], 'br');
    assert.equal(br.headers.vary, 'Accept-Encoding');
    assert.equal(brotliDecompressSync(br.body).toString(), tree.appJs);
  });
});
