// serveStatic() over real FastCGI against a hostile file tree: traversal in every spelling,
// symlinks out of the root, dotfiles, awkward names, index and directory redirects (no open
// redirect), extensions, methods, fallthrough, cache headers, setHeaders.
import assert from 'node:assert/strict';
import { symlink, unlink } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { createApp, type App, type Handler } from '@fcgi/core';
import { serveStatic, type ServeStaticOptions } from '@fcgi/static';
import { withServer } from './helpers/http-harness.js';
import { fetchFcgi, withApp, type Get } from './fixtures/static/harness.js';
import { SECRET, makeStaticTree, type StaticTree } from './fixtures/static/tree.js';

let tree: StaticTree;
before(async () => {
  tree = await makeStaticTree();
});
after(async () => {
  await tree.remove();
});

/** Paths that fell through serveStatic (next() without an error), for the current app. */
let fell: string[] = [];

/** An app: serveStatic at `mount`, then a recorder of what fell through, then the default 404. */
function appWith(options: ServeStaticOptions = {}, mount?: string): App {
  const app = createApp();
  if (mount) app.use(mount, serveStatic(tree.root, options));
  else app.use(serveStatic(tree.root, options));
  app.use((req, res, next) => {
    fell.push(req.originalUrl);
    if (req.path === '/fell-through-marker') return void res.end('marker');
    next();
  });
  return app;
}

function serveWith(options: ServeStaticOptions, fn: (get: Get) => Promise<void>, mount?: string): Promise<void> {
  fell = [];
  return withApp(appWith(options, mount), fn);
}

