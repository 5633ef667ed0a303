// The core file sender (sendUrlPath) over real FastCGI: RFC 9110 conditional requests (304, 412,
// If-Range) and ranges (206, multipart/byteranges, 416), HEAD, Content-Length, 304 headers.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createApp } from '@fcgi/core';
import { sendUrlPath, type SendOptions } from '@fcgi/core/send';
import { withApp, type Get, type Got } from './fixtures/static/harness.js';
import { makeStaticTree, type StaticTree } from './fixtures/static/tree.js';

let tree: StaticTree;
before(async () => {
  tree = await makeStaticTree();
});
after(async () => {
  await tree.remove();
});

function serveWith(options: Omit<SendOptions, 'root'>, fn: (get: Get) => Promise<void>): Promise<void> {
  const app = createApp();
  app.use((req, res, next) => {
    sendUrlPath(req, res, req.path, { ...options, root: tree.root }, (err) => {
      if (err) next(err);
    });
  });
  return withApp(app, fn);
}

const BEFORE = (d: Date) => new Date(d.getTime() - 60_000).toUTCString();
const AFTER = (d: Date) => new Date(d.getTime() + 60_000).toUTCString();

/** Splits a multipart/byteranges body into its parts' headers and data. */
function parts(r: Got): { range: string; type: string; data: string }[] {
  const m = /^multipart\/byteranges; boundary=([0-9a-f]+)$/.exec(r.h('content-type')!);
  assert.ok(m, r.h('content-type'));
  const text = r.body.toString('latin1');
  const delimiter = `--${m[1]}`;
  assert.ok(text.startsWith(delimiter + '\r\n'));
  assert.ok(text.endsWith(`\r\n${delimiter}--\r\n`));
  return text
    .slice(0, -`\r\n${delimiter}--\r\n`.length)
    .split(new RegExp(`(?:^|\\r\\n)${delimiter}\\r\\n`))
    .slice(1)
    .map((p) => {
      const [head, data] = [p.slice(0, p.indexOf('\r\n\r\n')), p.slice(p.indexOf('\r\n\r\n') + 4)];
      const h = Object.fromEntries(
        head.split('\r\n').map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]),
      );
      return { range: h['content-range'], type: h['content-type'], data };
    });
}

