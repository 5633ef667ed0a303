// Who may talk to the app at all: over TCP only the web server addresses allowed
// (FCGI_WEB_SERVER_ADDRS / webServerAddrs), checked against a real peer address (the client binds
// 127.0.0.2 or 127.0.0.1: both loopback); over a unix socket, the file's mode, checked by
// connecting as another local user (nobody).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmod, mkdtemp, rm, stat } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFcgiServer, type FcgiServer } from '@fcgi/core';
import { RecordType, encodeBeginRequest, encodeNameValues, encodeStream } from '@fcgi/core/protocol';

const T = { timeout: 20_000 };

/** Sends a whole GET from `localAddress`; resolves with the bytes that came back before the close. */
function tryTcp(port: number, localAddress: string): Promise<{ bytes: number; error: string | null }> {
  return new Promise((resolve) => {
    let bytes = 0;
    let error: string | null = null;
    const s = connect({ host: '127.0.0.1', port, localAddress }, () => {
      s.write(
        Buffer.concat([
          encodeBeginRequest(1, 1, false),
          encodeStream(RecordType.PARAMS, 1, encodeNameValues({ REQUEST_URI: '/', REQUEST_METHOD: 'GET' })),
          encodeStream(RecordType.STDIN, 1, Buffer.alloc(0)),
        ]),
      );
    });
    s.on('data', (c: Buffer) => (bytes += c.length));
    s.on('error', (e: NodeJS.ErrnoException) => (error = e.code ?? e.message));
    s.on('close', () => resolve({ bytes, error }));
    s.setTimeout(5000, () => s.destroy());
  });
}

describe('FCGI_WEB_SERVER_ADDRS over TCP', () => {
  for (const how of ['option', 'environment'] as const) {
    it(
      `from the ${how}: only 127.0.0.2 may connect; 127.0.0.1 is closed before any byte and never reaches the handler`,
      T,
      async () => {
        let calls = 0;
        let server: FcgiServer;
        const saved = process.env.FCGI_WEB_SERVER_ADDRS;
        if (how === 'environment') process.env.FCGI_WEB_SERVER_ADDRS = '10.0.0.9, 127.0.0.2';
        try {
          server = createFcgiServer(
            (_req, res) => {
              calls++;
              res.end('hello');
            },
            { onConnectionError: () => {}, ...(how === 'option' ? { webServerAddrs: ['127.0.0.2'] } : {}) },
          );
        } finally {
          if (saved === undefined) delete process.env.FCGI_WEB_SERVER_ADDRS;
          else process.env.FCGI_WEB_SERVER_ADDRS = saved;
        }
        const addr = await server.listenOn({ kind: 'tcp', host: '127.0.0.1', port: 0 });
        try {
          const port = (addr as { port: number }).port;
          const allowed = await tryTcp(port, '127.0.0.2');
          assert.ok(allowed.bytes > 0, 'the allowed address is answered');
          const refused = await tryTcp(port, '127.0.0.1');
          assert.equal(refused.bytes, 0, 'not a byte to a refused address');
          assert.equal(calls, 1);
        } finally {
          await server.close();
        }
      },
    );
  }
});

/** The uid and gid of `nobody`, when this runs as root (only root can connect as another user). */
function nobody(): { uid: number; gid: number } | null {
  if (process.getuid?.() !== 0) return null;
  const id = spawnSync('id', ['-u', 'nobody'], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', 'nobody'], { encoding: 'utf8' });
  return id.status === 0 && gid.status === 0 ? { uid: Number(id.stdout), gid: Number(gid.stdout) } : null;
}

/** Connects to `path` from a child process running as `user`: 'connected' or the error code. */
function connectAs(user: { uid: number; gid: number }, path: string): string {
  const code = `const s=require('net').connect(${JSON.stringify(path)});s.on('connect',()=>{console.log('connected');s.destroy()});s.on('error',e=>console.log(e.code))`;
  const r = spawnSync(process.execPath, ['-e', code], {
    uid: user.uid,
    gid: user.gid,
    encoding: 'utf8',
    timeout: 10_000,
    cwd: '/',
  });
  return r.stdout.trim() || `exit ${r.status}: ${r.stderr}`;
}

describe('unix socket mode', { skip: nobody() ? false : 'needs root to connect as nobody' }, () => {
  it('default (no socketMode) under umask 022: mode 755, another local user gets EACCES', T, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fcgi-mode-'));
    await chmod(dir, 0o755);
    const path = join(dir, 'app.sock');
    const server = createFcgiServer((_req, res) => res.end('x'), { onConnectionError: () => {} });
    const saved = process.umask(0o022);
    try {
      await server.listenOn({ kind: 'unix', path });
      assert.equal((await stat(path)).mode & 0o777, 0o755);
      assert.equal(connectAs(nobody()!, path), 'EACCES');
    } finally {
      process.umask(saved);
      await server.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  for (const [mode, expected] of [
    [0o600, 'EACCES'],
    [0o660, 'EACCES'],
    [0o666, 'connected'],
  ] as const) {
    it(`socketMode ${mode.toString(8)}: another local user gets ${expected}`, T, async () => {
      const dir = await mkdtemp(join(tmpdir(), 'fcgi-mode-'));
      await chmod(dir, 0o755); // the directory is open: only the socket's own mode decides
      const path = join(dir, 'app.sock');
      const server = createFcgiServer((_req, res) => res.end('x'), { socketMode: mode, onConnectionError: () => {} });
      try {
        await server.listenOn({ kind: 'unix', path });
        assert.equal((await stat(path)).mode & 0o777, mode);
        assert.equal(connectAs(nobody()!, path), expected);
      } finally {
        await server.close();
        await rm(dir, { recursive: true, force: true });
      }
    });
  }
});