describe('serveStatic: path safety', { timeout: 30_000 }, () => {
  it('refuses every traversal spelling and never serves the secret', async () => {
    await serveWith({}, async (get) => {
      const cases: [string, number][] = [
        ['/../outside/secret.txt', 403],
        ['/sub/../../outside/secret.txt', 403],
        ['/%2e%2e/outside/secret.txt', 403],
        ['/%2E%2E%2Foutside%2Fsecret.txt', 403],
        ['/..%2foutside%2fsecret.txt', 403],
        ['/..%5coutside%5csecret.txt', 403],
        ['/\\..\\outside\\secret.txt', 403],
        ['/.%2e/outside/secret.txt', 403],
        ['/%252e%252e/outside/secret.txt', 404], // decoded once: a literal '%2e%2e' directory, no such file
        ['/%252e%252e%252foutside%252fsecret.txt', 404],
        ['/%c0%ae%c0%ae/outside/secret.txt', 400], // overlong UTF-8
        ['/%e0%80%ae%e0%80%ae/outside/secret.txt', 400],
        ['/%00', 400],
        ['/hello.txt%00.html', 400],
        ['/%', 400],
        ['/%zz', 400],
        ['/link-out.txt', 403],
        ['/dir-out/secret.txt', 403],
        ['/link-prefix.txt', 403],
      ];
      for (const [uri, status] of cases) {
        const r = await get(uri);
        assert.equal(r.status, status, `${uri}: ${r.text}`);
        assert.ok(!r.text.includes('TOP SECRET'), uri);
        assert.ok(!r.text.includes(tree.dir), `${uri} must not disclose the path`);
      }
    });
  });

  it('single decoding: %252e%252e names a literal directory inside the root', async () => {
    await serveWith({}, async (get) => {
      const r = await get('/%252e%252e/literal.txt');
      assert.equal(r.status, 200);
      assert.equal(r.text, 'a directory literally named %2e%2e\n');
    });
  });

  it('followSymlinks: true serves links out of the root; links inside are always fine', async () => {
    await serveWith({}, async (get) => {
      assert.equal((await get('/link-in.txt')).text, 'hello world\n');
    });
    await serveWith({ followSymlinks: true }, async (get) => {
      assert.equal((await get('/link-out.txt')).text, SECRET);
    });
  });

  it('a root that is itself a symlink works, and its links are judged against the real root', async () => {
    const linked = `${tree.root}-link`;
    await symlink(tree.root, linked);
    try {
      await withApp(createApp().use(serveStatic(linked)), async (get) => {
        assert.equal((await get('/hello.txt')).text, 'hello world\n');
        assert.equal((await get('/link-in.txt')).text, 'hello world\n');
        assert.equal((await get('/link-out.txt')).status, 403);
      });
    } finally {
      await unlink(linked);
    }
  });

  it('the dotfiles policy also applies to where a symlink leads', async () => {
    await serveWith({}, async (get) => assert.equal((await get('/link-dot.txt')).status, 404));
    await serveWith({ dotfiles: 'deny' }, async (get) => assert.equal((await get('/link-dot.txt')).status, 403));
    await serveWith({ dotfiles: 'allow' }, async (get) => assert.match((await get('/link-dot.txt')).text, /\[core\]/));
  });

  it('dotfiles: ignore (default) falls through as 404, deny is 403, allow serves', async () => {
    await serveWith({}, async (get) => {
      for (const uri of ['/.hidden', '/.git/config', '/..foo.txt', '/.git/']) {
        const r = await get(uri);
        assert.equal(r.status, 404, uri);
      }
      assert.deepEqual(fell, ['/.hidden', '/.git/config', '/..foo.txt', '/.git/'], 'each fell through');
    });
    await serveWith({ dotfiles: 'deny' }, async (get) => {
      assert.equal((await get('/.hidden')).status, 403);
      assert.equal((await get('/.git/config')).status, 403);
    });
    await serveWith({ dotfiles: 'allow' }, async (get) => {
      assert.equal((await get('/.hidden')).text, 'hidden file\n');
      assert.match((await get('/.git/config')).text, /repositoryformatversion/);
    });
  });

  it('serves awkward names: spaces, unicode, dots inside, a literal %', async () => {
    await serveWith({}, async (get) => {
      assert.equal((await get('/file%20with%20spaces.txt')).text, 'spaces\n');
      assert.equal((await get('/snow%20%E2%98%83/flake%20%E2%9D%84.txt')).text, 'flake\n');
      assert.equal((await get('/do..ts.txt')).text, 'dots inside a name are fine\n');
      assert.equal((await get('/percent%25.txt')).text, 'percent\n');
      assert.equal((await get('/data.bin')).h('content-type'), 'application/octet-stream');
    });
  });

  it('only regular files: a FIFO is not found (and does not hang)', async () => {
    await serveWith({}, async (get) => assert.equal((await get('/fifo.txt')).status, 404));
  });
});