describe('send: conditional requests', { timeout: 30_000 }, () => {
  it('200 with validators; HEAD has the same headers and no body', async () => {
    await serveWith({}, async (get) => {
      const r = await get('/range.txt');
      assert.equal(r.status, 200);
      assert.equal(r.text, tree.rangeText);
      assert.equal(r.h('content-length'), '100');
      const h = await get('/range.txt', {}, 'HEAD');
      assert.equal(h.status, 200);
      assert.equal(h.body.length, 0);
      for (const name of [
        'content-length',
        'content-type',
        'etag',
        'last-modified',
        'accept-ranges',
        'cache-control',
      ]) {
        assert.equal(h.h(name), r.h(name), name);
      }
      const empty = await get('/empty.txt');
      assert.equal(empty.status, 200);
      assert.equal(empty.h('content-length'), '0');
      assert.equal(empty.body.length, 0);
    });
  });

  it('If-None-Match -> 304 with validators and cache headers but no body headers', async () => {
    await serveWith({ maxAge: '1h' }, async (get) => {
      const etag = (await get('/range.txt')).h('etag')!;
      for (const inm of [etag, etag.slice(2), `"nope", ${etag}`, '*']) {
        const r = await get('/range.txt', { 'if-none-match': inm });
        assert.equal(r.status, 304, inm);
        assert.equal(r.body.length, 0);
        assert.equal(r.h('etag'), etag);
        assert.equal(r.h('cache-control'), 'public, max-age=3600');
        assert.equal(r.h('last-modified'), tree.mtime.toUTCString());
        for (const name of ['content-type', 'content-length', 'content-range', 'content-encoding'])
          assert.equal(r.h(name), undefined, name);
      }
      assert.equal((await get('/range.txt', { 'if-none-match': '"nope"' })).status, 200);
      const head = await get('/range.txt', { 'if-none-match': etag }, 'HEAD');
      assert.equal(head.status, 304);
    });
  });

  it('If-Modified-Since -> 304 unless modified since; If-None-Match takes precedence', async () => {
    await serveWith({}, async (get) => {
      const lm = tree.mtime.toUTCString();
      assert.equal((await get('/range.txt', { 'if-modified-since': lm })).status, 304);
      assert.equal((await get('/range.txt', { 'if-modified-since': AFTER(tree.mtime) })).status, 304);
      assert.equal((await get('/range.txt', { 'if-modified-since': BEFORE(tree.mtime) })).status, 200);
      assert.equal((await get('/range.txt', { 'if-modified-since': 'not a date' })).status, 200);
      assert.equal((await get('/range.txt', { 'if-none-match': '"other"', 'if-modified-since': lm })).status, 200);
    });
  });

  it('If-Match (strong comparison) and If-Unmodified-Since -> 412', async () => {
    await serveWith({}, async (get) => {
      const etag = (await get('/range.txt')).h('etag')!;
      assert.match(etag, /^W\//);
      const weak = await get('/range.txt', { 'if-match': etag });
      assert.equal(weak.status, 412, 'a weak ETag never satisfies If-Match');
      assert.equal(weak.h('etag'), undefined, 'no header of the file is left on the error');
      assert.equal((await get('/range.txt', { 'if-match': '*' })).status, 200);
      assert.equal((await get('/range.txt', { 'if-match': '"x"' })).status, 412);
      assert.equal((await get('/range.txt', { 'if-unmodified-since': BEFORE(tree.mtime) })).status, 412);
      assert.equal((await get('/range.txt', { 'if-unmodified-since': tree.mtime.toUTCString() })).status, 200);
      assert.equal(
        (await get('/range.txt', { 'if-match': '*', 'if-unmodified-since': BEFORE(tree.mtime) })).status,
        200,
        'If-Unmodified-Since is ignored when If-Match is present',
      );
      assert.equal(
        (await get('/range.txt', { 'if-match': '"x"', 'if-none-match': '*' })).status,
        412,
        '412 before 304',
      );
    });
    await serveWith({ etag: 'strong' }, async (get) => {
      const etag = (await get('/range.txt')).h('etag')!;
      assert.match(etag, /^"/);
      assert.equal((await get('/range.txt', { 'if-match': etag })).status, 200);
      assert.equal((await get('/range.txt', { 'if-match': `W/${etag}` })).status, 412);
    });
  });
});

describe('send: ranges', { timeout: 30_000 }, () => {
  it('single ranges -> 206 with Content-Range and exact Content-Length', async () => {
    await serveWith({}, async (get) => {
      const cases: [string, string, string][] = [
        ['bytes=0-9', 'bytes 0-9/100', tree.rangeText.slice(0, 10)],
        ['bytes=90-', 'bytes 90-99/100', tree.rangeText.slice(90)],
        ['bytes=-5', 'bytes 95-99/100', tree.rangeText.slice(95)],
        ['bytes=95-500', 'bytes 95-99/100', tree.rangeText.slice(95)],
        ['bytes=0-10,5-15', 'bytes 0-15/100', tree.rangeText.slice(0, 16)],
        ['bytes=200-300, 3-3', 'bytes 3-3/100', tree.rangeText.slice(3, 4)],
      ];
      for (const [range, contentRange, body] of cases) {
        const r = await get('/range.txt', { range });
        assert.equal(r.status, 206, range);
        assert.equal(r.h('content-range'), contentRange, range);
        assert.equal(r.text, body, range);
        assert.equal(Number(r.h('content-length')), r.body.length, range);
        assert.equal(r.h('content-type'), 'text/plain; charset=utf-8');
      }
      const head = await get('/range.txt', { range: 'bytes=0-9' }, 'HEAD');
      assert.equal(head.status, 206);
      assert.equal(head.h('content-length'), '10');
      assert.equal(head.body.length, 0);
    });
  });

  it('unsatisfiable -> 416 with Content-Range: bytes */len', async () => {
    await serveWith({}, async (get) => {
      for (const [uri, range, len] of [
        ['/range.txt', 'bytes=100-', 100],
        ['/range.txt', 'bytes=-0', 100],
        ['/empty.txt', 'bytes=0-', 0],
      ] as const) {
        const r = await get(uri, { range });
        assert.equal(r.status, 416, range);
        assert.equal(r.h('content-range'), `bytes */${len}`);
        assert.equal(r.h('etag'), undefined);
      }
    });
  });

  it('ignored Range -> 200 whole: bad syntax, other units, too many ranges, acceptRanges: false', async () => {
    await serveWith({}, async (get) => {
      const many = 'bytes=' + Array.from({ length: 101 }, (_, i) => `${i * 2}-${i * 2}`).join(',');
      for (const range of ['bytes=5-2', 'items=0-5', 'bytes=x', many]) {
        const r = await get('/range.txt', { range });
        assert.equal(r.status, 200, range.slice(0, 20));
        assert.equal(r.text, tree.rangeText);
      }
    });
    await serveWith({ acceptRanges: false }, async (get) => {
      const r = await get('/range.txt', { range: 'bytes=0-9' });
      assert.equal(r.status, 200);
      assert.equal(r.h('accept-ranges'), undefined);
      assert.equal(r.body.length, 100);
    });
    await serveWith({ maxRanges: 2 }, async (get) => {
      assert.equal((await get('/range.txt', { range: 'bytes=0-1,4-5,8-9' })).status, 200);
    });
  });

  it('several ranges -> 206 multipart/byteranges, coalesced, in request order', async () => {
    await serveWith({}, async (get) => {
      const r = await get('/range.txt', { range: 'bytes=50-54, 0-4, 2-6, -3' });
      assert.equal(r.status, 206);
      assert.equal(r.h('content-range'), undefined);
      assert.equal(Number(r.h('content-length')), r.body.length);
      assert.deepEqual(parts(r), [
        { range: 'bytes 50-54/100', type: 'text/plain; charset=utf-8', data: tree.rangeText.slice(50, 55) },
        { range: 'bytes 0-6/100', type: 'text/plain; charset=utf-8', data: tree.rangeText.slice(0, 7) },
        { range: 'bytes 97-99/100', type: 'text/plain; charset=utf-8', data: tree.rangeText.slice(97) },
      ]);
      const head = await get('/range.txt', { range: 'bytes=0-1,5-6' }, 'HEAD');
      assert.equal(head.status, 206);
      assert.match(head.h('content-type')!, /^multipart\/byteranges; boundary=/);
      assert.equal(head.body.length, 0);
    });
  });

  it('If-Range: exact date or strong ETag -> 206; otherwise the whole file with 200', async () => {
    await serveWith({}, async (get) => {
      const full = await get('/range.txt');
      const range = 'bytes=0-4';
      assert.equal((await get('/range.txt', { range, 'if-range': full.h('last-modified')! })).status, 206);
      assert.equal((await get('/range.txt', { range, 'if-range': BEFORE(tree.mtime) })).status, 200);
      const weak = await get('/range.txt', { range, 'if-range': full.h('etag')! });
      assert.equal(weak.status, 200, 'a weak ETag is not a validator for If-Range');
      assert.equal(weak.body.length, 100);
      assert.equal(
        (await get('/range.txt', { range: 'bytes=500-', 'if-range': '"old"' })).status,
        200,
        'a failed If-Range ignores even an unsatisfiable Range',
      );
    });
    await serveWith({ etag: 'strong' }, async (get) => {
      const etag = (await get('/range.txt')).h('etag')!;
      const r = await get('/range.txt', { range: 'bytes=0-4', 'if-range': etag });
      assert.equal(r.status, 206);
      assert.equal(r.text, '01234');
      assert.equal((await get('/range.txt', { range: 'bytes=0-4', 'if-range': '"different"' })).status, 200);
    });
  });

  it('preconditions come before ranges: a matching If-None-Match with a Range is 304', async () => {
    await serveWith({}, async (get) => {
      const etag = (await get('/range.txt')).h('etag')!;
      const r = await get('/range.txt', { range: 'bytes=0-4', 'if-none-match': etag });
      assert.equal(r.status, 304);
      assert.equal(r.h('content-range'), undefined);
    });
  });
});
