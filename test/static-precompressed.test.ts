// serveStatic's precompressed variants over real FastCGI: file.br / file.gz chosen by
// Accept-Encoding, with the original Content-Type, the variant's ETag and length, and Vary.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { createApp } from '@fcgi/core';
import { serveStatic, type ServeStaticOptions } from '@fcgi/static';
import { withApp, type Get } from './fixtures/static/harness.js';
import { makeStaticTree, type StaticTree } from './fixtures/static/tree.js';

let tree: StaticTree;
before(async () => {
  tree = await makeStaticTree();
});
after(async () => {
  await tree.remove();
});

function serveWith(options: ServeStaticOptions, fn: (get: Get) => Promise<void>): Promise<void> {
  return withApp(createApp().use(serveStatic(tree.root, options)), fn);
}

describe('serveStatic: precompressed variants', { timeout: 30_000 }, () => {
  it('br preferred, gzip next, identity otherwise; original Content-Type, variant ETag, Vary', async () => {
    await serveWith({}, async (get) => {
      const id = await get('/app.js');
      assert.equal(id.text, tree.appJs);
      assert.equal(id.h('content-encoding'), undefined);
      assert.equal(id.h('vary'), undefined);
      const br = await get('/app.js', { 'accept-encoding': 'gzip, deflate, br, zstd' });
      assert.equal(br.h('content-encoding'), 'br');
      assert.equal(br.h('vary'), 'Accept-Encoding');
      assert.equal(br.h('content-type'), 'text/javascript; charset=utf-8');
      assert.equal(Number(br.h('content-length')), br.body.length);
      assert.equal(brotliDecompressSync(br.body).toString(), tree.appJs);
      assert.notEqual(br.h('etag'), id.h('etag'));
      const gz = await get('/app.js', { 'accept-encoding': 'br;q=0.5, gzip;q=0.8' });
      assert.equal(gz.h('content-encoding'), 'gzip');
      assert.equal(gunzipSync(gz.body).toString(), tree.appJs);
      assert.notEqual(gz.h('etag'), br.h('etag'));
      const css = await get('/only-gz.css', { 'accept-encoding': 'br, gzip' });
      assert.equal(css.h('content-encoding'), 'gzip');
      assert.equal(css.h('content-type'), 'text/css; charset=utf-8');
      const none = await get('/hello.txt', { 'accept-encoding': 'br, gzip' });
      assert.equal(none.h('content-encoding'), undefined);
      assert.equal(none.text, 'hello world\n');
    });
  });

  it('HEAD and 304 for a variant; a Range gets the identity file; a variant leading outside is not used', async () => {
    await serveWith({}, async (get) => {
      const br = await get('/app.js', { 'accept-encoding': 'br' });
      const head = await get('/app.js', { 'accept-encoding': 'br' }, 'HEAD');
      assert.equal(head.h('content-encoding'), 'br');
      assert.equal(head.h('content-length'), br.h('content-length'));
      assert.equal(head.body.length, 0);
      const nm = await get('/app.js', { 'accept-encoding': 'br', 'if-none-match': br.h('etag')! });
      assert.equal(nm.status, 304);
      assert.equal(nm.h('vary'), 'Accept-Encoding');
      assert.equal(nm.h('content-encoding'), undefined);
      assert.equal(nm.h('etag'), br.h('etag'));
      const ranged = await get('/app.js', { 'accept-encoding': 'br', range: 'bytes=0-7' });
      assert.equal(ranged.status, 206);
      assert.equal(ranged.h('content-encoding'), undefined);
      assert.equal(ranged.text, tree.appJs.slice(0, 8));
      const escaped = await get('/escape.js', { 'accept-encoding': 'br' });
      assert.equal(escaped.text, 'identity escape.js\n');
      assert.equal(escaped.h('content-encoding'), undefined);
    });
  });

  it('precompressed: false serves identity', async () => {
    await serveWith({ precompressed: false }, async (get) => {
      const r = await get('/app.js', { 'accept-encoding': 'br, gzip' });
      assert.equal(r.h('content-encoding'), undefined);
      assert.equal(r.text, tree.appJs);
    });
  });
});