describe('serveStatic: index, redirects, extensions', { timeout: 30_000 }, () => {
  it('index.html for a directory with a slash; 301 to path + / without; query kept', async () => {
    await serveWith({}, async (get) => {
      assert.equal((await get('/')).text, '<h1>home</h1>\n');
      assert.equal((await get('/sub/')).text, '<p>sub index</p>\n');
      const r = await get('/sub?x=1');
      assert.equal(r.status, 301);
      assert.equal(r.h('location'), '/sub/?x=1');
      assert.equal(r.h('content-security-policy'), "default-src 'none'");
      assert.equal(Number(r.h('content-length')), r.body.length);
      const head = await get('/sub', {}, 'HEAD');
      assert.equal(head.status, 301);
      assert.equal(head.body.length, 0);
    });
  });

  it('unicode directory and a directory named like a file', async () => {
    await serveWith({}, async (get) => {
      const r = await get('/snow%20%E2%98%83');
      assert.equal(r.status, 301);
      assert.equal(r.h('location'), '/snow%20%E2%98%83/');
      assert.equal((await get('/snow%20%E2%98%83/')).text, '<p>snow index</p>\n');
      assert.equal((await get('/name.d')).h('location'), '/name.d/');
      assert.equal((await get('/name.d/')).text, '<p>name.d index</p>\n');
      assert.equal((await get('/name.d/inner.txt')).text, 'inner\n');
      assert.equal((await get('/hello.txt/')).status, 404, 'a file with a trailing slash');
    });
  });

  it('no open redirect: //host and /\\host give a Location on this host', async () => {
    await serveWith({}, async (get) => {
      const a = await get('//evil.example');
      assert.equal(a.status, 301);
      assert.equal(a.h('location'), '/evil.example/');
      const b = await get('/\\evil.example');
      assert.equal(b.status, 301);
      assert.equal(b.h('location'), '/%5Cevil.example/');
      const c = await get('///\\evil.example');
      assert.equal(c.status, 301);
      for (const loc of [a.h('location'), b.h('location'), c.h('location')]) {
        assert.match(loc!, /^\/[^/\\]/, `${loc} must be a path on this host`);
      }
    });
  });

  it('mounted: /static redirects to /static/ and serves under it', async () => {
    await serveWith(
      {},
      async (get) => {
        const r = await get('/static');
        assert.equal(r.status, 301);
        assert.equal(r.h('location'), '/static/');
        assert.equal((await get('/static/')).text, '<h1>home</h1>\n');
        assert.equal((await get('/static/hello.txt')).text, 'hello world\n');
        assert.equal((await get('/static/sub')).h('location'), '/static/sub/');
      },
      '/static',
    );
  });

  it('index: false and index arrays; redirect: false falls through', async () => {
    await serveWith({ index: false }, async (get) => {
      const r = await get('/sub/');
      assert.equal(r.status, 404);
      assert.deepEqual(fell, ['/sub/']);
    });
    await serveWith({ index: ['missing.html', 'page.txt'] }, async (get) => {
      assert.equal((await get('/sub/')).text, 'page\n');
      assert.equal((await get('/noindex/')).text, 'no index here\n');
    });
    await serveWith({ redirect: false }, async (get) => {
      const r = await get('/sub');
      assert.equal(r.status, 404);
      assert.deepEqual(fell, ['/sub']);
    });
  });

  it('extensions fallback: /about serves about.html, an existing name wins', async () => {
    await serveWith({ extensions: ['html'] }, async (get) => {
      const r = await get('/about');
      assert.equal(r.text, '<p>about</p>\n');
      assert.equal(r.h('content-type'), 'text/html; charset=utf-8');
      assert.equal((await get('/hello.txt')).text, 'hello world\n');
      assert.equal((await get('/nothing')).status, 404);
    });
    await serveWith({}, async (get) => assert.equal((await get('/about')).status, 404));
  });
});

