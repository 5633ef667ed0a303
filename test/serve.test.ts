// serve() in this process: the mode it picks (FCGI_LISTEN, then a target, else the development
// gateway), and that the gateway mode cleans up after itself, also when its port is taken.
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FcgiClient, serve, type FcgiRequest, type FcgiResponse } from '@fcgi/core';

const handler = (req: FcgiRequest, res: FcgiResponse) => {
  res.setHeader('Content-Type', 'text/plain');
  res.end(`${req.method} ${req.url} via ${req.environ.SERVER_SOFTWARE ?? '?'}\n`);
};

function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (s: string) => (body += s));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

describe('serve()', { timeout: 60_000 }, () => {
  let dir = '';
  const saved = { FCGI_LISTEN: process.env.FCGI_LISTEN, TMPDIR: process.env.TMPDIR, PORT: process.env.PORT };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fcgi-serve-'));
    delete process.env.FCGI_LISTEN;
    delete process.env.PORT;
  });
  after(async () => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    await rm(dir, { recursive: true, force: true });
  });

  it('with nothing given: the development gateway on the port asked for; close() removes its socket dir', {
    timeout: 15_000,
  }, async () => {
    process.env.TMPDIR = join(dir, 'gw');
    await mkdir(process.env.TMPDIR);
    const serving = await serve(handler, { port: 0, announce: false });
    try {
      assert.equal(serving.mode, 'gateway');
      if (serving.mode !== 'gateway') return;
      assert.match(serving.url, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.equal(readdirSync(process.env.TMPDIR).filter((n) => n.startsWith('fcgi-dev-')).length, 1);
      assert.deepEqual(await get(`${serving.url}/a/b?c=1`), {
        status: 200,
        body: 'GET /a/b?c=1 via fcgi-dev-gateway\n',
      });
    } finally {
      await serving.close();
    }
    assert.deepEqual(readdirSync(process.env.TMPDIR), [], 'the private socket dir is gone');
  });

  it('a port in use: rejects with EADDRINUSE and leaves no server or socket dir behind', {
    timeout: 15_000,
  }, async () => {
    process.env.TMPDIR = join(dir, 'busy');
    await mkdir(process.env.TMPDIR);
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    try {
      const port = (taken.address() as { port: number }).port;
      await assert.rejects(serve(handler, { port, announce: false }), { code: 'EADDRINUSE' });
      assert.deepEqual(readdirSync(process.env.TMPDIR), [], 'no fcgi-dev-* dir left');
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
    // A FastCGI server left listening would keep this test file's process alive: the runner's
    // timeout would then fail the file.
  });

  it('a target: FastCGI on it, no gateway', { timeout: 15_000 }, async () => {
    const path = join(dir, 'target.sock');
    const serving = await serve(handler, { target: path });
    const client = new FcgiClient({ target: path });
    try {
      assert.equal(serving.mode, 'fastcgi');
      const res = await client.request({
        params: { REQUEST_METHOD: 'GET', REQUEST_URI: '/t', SERVER_SOFTWARE: 'test' },
      });
      assert.equal(await res.text(), 'GET /t via test\n');
    } finally {
      await client.close();
      await serving.close();
    }
  });

  it('FCGI_LISTEN wins over a target', { timeout: 15_000 }, async () => {
    const path = join(dir, 'env.sock');
    process.env.FCGI_LISTEN = path;
    const serving = await serve(handler, { target: join(dir, 'not-this.sock') });
    try {
      assert.equal(serving.mode, 'fastcgi');
      assert.ok(existsSync(path), 'listening on FCGI_LISTEN');
      assert.equal(existsSync(join(dir, 'not-this.sock')), false);
    } finally {
      delete process.env.FCGI_LISTEN;
      await serving.close();
    }
  });
});
