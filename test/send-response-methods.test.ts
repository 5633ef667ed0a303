// sendFile(res, ...) and download(res, ...), the functions behind res.sendFile() / res.download(),
// called from app middleware over real FastCGI: Express 5's argument handling and error routing.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createApp, download, sendFile, type App } from '@fcgi/core';
import { withApp } from './fixtures/static/harness.js';
import { makeStaticTree, type StaticTree } from './fixtures/static/tree.js';

let tree: StaticTree;
before(async () => {
  tree = await makeStaticTree();
});
after(async () => {
  await tree.remove();
});

/** An app that records what reached the middleware after the one under test. */
function recording(): { app: App; after: string[] } {
  const app = createApp();
  const after: string[] = [];
  return { app, after };
}

describe('sendFile()', { timeout: 30_000 }, () => {
  it('sends an absolute path with type, length and validators; the callback gets no error', async () => {
    const { app } = recording();
    const results: unknown[] = [];
    app.use((_req, res) =>
      sendFile(res, join(tree.root, 'hello.txt'), (err) => {
        results.push(err);
      }),
    );
    await withApp(app, async (get) => {
      const r = await get('/');
      assert.equal(r.status, 200);
      assert.equal(r.text, 'hello world\n');
      assert.equal(r.h('content-type'), 'text/plain; charset=utf-8');
      assert.equal(r.h('content-length'), '12');
      assert.match(r.h('etag')!, /^W\//);
    });
    assert.deepEqual(results, [undefined]);
  });

  it('a relative path needs root; with root, `..` cannot leave it (403 to next(err))', async () => {
    const { app } = recording();
    app.use('/rel', (_req, res) => {
      try {
        sendFile(res, 'hello.txt');
      } catch (err) {
        res.end(`threw ${(err as Error).name}: ${(err as Error).message}`);
      }
    });
    app.use('/root', (req, res) => sendFile(res, decodeURIComponent(req.path.slice(1)), { root: tree.root }));
    await withApp(app, async (get) => {
      assert.equal((await get('/rel')).text, 'threw TypeError: path must be absolute or specify root to res.sendFile');
      assert.equal((await get('/root/sub/page.txt')).text, 'page\n');
      assert.equal((await get('/root/..%2Foutside%2Fsecret.txt')).status, 403);
      assert.equal((await get('/root/.hidden')).status, 404);
    });
  });

  it('without a callback: missing -> next(404 error), directory -> next(), with one: the error', async () => {
    const { app, after } = recording();
    const seen: { code?: string; status?: number }[] = [];
    app.use('/missing', (_req, res) => sendFile(res, join(tree.root, 'nope.txt')));
    app.use('/dir', (_req, res) => sendFile(res, join(tree.root, 'sub')));
    app.use('/cb', (_req, res) =>
      sendFile(res, join(tree.root, 'nope.txt'), (err) => {
        seen.push({ code: (err as { code?: string }).code, status: (err as { status?: number }).status });
        res.end('callback had it');
      }),
    );
    app.use((req, _res, next) => {
      after.push(req.originalUrl);
      next();
    });
    app.use(
      (
        err: { status: number },
        req: { originalUrl: string },
        res: { statusCode: number; end(s: string): void },
        _next: unknown,
      ) => {
        after.push(`error ${err.status} ${req.originalUrl}`);
        res.statusCode = err.status;
        res.end('error handler');
      },
    );
    await withApp(app, async (get) => {
      assert.equal((await get('/missing')).status, 404);
      assert.equal((await get('/dir')).status, 404);
      assert.equal((await get('/cb')).text, 'callback had it');
    });
    assert.deepEqual(after, ['error 404 /missing', '/dir']);
    assert.deepEqual(seen, [{ code: 'ENOENT', status: 404 }]);
  });

  it("options: headers, maxAge, dotfiles; the app's etag setting off means no ETag", async () => {
    const { app } = recording();
    app.set('etag', false);
    app.use('/h', (_req, res) =>
      sendFile(res, join(tree.root, 'hello.txt'), { headers: { 'X-From': 'options' }, maxAge: '2h' }),
    );
    app.use('/dot', (_req, res) => sendFile(res, join(tree.root, '.hidden'), { dotfiles: 'allow' }));
    await withApp(app, async (get) => {
      const r = await get('/h');
      assert.equal(r.h('x-from'), 'options');
      assert.equal(r.h('cache-control'), 'public, max-age=7200');
      assert.equal(r.h('etag'), undefined);
      assert.equal((await get('/dot')).text, 'hidden file\n');
    });
  });

  it('conditional and range requests work as for static files', async () => {
    const { app } = recording();
    app.use((_req, res) => sendFile(res, join(tree.root, 'range.txt')));
    await withApp(app, async (get) => {
      const etag = (await get('/')).h('etag')!;
      assert.equal((await get('/', { 'if-none-match': etag })).status, 304);
      const r = await get('/', { range: 'bytes=10-19' });
      assert.equal(r.status, 206);
      assert.equal(r.text, tree.rangeText.slice(10, 20));
    });
  });
});

describe('download()', { timeout: 30_000 }, () => {
  it('attachment with the base name, a given name, unicode names, and Express argument shapes', async () => {
    const { app } = recording();
    const done: string[] = [];
    app.use('/plain', (_req, res) => download(res, join(tree.root, 'hello.txt')));
    app.use('/named', (_req, res) =>
      download(res, join(tree.root, 'hello.txt'), 'report 2024.txt', (err) => done.push(`named ${err}`)),
    );
    app.use('/unicode', (_req, res) => download(res, join(tree.root, 'snow ☃', 'flake ❄.txt')));
    app.use('/opts', (_req, res) =>
      download(res, 'hello.txt', {
        root: tree.root,
        headers: { 'X-Extra': '1', 'content-disposition': 'inline' },
      }),
    );
    app.use('/cb', (_req, res) => download(res, join(tree.root, 'hello.txt'), (err) => done.push(`cb ${err}`)));
    await withApp(app, async (get) => {
      const plain = await get('/plain');
      // A token or a quoted string are the same parameter value (RFC 6266); Express quotes.
      assert.match(plain.h('content-disposition')!, /^attachment; filename="?hello\.txt"?$/);
      assert.equal(plain.text, 'hello world\n');
      assert.equal((await get('/named')).h('content-disposition'), 'attachment; filename="report 2024.txt"');
      assert.equal(
        (await get('/unicode')).h('content-disposition'),
        'attachment; filename="flake ?.txt"; filename*=UTF-8\'\'flake%20%E2%9D%84.txt',
      );
      const opts = await get('/opts');
      assert.match(
        opts.h('content-disposition')!,
        /^attachment; filename="?hello\.txt"?$/,
        'options cannot override it',
      );
      assert.equal(opts.h('x-extra'), '1');
      assert.equal(opts.h('content-type'), 'text/plain; charset=utf-8');
      assert.equal((await get('/cb')).status, 200);
    });
    assert.deepEqual(done, ['named undefined', 'cb undefined']);
  });
});
