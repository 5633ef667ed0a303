// A unix socket path that already exists: a stale socket (its process died) is replaced; a live
// one, even one too busy to accept, is left alone (EADDRINUSE); anything else is refused, untouched.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { lstatSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { createFcgiServer, ErrorCode, FcgiError, type FcgiServer } from '@fcgi/core';
import { Child, fcgiGet } from './helpers/raw-client.js';

delete process.env.FCGI_LISTEN;
const dir = await mkdtemp(join(tmpdir(), 'fcgi-sockfile-'));
const cleanups: (() => unknown)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
  await rm(dir, { recursive: true, force: true });
});

function server(options: Parameters<typeof createFcgiServer>[1] = {}): FcgiServer {
  const s = createFcgiServer((_req, res) => res.end('fresh\n'), options);
  cleanups.push(() => s.close());
  return s;
}

/** A node child listening on `path` (with a tiny backlog), reporting "up" once it does. */
async function childListener(path: string): Promise<Child> {
  const src = `require('net').createServer(() => {}).listen({ path: process.argv[1], backlog: 1 }, () => console.log('up'))`;
  const child = new Child(process.execPath, ['-e', src, path]);
  cleanups.push(() => child.stop());
  await child.waitFor(/up\n/);
  return child;
}

function tryConnect(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(path);
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

test('a stale socket left by a SIGKILLed process is replaced', { timeout: 20000 }, async () => {
  const path = join(dir, 'stale.sock');
  const dead = await childListener(path);
  await dead.stop('SIGKILL');
  const before = lstatSync(path);
  assert.ok(before.isSocket(), 'the killed process left its socket file behind');
  await assert.rejects(tryConnect(path), { code: 'ECONNREFUSED' });

  const s = server();
  assert.deepEqual(await s.listen(path), { kind: 'unix', path });
  // (Not compared by inode: tmpfs hands the freed inode number straight to the new file.)
  assert.ok(lstatSync(path).isSocket());
  assert.equal((await fcgiGet(path)).body.toString(), 'fresh\n');
});

test('a live socket fails with EADDRINUSE and keeps serving its owner', { timeout: 10000 }, async () => {
  const path = join(dir, 'live.sock');
  let accepted = 0;
  const other: Server = createServer((sock) => {
    accepted++;
    sock.destroy();
  });
  await new Promise<void>((resolve) => other.listen(path, resolve));
  cleanups.push(() => new Promise((resolve) => other.close(resolve)));
  const ino = lstatSync(path).ino;

  const s = server();
  await assert.rejects(s.listen(path), { code: 'EADDRINUSE' });
  assert.equal(s.net.listening, false);
  assert.equal(lstatSync(path).ino, ino, 'the socket file is the same one');
  const before = accepted;
  (await tryConnect(path)).destroy();
  await new Promise((r) => setTimeout(r, 50));
  assert.ok(accepted > before, 'the other server still accepts on its path');
});

test('a live socket whose backlog is full (connect gives EAGAIN) is not taken for stale', {
  timeout: 20000,
}, async () => {
  const path = join(dir, 'busy.sock');
  const busy = await childListener(path);
  // A stopped process accepts nothing: fill its backlog until connecting fails with EAGAIN.
  process.kill(busy.proc.pid!, 'SIGSTOP');
  cleanups.push(() => process.kill(busy.proc.pid!, 'SIGCONT'));
  const held: Socket[] = [];
  cleanups.push(() => held.forEach((h) => h.destroy()));
  let refusal: NodeJS.ErrnoException | null = null;
  for (let i = 0; i < 20 && !refusal; i++) {
    const r = await tryConnect(path).then(
      (sock) => sock,
      (err: NodeJS.ErrnoException) => err,
    );
    if (r instanceof Error) refusal = r;
    else held.push(r);
  }
  assert.equal(refusal?.code, 'EAGAIN', 'the backlog filled up');
  const ino = lstatSync(path).ino;
  const s = server();
  await assert.rejects(s.listen(path), { code: 'EADDRINUSE' });
  assert.equal(lstatSync(path).ino, ino, 'the busy server keeps its socket file');
});

test('a regular file at the path is refused and not deleted', { timeout: 10000 }, async () => {
  const path = join(dir, 'not-a-socket');
  writeFileSync(path, 'keep me\n');
  const s = server();
  await assert.rejects(
    s.listen(path),
    (err: unknown) => err instanceof FcgiError && err.code === ErrorCode.INVALID_LISTEN_TARGET,
  );
  assert.equal(readFileSync(path, 'utf8'), 'keep me\n');
  assert.equal(s.net.listening, false);
});

test('socketMode sets the mode of the socket file', { timeout: 10000 }, async () => {
  const plain = join(dir, 'plain.sock');
  await server().listen(plain);
  const path = join(dir, 'mode.sock');
  const s = server({ socketMode: 0o660 });
  await s.listen(path);
  assert.equal(lstatSync(path).mode & 0o777, 0o660);
  // Without the option the mode is whatever the umask gives, which is not 0o660 here.
  assert.notEqual(lstatSync(plain).mode & 0o777, 0o660);
  assert.equal((await fcgiGet(path)).body.toString(), 'fresh\n');
});
