// serveStatic behind Apache 2.4 + mod_fcgid: test/fixtures/static-fcgid-app.ts bundled into
// app.fcgi (scripts/bundle.mjs), spawned by mod_fcgid from an .htaccess as www-data, the root
// (the hostile tree of test/fixtures/static/tree.ts, outside the DocumentRoot) given through
// FcgidInitialEnv. What the client sees after Apache parsed the app's CGI headers: validators,
// 304, ranges, HEAD, directory redirects, dotfiles, encoded traversal, precompressed variants and
// a 20 MB download.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, lstatSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { brotliDecompressSync } from 'node:zlib';
import { apacheDeploy, skipUnlessApache } from './helpers/apache-deploy.js';
import { FCGID_HTACCESS } from './helpers/deploy-app.js';
import { fetchRaw, freePort, type HttpOptions } from './helpers/nginx.js';
import { SECRET, makeStaticTree, type StaticTree } from './fixtures/static/tree.js';

const skip = skipUnlessApache(['fcgid'], 'apache2 libapache2-mod-fcgid');
const BIG = 20 * 1024 * 1024;

/**
 * mkdtemp made the tree's dir 0700: open it (and everything real below it, `outside` included, so
 * a traversal bug WOULD leak) to www-data. Symlinks are left alone (chmod would follow them).
 */
function openToEveryone(path: string): void {
  const st = lstatSync(path);
  if (st.isDirectory()) {
    chmodSync(path, 0o755);
    for (const name of readdirSync(path)) openToEveryone(join(path, name));
  } else if (st.isFile()) {
    chmodSync(path, 0o644);
  }
}

/** The parts of a multipart/byteranges body: each part's Content-Range and bytes. */
function parseByteranges(body: Buffer, contentType: string): { range: string; data: string }[] {
  const boundary = /boundary=("?)([^";]+)\1/.exec(contentType)?.[2];
  assert.ok(boundary, contentType);
  const parts = body.toString('latin1').split(`--${boundary}`);
  assert.equal(parts.at(-1)!.trim(), '--', 'the closing delimiter ends the body');
  return parts.slice(1, -1).map((p) => {
    const [head, data] = p.replace(/^\r\n/, '').split('\r\n\r\n') as [string, string];
    const range = /^content-range: *(.+)$/im.exec(head)?.[1] ?? '';
    return { range: range.trim(), data: data.replace(/\r\n$/, '') };
  });
}

/** Whose error page: Apache's (HTML 4.01 doctype) or the app's. */
const refusedBy = (body: Buffer) => (body.toString().includes('HTML PUBLIC') ? 'apache' : 'app');

