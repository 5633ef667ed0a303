// The V8 code cache of a bundle (packages/core/src/bundle/code-cache.ts): written in ~/.cache/fcgi
// by the first start, read by the next, and never read from a place or file another user could
// have written; a cache V8 refuses, or an earlier version's, is replaced. Real bundles run as CGI.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  lstatSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ROOT } from './helpers/app-process.js';
import { APP_PATH } from './helpers/deploy-app.js';

/** The bundle path's part of a cache's name (FNV-1a, as code-cache.ts names it). */
function pathHash(path: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < path.length; i++) h = Math.imul(h ^ path.charCodeAt(i), 0x01000193) >>> 0;
  return `-${h.toString(16)}-`;
}

function bundle(entry: string, out: string, flags: string[] = []): void {
  const r = spawnSync(process.execPath, ['scripts/bundle.mjs', ...flags, entry, out], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(r.status, 0, r.stderr);
}

/** One GET of `uri` as CGI with `home` as HOME; the process exits after it, which writes a missing cache. */
function spawnCgi(file: string, home: string, uri = '/') {
  return spawnSync(file, [], {
    cwd: '/',
    encoding: 'utf8',
    timeout: 15_000,
    env: {
      PATH: APP_PATH,
      HOME: home,
      GATEWAY_INTERFACE: 'CGI/1.1',
      SERVER_PROTOCOL: 'HTTP/1.1',
      REQUEST_METHOD: 'GET',
      REQUEST_URI: uri,
      SCRIPT_NAME: '/app.cgi',
    },
  });
}

/** spawnCgi of / that must exit 0 with the hello's answer; its stderr. */
function runCgi(file: string, home: string): string {
  const r = spawnCgi(file, home);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /Hello World/);
  return r.stderr;
}

describe('the code cache of a bundle', { timeout: 120_000 }, () => {
  let dir = '';
  let home = '';
  let file = '';
  let cacheDir = '';
  const caches = () => readdirSync(cacheDir).filter((n) => n.endsWith('.v8'));

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'fcgi-code-cache-'));
    home = join(dir, 'home');
    file = join(dir, 'app.cgi');
    cacheDir = join(home, '.cache', 'fcgi');
    spawnSync('mkdir', ['-m', '755', home]);
    bundle('test/fixtures/memory-app.ts', file);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('the first start writes it (directories 700, file 600); the next reads it and leaves it as it is', () => {
    runCgi(file, home);
    assert.equal(caches().length, 1);
    const cache = join(cacheDir, caches()[0]!);
    assert.equal(statSync(cacheDir).mode & 0o777, 0o700);
    assert.equal(statSync(join(home, '.cache')).mode & 0o777, 0o700);
    assert.equal(statSync(cache).mode & 0o777, 0o600);
    const before = statSync(cache);
    runCgi(file, home);
    const after = statSync(cache);
    assert.equal(after.ino, before.ino, 'not written again');
    assert.equal(after.mtimeMs, before.mtimeMs);
  });

  it('a cache V8 refuses (not one of its own) is replaced, and the app answers', () => {
    const cache = join(cacheDir, caches()[0]!);
    writeFileSync(cache, Buffer.alloc(4096, 0x41), { mode: 0o600 });
    runCgi(file, home);
    assert.notDeepEqual(readFileSync(cache).subarray(0, 64), Buffer.alloc(64, 0x41));
  });

  it('a link in place of the cache is not followed: replaced by a file, its target untouched', () => {
    const cache = join(cacheDir, caches()[0]!);
    const target = join(dir, 'target');
    const bytes = readFileSync(cache);
    writeFileSync(target, bytes, { mode: 0o600 });
    unlinkSync(cache);
    symlinkSync(target, cache);
    runCgi(file, home);
    assert.ok(lstatSync(cache).isFile());
    assert.deepEqual(readFileSync(target), bytes);
  });

  it('a cache directory others can write is neither read nor written', () => {
    for (const name of caches()) unlinkSync(join(cacheDir, name));
    chmodSync(cacheDir, 0o777);
    try {
      runCgi(file, home);
      assert.deepEqual(caches(), []);
    } finally {
      chmodSync(cacheDir, 0o700);
    }
  });

  it("a cache file of another user's is not read: replaced by one of ours", {
    skip: process.getuid?.() !== 0 ? 'needs root to give a file to another user' : false,
  }, () => {
    runCgi(file, home);
    const cache = join(cacheDir, caches()[0]!);
    chownSync(cache, 65534, 65534);
    runCgi(file, home);
    assert.equal(statSync(cache).uid, process.getuid!());
  });

  it('a bundle edited in place by hand, to the same length, runs as edited, not as cached', () => {
    runCgi(file, home);
    const original = readFileSync(file, 'latin1');
    writeFileSync(file, original.replace('Hello World', 'Hello Earth'), 'latin1');
    try {
      for (let i = 0; i < 2; i++) {
        assert.match(spawnCgi(file, home).stdout, /Hello Earth/);
      }
    } finally {
      writeFileSync(file, original, 'latin1');
    }
    runCgi(file, home);
  });

  it('a new version at the same path: its cache replaces the old one', () => {
    const old = caches().filter((n) => n.includes(pathHash(file)));
    assert.equal(old.length, 1);
    bundle('test/fixtures/version-app.ts', file);
    const r = spawnCgi(file, home, '/version');
    assert.equal(r.status, 0, r.stderr);
    const now = caches().filter((n) => n.includes(pathHash(file)));
    assert.equal(now.length, 1);
    assert.notEqual(now[0], old[0]);
  });

  it('--no-source-maps bundles run as they are, without a cache', () => {
    const plain = join(dir, 'plain.cgi');
    bundle('test/fixtures/memory-app.ts', plain, ['--no-source-maps']);
    const before = caches();
    runCgi(plain, home);
    assert.deepEqual(caches(), before);
  });
});
