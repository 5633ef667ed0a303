// res.sendFile / res.download on the app's response: the send engine wired in as Express has them.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from '@fcgi/core';
import { nginxParams, request, withServer } from './helpers/http-harness.js';

it('res.sendFile and res.download serve files with type, ETag, 304 and ranges', { timeout: 15_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'fcgi-sendfile-'));
  try {
    await writeFile(join(dir, 'hello.txt'), 'hello sendFile\n');
    const app = createApp();
    app.use('/file', (_req, res) => res.sendFile('hello.txt', { root: dir }));
    app.use('/dl', (_req, res) => res.download(join(dir, 'hello.txt'), 'report.txt'));
    app.use('/missing', (_req, res, next) => res.sendFile(join(dir, 'nope.txt'), (err) => next(err)));
    const uri = (u: string, extra: Record<string, string> = {}) =>
      nginxParams({ REQUEST_URI: u, SCRIPT_NAME: u, ...extra });
    await withServer(app, async ({ path }) => {
      const a = await request(path, uri('/file'));
      assert.equal(a.status, 200);
      assert.equal(a.body.toString(), 'hello sendFile\n');
      assert.match(a.headers['content-type'] as string, /^text\/plain/);
      const etag = a.headers.etag as string;
      assert.ok(etag);
      assert.equal((await request(path, uri('/file', { HTTP_IF_NONE_MATCH: etag }))).status, 304);
      const r = await request(path, uri('/file', { HTTP_RANGE: 'bytes=0-4' }));
      assert.equal(r.status, 206);
      assert.equal(r.body.toString(), 'hello');
      const d = await request(path, uri('/dl'));
      assert.match(d.headers['content-disposition'] as string, /^attachment; filename="?report\.txt"?$/);
      assert.equal(d.body.toString(), 'hello sendFile\n');
      assert.equal((await request(path, uri('/missing'))).status, 404);
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