describe('serveStatic behind Apache mod_fcgid (bundled app.fcgi from .htaccess)', { skip, timeout: 60_000 }, () => {
  let tree: StaticTree | undefined;
  let bigSha = '';
  let slashPort = 0;
  const apache = apacheDeploy({
    prefix: 'fcgi-static-fcgid-',
    mpm: 'event',
    modules: ['rewrite', 'fcgid'],
    fcgid: true,
    app: { entry: 'test/fixtures/static-fcgid-app.ts', file: 'app.fcgi', htaccess: FCGID_HTACCESS },
    setup: async ({ www }) => {
      tree = await makeStaticTree();
      const big = randomBytes(BIG);
      bigSha = createHash('sha256').update(big).digest('hex');
      writeFileSync(join(tree.root, 'big.bin'), big);
      openToEveryone(tree.dir);
      slashPort = await freePort();
      return `FcgidInitialEnv STATIC_ROOT ${tree.root}
FcgidIOTimeout 30
# A second site that lets encoded slashes through (stock Apache answers 404 itself), so they reach the app.
Listen 127.0.0.1:${slashPort}
<VirtualHost 127.0.0.1:${slashPort}>
  DocumentRoot ${www}
  AllowEncodedSlashes NoDecode
</VirtualHost>
`;
    },
    startTimeout: 40_000,
  });
  after(() => tree?.remove(), { timeout: 30_000 });
  const get = (path: string, options?: HttpOptions) => fetchRaw(apache.port, path, options);

  it('a plain file: body, Content-Type, Content-Length, ETag, Last-Modified', { timeout: 15_000 }, async () => {
    const r = await get('/hello.txt');
    assert.equal(r.status, 200, `${r.body}\n${apache.errorLog()}`);
    assert.equal(r.body.toString(), 'hello world\n');
    assert.equal(r.headers['content-type'], 'text/plain; charset=utf-8');
    assert.equal(r.headers['content-length'], '12');
    assert.match(r.headers.etag ?? '', /^W\/"[^"]+"$/);
    assert.equal(r.headers['last-modified'], tree!.mtime.toUTCString());
    const bin = await get('/data.bin');
    assert.equal(bin.headers['content-type'], 'application/octet-stream');
    assert.deepEqual(bin.body, Buffer.from([0, 1, 2, 3, 254, 255]));
  });

  // Apache alone would also turn a plain 200 carrying this ETag into a 304 (util_script.c runs
  // ap_meets_conditions when the script sends no Status:), so this proves the round trip; the
  // If-Range test below is a conditional only the app answers (Apache left an app's 200 unranged when tried).
  it('If-None-Match with the ETag: 304 without a body', { timeout: 15_000 }, async () => {
    const full = await get('/range.txt');
    assert.equal(full.status, 200);
    const r = await get('/range.txt', { headers: { 'if-none-match': full.headers.etag! } });
    assert.equal(r.status, 304);
    assert.equal(r.body.length, 0);
    assert.equal(r.headers.etag, full.headers.etag);
    const other = await get('/range.txt', { headers: { 'if-none-match': 'W/"something-else"' } });
    assert.equal(other.status, 200, 'a different tag still gets the file');
    assert.equal(other.body.toString(), tree!.rangeText);
  });

  it('one range: 206 with Content-Range', { timeout: 15_000 }, async () => {
    const r = await get('/range.txt', { headers: { range: 'bytes=10-24' } });
    assert.equal(r.status, 206);
    assert.equal(r.headers['content-range'], 'bytes 10-24/100');
    assert.equal(r.headers['content-length'], '15');
    assert.equal(r.body.toString(), tree!.rangeText.slice(10, 25));
    const suffix = await get('/range.txt', { headers: { range: 'bytes=-5' } });
    assert.equal(suffix.status, 206);
    assert.equal(suffix.headers['content-range'], 'bytes 95-99/100');
    assert.equal(suffix.body.toString(), tree!.rangeText.slice(95));
  });

  it('If-Range: the exact Last-Modified gets the range, an older date or a weak ETag the whole file', {
    timeout: 15_000,
  }, async () => {
    const lastModified = tree!.mtime.toUTCString();
    const ok = await get('/range.txt', { headers: { range: 'bytes=0-4', 'if-range': lastModified } });
    assert.equal(ok.status, 206);
    assert.equal(ok.body.toString(), '01234');
    const older = new Date(tree!.mtime.getTime() - 60_000).toUTCString();
    const stale = await get('/range.txt', { headers: { range: 'bytes=0-4', 'if-range': older } });
    assert.equal(stale.status, 200);
    assert.equal(stale.body.toString(), tree!.rangeText);
    const etag = (await get('/range.txt')).headers.etag!;
    const weak = await get('/range.txt', { headers: { range: 'bytes=0-4', 'if-range': etag } });
    assert.equal(weak.status, 200, 'a weak tag never matches If-Range');
    assert.equal(weak.body.length, 100);
  });

  it('several ranges: 206 multipart/byteranges, each part with its Content-Range', { timeout: 15_000 }, async () => {
    const r = await get('/range.txt', { headers: { range: 'bytes=0-1,50-54' } });
    assert.equal(r.status, 206);
    const type = String(r.headers['content-type']);
    assert.match(type, /^multipart\/byteranges; boundary=/);
    assert.equal(Number(r.headers['content-length']), r.body.length);
    // The app's part headers (Apache's byterange filter would write `Content-type:`).
    assert.match(
      r.body.toString('latin1'),
      /\r\nContent-Type: text\/plain; charset=utf-8\r\nContent-Range: bytes 0-1\/100\r\n/,
    );
    assert.deepEqual(parseByteranges(r.body, type), [
      { range: 'bytes 0-1/100', data: tree!.rangeText.slice(0, 2) },
      { range: 'bytes 50-54/100', data: tree!.rangeText.slice(50, 55) },
    ]);
  });

  it('an unsatisfiable range: 416 with Content-Range bytes */len', { timeout: 15_000 }, async () => {
    const r = await get('/range.txt', { headers: { range: 'bytes=100-200' } });
    assert.equal(r.status, 416);
    assert.equal(r.headers['content-range'], 'bytes */100');
    assert.ok(!r.body.toString().includes(tree!.rangeText), 'no file content');
  });

  it('HEAD: the GET headers, no body', { timeout: 15_000 }, async () => {
    const get200 = await get('/range.txt');
    const r = await get('/range.txt', { method: 'HEAD' });
    assert.equal(r.status, 200);
    assert.equal(r.body.length, 0);
    assert.equal(r.headers['content-length'], '100');
    assert.equal(r.headers.etag, get200.headers.etag);
    assert.equal(r.headers['last-modified'], get200.headers['last-modified']);
    assert.equal(r.headers['content-type'], 'text/plain; charset=utf-8');
  });

  it('a directory without its slash: 301 to the URL the client used plus /; with it, index.html', {
    timeout: 15_000,
  }, async (t) => {
    const here = `(http://127\\.0\\.0\\.1:${apache.port})?`;
    const r = await get('/sub?x=1');
    assert.equal(r.status, 301);
    assert.match(r.headers.location ?? '', new RegExp(`^${here}/sub/\\?x=1$`), 'not /app.fcgi/sub/');
    t.diagnostic(`Location: ${r.headers.location}`);
    const snow = await get('/snow%20%E2%98%83');
    assert.equal(snow.status, 301);
    assert.match(snow.headers.location ?? '', new RegExp(`^${here}/snow%20%E2%98%83/$`));
    const index = await get('/sub/');
    assert.equal(index.status, 200);
    assert.equal(index.body.toString(), '<p>sub index</p>\n');
    assert.equal(index.headers['content-type'], 'text/html; charset=utf-8');
    const top = await get('/');
    assert.equal(top.status, 200);
    assert.equal(top.body.toString(), '<h1>home</h1>\n');
    assert.equal((await get('/snow%20%E2%98%83/')).body.toString(), '<p>snow index</p>\n');
  });

  it('dotfiles and dot-directories: 404', { timeout: 15_000 }, async () => {
    // ..foo.txt is a dotfile too (not a climb); link-dot.txt is a symlink to .git/config.
    for (const path of ['/.hidden', '/.git/config', '/.git/', '/..foo.txt', '/%2ehidden', '/link-dot.txt']) {
      const r = await get(path);
      assert.equal(r.status, 404, path);
      assert.ok(!/hidden file|repositoryformatversion|two dots/.test(r.body.toString()), path);
    }
  });

  it("encoded traversal never serves anything outside the root (Apache's refusal or the app's)", {
    timeout: 20_000,
  }, async (t) => {
    const seen: string[] = [];
    for (const path of [
      '/../outside/secret.txt',
      '/%2e%2e/outside/secret.txt',
      '/%2E%2E/outside/secret.txt',
      '/..%2foutside%2fsecret.txt',
      '/%2e%2e%2foutside%2fsecret.txt',
      '/%252e%252e/outside/secret.txt',
      '/%252e%252e%252foutside%252fsecret.txt',
      '/sub/..%2f..%2foutside/secret.txt',
      '/..%5coutside%5csecret.txt',
      '/%c0%ae%c0%ae/outside/secret.txt',
      '/..%2f..%2f..%2f..%2fetc%2fpasswd',
      '/%00',
      '/link-out.txt',
      '/dir-out/secret.txt',
      '/link-prefix.txt',
      '/..%2froot-evil%2fsecret.txt',
      '/sub/../.hidden',
    ]) {
      const r = await get(path);
      // Apache's own error pages name the server; the app's do not.
      seen.push(`${path} ${r.status} ${refusedBy(r.body)}`);
      assert.ok(r.status >= 400 && r.status < 500, `${path}: ${r.status}`);
      assert.ok(!r.body.toString().includes(SECRET), path);
      assert.ok(!r.body.toString().includes('root:x:0:0'), path);
    }
    t.diagnostic(`who refused: ${seen.join(', ')}`);
    // Decoded once by the app: the directory literally named %2e%2e inside the root.
    const literal = await get('/%252e%252e/literal.txt');
    assert.equal(literal.status, 200);
    assert.equal(literal.body.toString(), 'a directory literally named %2e%2e\n');
  });

  it('with AllowEncodedSlashes NoDecode, ..%2f reaches the app, which refuses it', { timeout: 15_000 }, async () => {
    for (const path of [
      '/..%2foutside%2fsecret.txt',
      '/%2e%2e%2foutside%2fsecret.txt',
      '/sub/..%2f..%2foutside/secret.txt',
      '/..%2F..%2F..%2F..%2Fetc%2Fpasswd',
      '/..%2froot-evil%2fsecret.txt',
    ]) {
      const r = await fetchRaw(slashPort, path);
      assert.equal(refusedBy(r.body), 'app', `${path}: ${r.status} ${r.body}`);
      assert.equal(r.status, 403, path);
      assert.ok(!r.body.toString().includes(SECRET) && !r.body.toString().includes('root:x:0:0'), path);
    }
    // An encoded slash that climbs nowhere is just a separator to the app.
    const inner = await fetchRaw(slashPort, '/sub%2fpage.txt');
    assert.equal(inner.status, 200, String(inner.body));
    assert.equal(inner.body.toString(), 'page\n');
  });

  it('Accept-Encoding: br gets the precompressed .br variant', { timeout: 15_000 }, async () => {
    const br = await get('/app.js', { headers: { 'accept-encoding': 'gzip, br' } });
    assert.equal(br.status, 200);
    assert.equal(br.headers['content-encoding'], 'br');
    assert.equal(br.headers.vary, 'Accept-Encoding');
    assert.equal(br.headers['content-type'], 'text/javascript; charset=utf-8');
    assert.equal(Number(br.headers['content-length']), br.body.length);
    assert.ok(br.body.length < Buffer.byteLength(tree!.appJs), 'the compressed bytes, not the identity ones');
    assert.equal(brotliDecompressSync(br.body).toString(), tree!.appJs);
    const plain = await get('/app.js');
    assert.equal(plain.headers['content-encoding'], undefined);
    assert.equal(plain.body.toString(), tree!.appJs);
    const escaped = await get('/escape.js', { headers: { 'accept-encoding': 'br' } });
    assert.equal(escaped.headers['content-encoding'], undefined, 'a .br symlinked outside the root is not used');
    assert.equal(escaped.body.toString(), 'identity escape.js\n');
  });

  it('a 20 MB file arrives intact (sha256)', { timeout: 20_000 }, async () => {
    const r = await get('/big.bin');
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-length'], String(BIG));
    assert.equal(r.body.length, BIG);
    assert.equal(createHash('sha256').update(r.body).digest('hex'), bigSha);
    assert.doesNotMatch(apache.errorLog(), /Permission denied|communication error|premature end|read data timeout/i);
  });
});
