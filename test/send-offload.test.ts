// The offload option over real FastCGI (in-process app, raw client): what the app itself answers
// when the web server is to send the file. The web servers' side is in test/sendfile-offload-*.test.ts.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createApp, type App, type SendOffload } from '@fcgi/core';
import { serveStatic } from '@fcgi/static';
import { withApp, type Got } from './fixtures/static/harness.js';
import { SECRET, makeStaticTree, type StaticTree } from './fixtures/static/tree.js';

let tree: StaticTree;
before(async () => {
  tree = await makeStaticTree();
});
after(async () => {
  await tree.remove();
});

const accel = (): SendOffload => ({ header: 'X-Accel-Redirect', map: { [tree.root]: '/_files/' } });

/** Asserts the app answered with `header` and no body bytes and no Content-Length of its own. */
function handedOver(r: Got, header: string, value: string): void {
  assert.equal(r.status, 200);
  assert.equal(r.h(header), value);
  assert.equal(r.h('content-length'), undefined, "no Content-Length: the web server sets the file's");
  assert.equal(r.body.length, 0);
}

describe('offload with X-Accel-Redirect (nginx)', { timeout: 30_000 }, () => {
  function app(): App {
    const a = createApp();
    a.use('/file', (req, res) =>
      res.sendFile(
        decodeURIComponent(req.path),
        {
          root: tree.root,
          offload: accel(),
          headers: { 'X-Extra': '1' },
          setHeaders: (r) => r.setHeader('X-From-Hook', 'yes'),
        },
        (err) => {
          if (err) res.status((err as { status?: number }).status ?? 500).end(`err ${(err as { code?: string }).code}`);
        },
      ),
    );
    a.use('/dl', (_req, res) => res.download(join(tree.root, 'hello.txt'), 'report.txt', { offload: accel() }));
    a.use('/outside', (_req, res) =>
      res.sendFile(join(tree.outside, 'secret.txt'), { offload: accel(), dotfiles: 'allow' }),
    );
    a.use('/status', (_req, res) => res.status(410).sendFile(join(tree.root, 'hello.txt'), { offload: accel() }));
    a.use('/post', (_req, res) => res.sendFile(join(tree.root, 'hello.txt'), { offload: accel() }));
    a.use('/static', serveStatic(tree.root, { offload: accel() }));
    return a;
  }

  it('names the mapped, percent-encoded URI; the app sets type, cache and its own headers, no validators', async () => {
    await withApp(app(), async (get) => {
      const r = await get('/file/file%20with%20spaces.txt');
      handedOver(r, 'x-accel-redirect', '/_files/file%20with%20spaces.txt');
      assert.equal(r.h('content-type'), 'text/plain; charset=utf-8');
      assert.equal(r.h('cache-control'), 'public, max-age=0');
      assert.equal(r.h('x-extra'), '1');
      assert.equal(r.h('x-from-hook'), 'yes');
      // nginx drops the app's ETag and Last-Modified and adds its own Accept-Ranges.
      for (const h of ['etag', 'last-modified', 'accept-ranges']) assert.equal(r.h(h), undefined, h);
      handedOver(await get('/file/percent%25.txt'), 'x-accel-redirect', '/_files/percent%25.txt');
      handedOver(
        await get('/file/snow%20%E2%98%83/flake%20%E2%9D%84.txt'),
        'x-accel-redirect',
        '/_files/snow%20%E2%98%83/flake%20%E2%9D%84.txt',
      );
    });
  });

  it('leaves Range and conditionals to nginx: no 206, 304 or 412 from the app', async () => {
    await withApp(app(), async (get) => {
      handedOver(await get('/file/range.txt', { range: 'bytes=0-4' }), 'x-accel-redirect', '/_files/range.txt');
      handedOver(
        await get('/file/range.txt', { 'if-modified-since': new Date(Date.now() + 60_000).toUTCString() }),
        'x-accel-redirect',
        '/_files/range.txt',
      );
      handedOver(await get('/file/range.txt', { 'if-match': '"nope"' }), 'x-accel-redirect', '/_files/range.txt');
    });
  });

  it('HEAD is handed over too; download keeps its Content-Disposition', async () => {
    await withApp(app(), async (get) => {
      handedOver(await get('/file/hello.txt', {}, 'HEAD'), 'x-accel-redirect', '/_files/hello.txt');
      const d = await get('/dl');
      handedOver(d, 'x-accel-redirect', '/_files/hello.txt');
      assert.equal(d.h('content-disposition'), 'attachment; filename=report.txt');
    });
  });

  it('the app still refuses: missing 404, traversal 403, symlink out 403, dotfile 404, directory', async () => {
    await withApp(app(), async (get) => {
      for (const [uri, status] of [
        ['/file/nope.txt', 404],
        ['/file/..%2Foutside%2Fsecret.txt', 403],
        ['/file/link-out.txt', 403],
        ['/file/.git/config', 404],
        ['/file/sub', 404],
      ] as const) {
        const r = await get(uri);
        assert.equal(r.status, status, uri);
        assert.equal(r.h('x-accel-redirect'), undefined, uri);
        assert.ok(!r.text.includes(SECRET));
      }
    });
  });

  it('streams instead: outside the map, another status, a method other than GET/HEAD, a precompressed variant', async () => {
    await withApp(app(), async (get) => {
      const out = await get('/outside');
      assert.equal(out.h('x-accel-redirect'), undefined);
      assert.equal(out.text, SECRET);
      assert.equal(out.h('content-length'), String(SECRET.length));
      const st = await get('/status');
      assert.equal(st.status, 410);
      assert.equal(st.text, 'hello world\n');
      assert.equal(st.h('x-accel-redirect'), undefined);
      const post = await get('/post', {}, 'POST');
      assert.equal(post.text, 'hello world\n');
      assert.equal(post.h('x-accel-redirect'), undefined);
      const br = await get('/static/app.js', { 'accept-encoding': 'br' });
      assert.equal(br.h('content-encoding'), 'br');
      assert.equal(br.h('x-accel-redirect'), undefined);
      assert.ok(br.body.length > 0);
      // The same file without a variant accepted: handed over.
      handedOver(await get('/static/app.js'), 'x-accel-redirect', '/_files/app.js');
    });
  });

  it('serveStatic: index files and extensions are resolved by the app first', async () => {
    await withApp(app(), async (get) => {
      handedOver(await get('/static/sub/'), 'x-accel-redirect', '/_files/sub/index.html');
      const dir = await get('/static/sub');
      assert.equal(dir.status, 301);
      assert.equal((await get('/static/nope.txt')).status, 404);
    });
  });
});

