// FCGI_LISTEN (in a child process, as a host would set it) and an explicit listen(target)
// in-process; FCGI_LISTEN wins over the target, and with neither listen() refuses.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { lstatSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFcgiServer, ErrorCode, FcgiError, type FcgiServer } from '@fcgi/core';
import { Child, fcgiGet, freePort } from './helpers/raw-client.js';

const dir = await mkdtemp(join(tmpdir(), 'fcgi-env-'));
const children: Child[] = [];
const servers: FcgiServer[] = [];
const saved = { listen: process.env.FCGI_LISTEN, addrs: process.env.FCGI_WEB_SERVER_ADDRS };
before(() => {
  delete process.env.FCGI_LISTEN;
  delete process.env.FCGI_WEB_SERVER_ADDRS;
});
after(async () => {
  await Promise.all(children.map((c) => c.stop()));
  await Promise.all(servers.map((s) => s.close()));
  await rm(dir, { recursive: true, force: true });
  if (saved.listen !== undefined) process.env.FCGI_LISTEN = saved.listen;
  if (saved.addrs !== undefined) process.env.FCGI_WEB_SERVER_ADDRS = saved.addrs;
});

function hello(listen: string): Child {
  const env: NodeJS.ProcessEnv = { ...process.env, FCGI_LISTEN: listen };
  delete env.FCGI_WEB_SERVER_ADDRS;
  const child = new Child(process.execPath, ['--import', 'tsx', 'examples/hello.ts'], { env });
  children.push(child);
  return child;
}

function server(): FcgiServer {
  const s = createFcgiServer((req, res) => res.end(`hi ${req.url}\n`));
  servers.push(s);
  return s;
}

test('FCGI_LISTEN=/path: hello.ts listens on that unix socket', { timeout: 30000 }, async () => {
  const sock = join(dir, 'hello.sock');
  const child = hello(sock);
  const m = await child.waitFor(/hello: listening on (.*)\n/);
  assert.deepEqual(JSON.parse(m[1]!), { kind: 'unix', path: sock });
  assert.ok(lstatSync(sock).isSocket());
  const r = await fcgiGet(sock);
  assert.equal(r.body.toString(), 'Hello World\n');
  await child.stop();
});

test('FCGI_LISTEN=unix:/path is a unix socket too', { timeout: 30000 }, async () => {
  const sock = join(dir, 'prefixed.sock');
  const child = hello(`unix:${sock}`);
  const m = await child.waitFor(/hello: listening on (.*)\n/);
  assert.deepEqual(JSON.parse(m[1]!), { kind: 'unix', path: sock });
  assert.equal((await fcgiGet(sock)).body.toString(), 'Hello World\n');
  await child.stop();
});

test('FCGI_LISTEN=127.0.0.1:port: hello.ts listens on that TCP port', { timeout: 30000 }, async () => {
  const port = await freePort();
  const child = hello(`127.0.0.1:${port}`);
  const m = await child.waitFor(/hello: listening on (.*)\n/);
  assert.deepEqual(JSON.parse(m[1]!), { kind: 'tcp', host: '127.0.0.1', port });
  const r = await fcgiGet({ host: '127.0.0.1', port });
  assert.equal(r.body.toString(), 'Hello World\n');
  await child.stop();
});

test('FCGI_LISTEN that cannot be read: the child fails with ERR_FCGI_INVALID_LISTEN_TARGET', {
  timeout: 30000,
}, async () => {
  const child = hello('abc');
  const code = await child.exited;
  assert.notEqual(code, 0);
  assert.match(child.stderr, /ERR_FCGI_INVALID_LISTEN_TARGET/);
});

test('listen(target) in-process without FCGI_LISTEN: unix path, port object, host:port string', {
  timeout: 10000,
}, async () => {
  const sock = join(dir, 'inproc.sock');
  const a = server();
  assert.deepEqual(await a.listen(sock), { kind: 'unix', path: sock });
  assert.deepEqual(a.address(), { kind: 'unix', path: sock });
  assert.equal((await fcgiGet(sock, '/a')).body.toString(), 'hi /a\n');

  const b = server();
  const where = await b.listen({ port: 0, host: '127.0.0.1' });
  assert.equal(where.kind, 'tcp');
  if (where.kind !== 'tcp') return;
  assert.equal(where.host, '127.0.0.1');
  assert.ok(where.port > 0, 'the real port is reported, not 0');
  assert.equal((await fcgiGet({ host: '127.0.0.1', port: where.port }, '/b')).body.toString(), 'hi /b\n');

  const port = await freePort();
  const c = server();
  assert.deepEqual(await c.listen(`127.0.0.1:${port}`), { kind: 'tcp', host: '127.0.0.1', port });
  assert.equal((await fcgiGet({ host: '127.0.0.1', port }, '/c')).body.toString(), 'hi /c\n');
});

test('FCGI_LISTEN wins over the target given to listen()', { timeout: 10000 }, async () => {
  const sock = join(dir, 'from-env.sock');
  process.env.FCGI_LISTEN = sock;
  try {
    const s = server();
    assert.deepEqual(await s.listen({ port: 0, host: '127.0.0.1' }), { kind: 'unix', path: sock });
    assert.equal((await fcgiGet(sock)).body.toString(), 'hi /\n');
  } finally {
    delete process.env.FCGI_LISTEN;
  }
});

test('listen() with no fd 0 socket, no FCGI_LISTEN and no target rejects', { timeout: 10000 }, async () => {
  const s = server();
  await assert.rejects(
    s.listen(),
    (err: unknown) => err instanceof FcgiError && err.code === ErrorCode.INVALID_LISTEN_TARGET,
  );
  await assert.rejects(
    s.listen('abc'),
    (err: unknown) => err instanceof FcgiError && err.code === ErrorCode.INVALID_LISTEN_TARGET,
  );
  assert.equal(s.net.listening, false);
});

test('listen() on a TCP port in use rejects with EADDRINUSE instead of crashing the process', {
  timeout: 10000,
}, async () => {
  const a = server();
  const where = await a.listen({ port: 0 });
  assert.equal(where.kind, 'tcp');
  if (where.kind !== 'tcp') return;
  const b = server();
  // Before the fix the error was also emitted as 'error' on the server, with no listener: a crash.
  await assert.rejects(b.listen({ port: where.port }), { code: 'EADDRINUSE' });
  assert.equal(b.net.listening, false);
  assert.equal(b.net.listenerCount('error'), 1, 'listen() removes its own error listener');
  assert.equal((await fcgiGet({ host: '127.0.0.1', port: where.port })).body.toString(), 'hi /\n');
});