describe('serveStatic: methods, fallthrough, headers', { timeout: 30_000 }, () => {
  it('other methods fall through; with fallthrough: false they get 405 and Allow', async () => {
    await serveWith({}, async (get) => {
      const r = await get('/hello.txt', {}, 'POST');
      assert.equal(r.status, 404);
      assert.deepEqual(fell, ['/hello.txt']);
    });
    await serveWith({ fallthrough: false }, async (get) => {
      const r = await get('/hello.txt', {}, 'DELETE');
      assert.equal(r.status, 405);
      assert.equal(r.h('allow'), 'GET, HEAD');
      assert.match(r.body.toString(), /Method Not Allowed/, 'a 405 error, answered by the one error renderer');
    });
  });

  it('missing files fall through to later middleware; fallthrough: false makes them a 404 error', async () => {
    await serveWith({}, async (get) => {
      assert.equal((await get('/fell-through-marker')).text, 'marker');
    });
    await serveWith({ fallthrough: false }, async (get) => {
      const r = await get('/fell-through-marker');
      assert.equal(r.status, 404);
      assert.deepEqual(fell, []);
      assert.match(r.text, /Not Found/);
    });
  });

  it('errors other than 404 go to next(err) even with fallthrough', async () => {
    const app = createApp();
    const seen: number[] = [];
    app.use(serveStatic(tree.root));
    app.use(
      (err: { status: number }, _req: unknown, res: { statusCode: number; end(s: string): void }, _next: unknown) => {
        seen.push(err.status);
        res.statusCode = err.status;
        res.end(`handled ${err.status}`);
      },
    );
    await withApp(app, async (get) => {
      assert.equal((await get('/../x')).text, 'handled 403');
      assert.equal((await get('/%00')).text, 'handled 400');
      assert.equal((await get('/range.txt', { range: 'bytes=500-' })).text, 'handled 416');
    });
    assert.deepEqual(seen, [403, 400, 416]);
  });

  it('default headers; maxAge, immutable, cacheControl: false, etag and lastModified off', async () => {
    await serveWith({}, async (get) => {
      const r = await get('/hello.txt');
      assert.equal(r.h('cache-control'), 'public, max-age=0');
      assert.equal(r.h('accept-ranges'), 'bytes');
      assert.equal(r.h('last-modified'), tree.mtime.toUTCString());
      assert.equal(r.h('etag'), `W/"${(12).toString(16)}-${tree.mtime.getTime().toString(16)}"`);
      assert.equal(r.h('content-type'), 'text/plain; charset=utf-8');
      assert.equal(r.h('content-length'), '12');
    });
    await serveWith({ maxAge: '1d', immutable: true }, async (get) => {
      assert.equal((await get('/hello.txt')).h('cache-control'), 'public, max-age=86400, immutable');
    });
    await serveWith({ maxAge: 90_500 }, async (get) => {
      assert.equal((await get('/hello.txt')).h('cache-control'), 'public, max-age=90');
    });
    await serveWith({ cacheControl: false, etag: false, lastModified: false, acceptRanges: false }, async (get) => {
      const r = await get('/hello.txt');
      for (const h of ['cache-control', 'etag', 'last-modified', 'accept-ranges']) assert.equal(r.h(h), undefined, h);
      assert.equal(r.text, 'hello world\n');
    });
  });

  it('etag: strong gives "inode-size-mtime_ns"; a function gives its own tag', async () => {
    await serveWith({ etag: 'strong' }, async (get) => {
      assert.match((await get('/hello.txt')).h('etag')!, /^"[0-9a-f]+-c-[0-9a-f]+"$/);
    });
    await serveWith({ etag: (_path, stat) => `"v${stat.size}"` }, async (get) => {
      assert.equal((await get('/hello.txt')).h('etag'), '"v12"');
    });
  });

  it('setHeaders runs first with (res, path, stat); what it sets is kept', async () => {
    const calls: string[] = [];
    await serveWith(
      {
        setHeaders: (res, path, stat) => {
          calls.push(`${path.slice(tree.root.length)} ${stat.size}`);
          res.setHeader('X-Served-By', 'static');
          res.setHeader('Cache-Control', 'no-store');
          res.setHeader('Content-Type', 'text/x-custom');
        },
      },
      async (get) => {
        const r = await get('/hello.txt');
        assert.equal(r.h('x-served-by'), 'static');
        assert.equal(r.h('cache-control'), 'no-store');
        assert.equal(r.h('content-type'), 'text/x-custom');
      },
    );
    assert.deepEqual(calls, ['/hello.txt 12']);
  });

  it('works as a bare handler without an app: missing files get a plain 404', async () => {
    const handler = serveStatic(tree.root) as unknown as Handler;
    await withServer(handler, async ({ path }) => {
      assert.equal((await fetchFcgi(path, '/hello.txt')).text, 'hello world\n');
      const missing = await fetchFcgi(path, '/missing.txt');
      assert.equal(missing.status, 404);
      assert.equal((await fetchFcgi(path, '/../x')).status, 403);
    });
  });

  it('bad options throw when the middleware is made', () => {
    assert.throws(() => serveStatic(tree.root, { dotfiles: 'maybe' as 'allow' }), TypeError);
    assert.throws(() => serveStatic(tree.root, { maxAge: 'soonish' }), TypeError);
    assert.throws(() => serveStatic(''), TypeError);
  });
});