describe('offload with X-Sendfile (lighttpd, Apache mod_xsendfile)', { timeout: 30_000 }, () => {
  function app(): App {
    const a = createApp();
    a.use(serveStatic(tree.root, { offload: { header: 'X-Sendfile' } }));
    return a;
  }

  it('the raw path; the app keeps its validators and answers conditionals itself, the server does Range', async () => {
    await withApp(app(), async (get) => {
      const r = await get('/file%20with%20spaces.txt');
      handedOver(r, 'x-sendfile', join(tree.root, 'file with spaces.txt'));
      assert.ok(r.h('etag'));
      assert.equal(r.h('last-modified'), tree.mtime.toUTCString());
      assert.equal(r.h('accept-ranges'), 'bytes');
      const nm = await get('/file%20with%20spaces.txt', { 'if-none-match': r.h('etag')! });
      assert.equal(nm.status, 304);
      assert.equal(nm.h('x-sendfile'), undefined);
      assert.equal((await get('/hello.txt', { 'if-match': '"nope"' })).status, 412);
      handedOver(await get('/range.txt', { range: 'bytes=0-4' }), 'x-sendfile', join(tree.root, 'range.txt'));
    });
  });

  it('a name with % is streamed (lighttpd decodes it, Apache does not)', async () => {
    await withApp(app(), async (get) => {
      const r = await get('/percent%25.txt');
      assert.equal(r.h('x-sendfile'), undefined);
      assert.equal(r.text, 'percent\n');
    });
  });

  it('a non-ASCII name goes as its UTF-8 bytes', async () => {
    await withApp(app(), async (get) => {
      const r = await get('/snow%20%E2%98%83/flake%20%E2%9D%84.txt');
      assert.deepEqual(Buffer.from(r.h('x-sendfile')!, 'latin1'), Buffer.from(join(tree.root, 'snow ☃/flake ❄.txt')));
    });
  });
});

describe("the app's 'sendfile offload' setting", { timeout: 30_000 }, () => {
  it('res.sendFile, res.download and serveStatic use it; offload: false turns it off', async () => {
    const a = createApp();
    a.set('sendfile offload', accel());
    a.use('/send', (_req, res) => res.sendFile('hello.txt', { root: tree.root }));
    a.use('/dl', (_req, res) => res.download(join(tree.root, 'hello.txt')));
    a.use('/off', (_req, res) => res.sendFile('hello.txt', { root: tree.root, offload: false }));
    a.use('/s', serveStatic(tree.root));
    a.use('/s-off', serveStatic(tree.root, { offload: false }));
    const sub = createApp();
    sub.use('/send', (_req, res) => res.sendFile('hello.txt', { root: tree.root }));
    a.use('/sub', sub);
    await withApp(a, async (get) => {
      handedOver(await get('/send'), 'x-accel-redirect', '/_files/hello.txt');
      handedOver(await get('/dl'), 'x-accel-redirect', '/_files/hello.txt');
      handedOver(await get('/s/hello.txt'), 'x-accel-redirect', '/_files/hello.txt');
      handedOver(await get('/sub/send'), 'x-accel-redirect', '/_files/hello.txt');
      for (const uri of ['/off', '/s-off/hello.txt']) {
        const r = await get(uri);
        assert.equal(r.h('x-accel-redirect'), undefined, uri);
        assert.equal(r.text, 'hello world\n', uri);
      }
    });
  });

  it('a wrong setting is an error of the request (500), not a silent stream', async () => {
    const a = createApp();
    a.set('sendfile offload', { header: 'X-Accel-Redirect' });
    a.use('/send', (_req, res) => res.sendFile('hello.txt', { root: tree.root }));
    a.use('/s', serveStatic(tree.root));
    await withApp(a, async (get) => {
      assert.equal((await get('/send')).status, 500);
      assert.equal((await get('/s/hello.txt')).status, 500);
    });
  });

  it('serveStatic with a bad offload option throws when created', () => {
    assert.throws(
      () => serveStatic(tree.root, { offload: { header: 'X-Accel-Redirect' } as unknown as SendOffload }),
      /map is required/,
    );
  });
});
