// The same app on Express 5 (over node:http) and on createApp() (over real FastCGI): res.jsonp,
// req.range, res.sendFile/res.download with start/end, static files (maxAge, a status set before,
// 416), and the body parsers (UTF-16 JSON, AsyncLocalStorage across a failed parse). Status,
// header lines and body must be the same.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AsyncLocalStorage } from 'node:async_hooks';
import { join } from 'node:path';
import express from 'express';
import { createApp, json, text, type Handler } from '@fcgi/core';
import { serveStatic } from '@fcgi/static';
import { withServer } from './helpers/http-harness.js';
import { listenExpress, sortedHeaders, viaExpress, viaFastCgi, type Answer, type Ask } from './helpers/express-diff.js';
import { makeStaticTree, type StaticTree } from './fixtures/static/tree.js';

const T = { timeout: 30_000 };

type Setup = (app: any, kind: 'express' | 'fcgi') => void;

/** Express leaves every header send had set on an error answer; we keep only a 416's Content-Range. */
const ON_ERRORS = /^content-range:/i;

/**
 * Builds the app twice from `setup`, sends every `ask` to both, and compares. `sorted`: header
 * lines compared as a set (file senders that set the same headers in another order), and on an
 * error status only Content-Range (the deliberate difference above).
 */
async function compare(setup: Setup, asks: Ask[], options: { sorted?: boolean } = {}): Promise<void> {
  const ex = express();
  ex.disable('x-powered-by');
  setup(ex, 'express');
  const app = createApp();
  setup(app, 'fcgi');
  const server = await listenExpress(ex);
  try {
    await withServer(app as unknown as Handler, async ({ path }) => {
      for (const ask of asks) {
        let want: Answer = await viaExpress(server.port, ask);
        let got: Answer = await viaFastCgi(path, ask);
        if (options.sorted) {
          want = sortedHeaders(want);
          got = sortedHeaders(got);
          if (want.status >= 400) {
            want = { ...want, headers: want.headers.filter((h) => ON_ERRORS.test(h)) };
            got = { ...got, headers: got.headers.filter((h) => ON_ERRORS.test(h)) };
          }
        }
        assert.deepEqual(got, want, `${ask.method ?? 'GET'} ${ask.uri} ${JSON.stringify(ask.headers ?? {})}`);
      }
    });
  } finally {
    await server.close();
  }
}

const get = (uri: string, headers?: Record<string, string>): Ask => ({ uri, ...(headers ? { headers } : {}) });

let tree: StaticTree;
before(async () => {
  tree = await makeStaticTree();
});
after(async () => {
  await tree.remove();
});

describe('res.jsonp()', T, () => {
  const value = { a: '<&>', line: 'x\u2028y\u2029z', n: [1, null] };
  const routes: Setup = (app) => {
    app.get('/obj', (_req: any, res: any) => res.jsonp(value));
    app.get('/undef', (_req: any, res: any) => res.jsonp(undefined));
    app.get('/str', (_req: any, res: any) => res.jsonp('a\u2028b'));
    app.get('/num', (_req: any, res: any) => res.jsonp(42));
    app.get('/typed', (_req: any, res: any) => res.type('text/plain').jsonp({ t: 1 }));
    app.get('/status', (_req: any, res: any) => res.status(201).jsonp(null));
  };
  const asks = [
    get('/obj'),
    get('/obj?callback=cb'),
    get('/obj?callback=foo.bar%5B0%5D'),
    get('/obj?callback=alert(1)%3B%2F%2F%3Cscript%3E'),
    get('/obj?callback=a&callback=b'),
    get('/obj?callback='),
    get('/obj?callback=%E2%98%83$_x'),
    get('/undef?callback=cb'),
    get('/undef'),
    get('/str?callback=cb'),
    get('/str'),
    get('/num?callback=cb'),
    get('/typed?callback=cb'),
    get('/typed'),
    get('/status?callback=cb'),
    get('/obj?callback=cb', { 'if-none-match': 'W/"x"' }),
    { method: 'HEAD', uri: '/obj?callback=cb' },
  ];

  it('as Express: callback from the query, sanitised, wrapped; nosniff; U+2028/9 escaped', async () => {
    await compare(routes, asks);
  });

  it("with the 'jsonp callback name', 'json replacer', 'json spaces' and 'json escape' settings", async () => {
    await compare(
      (app, kind) => {
        app.set('jsonp callback name', 'cb');
        app.set('json spaces', 2);
        app.set('json escape', true);
        app.set('json replacer', (k: string, v: unknown) => (k === 'n' ? undefined : v));
        routes(app, kind);
      },
      [get('/obj?cb=f'), get('/obj?callback=f'), get('/obj'), get('/str?cb=f'), get('/num?cb=f')],
    );
  });
});

describe('req.range()', T, () => {
  const headers = [
    undefined,
    'bytes=0-4',
    'bytes=5-',
    'bytes=-3',
    'bytes=0-1,3-4',
    'bytes=0-4,2-8,20-30',
    'bytes=200-300',
    'bytes=x-y',
    'bytes=5-1',
    'items=0-5',
    'bytes=',
    'bytes=0-0,-1',
  ];
  it('as Express (range-parser): ranges with type, -1 unsatisfiable, -2 malformed, combine', async () => {
    await compare(
      (app) => {
        app.get('/r', (req: any, res: any) => {
          const size = Number(req.query.size ?? 100);
          const combine = req.query.combine === '1';
          res.json({ plain: req.range(size) ?? null, combine: req.range(size, { combine }) ?? null });
        });
      },
      headers.flatMap((h) => [
        get('/r', h === undefined ? undefined : { range: h }),
        get('/r?size=10&combine=1', h === undefined ? undefined : { range: h }),
      ]),
    );
  });
});

describe('res.sendFile() and res.download() with start/end', T, () => {
  const file = () => join(tree.root, 'range.txt');
  const setup: Setup = (app) => {
    app.get('/window', (req: any, res: any) => {
      const opts: Record<string, number> = {};
      if (req.query.start !== undefined) opts.start = Number(req.query.start);
      if (req.query.end !== undefined) opts.end = Number(req.query.end);
      res.sendFile(file(), opts);
    });
    app.get('/dl', (_req: any, res: any) => res.download(file(), 'part.txt', { start: 10, end: 19 }));
    app.use((err: any, _req: any, res: any, _next: any) => {
      res.status(err.status ?? 500).send(`error ${err.status} ${res.get('Content-Range')}`);
    });
  };
  const windows = ['?start=10&end=19', '?start=90', '?end=4', '?start=0&end=0', '?start=95&end=200'];
  const asks: Ask[] = [];
  for (const w of windows) {
    asks.push(get(`/window${w}`));
    asks.push(get(`/window${w}`, { range: 'bytes=2-5' }));
    asks.push(get(`/window${w}`, { range: 'bytes=-1' }));
    asks.push(get(`/window${w}`, { range: 'bytes=50-60' }));
    asks.push({ method: 'HEAD', uri: `/window${w}` });
  }
  asks.push(get('/dl'), get('/dl', { range: 'bytes=0-1' }));

  it('only the window is sent; ranges and Content-Range are within it', async () => {
    await compare(setup, asks, { sorted: true });
  });
});

describe('res.sendFile() window, where we go beyond send', T, () => {
  it('several ranges within a window: multipart/byteranges of the window (send would send it all with 200)', async () => {
    const app = createApp();
    app.get('/w', (_req, res) => res.sendFile(join(tree.root, 'range.txt'), { start: 20, end: 29 }));
    await withServer(app as unknown as Handler, async ({ path }) => {
      const r = await viaFastCgi(path, get('/w', { range: 'bytes=0-1,8-' }));
      assert.equal(r.status, 206);
      const type = r.headers.find((h) => h.startsWith('Content-Type: '))!;
      const boundary = /boundary=(\S+)/.exec(type)![1]!;
      const parts = r.body.split(`--${boundary}`).slice(1, -1);
      assert.deepEqual(
        parts.map((p) => {
          const [head, body] = p.split('\r\n\r\n');
          return [/Content-Range: (.*)/.exec(head!)![1], body!.replace(/\r\n$/, '')];
        }),
        [
          ['bytes 0-1/10', '01'],
          ['bytes 8-9/10', '89'],
        ],
      );
    });
  });

  it('start/end that are not non-negative integers: a TypeError from res.sendFile', async () => {
    const app = createApp();
    app.get('/bad', (_req, res) => res.sendFile(join(tree.root, 'range.txt'), { start: -1 }));
    app.use((err: any, _req: any, res: any, _next: any) => res.status(500).send(`${err.name}: ${err.message}`));
    await withServer(app as unknown as Handler, async ({ path }) => {
      const r = await viaFastCgi(path, get('/bad'));
      assert.equal(r.body, 'TypeError: start must be a non-negative integer');
    });
  });
});

describe('static files', T, () => {
  it('maxAge: Infinity is one year, a string as ms reads it (express.static and sendFile)', async () => {
    await compare(
      (app, kind) => {
        const serve = kind === 'express' ? express.static : serveStatic;
        app.use('/inf', serve(tree.root, { maxAge: Infinity }));
        app.use('/day', serve(tree.root, { maxAge: '1d' }));
        app.use('/half', serve(tree.root, { maxAge: '1.5h' }));
        app.get('/file', (_req: any, res: any) => res.sendFile(join(tree.root, 'hello.txt'), { maxAge: Infinity }));
      },
      [get('/inf/hello.txt'), get('/day/hello.txt'), get('/half/hello.txt'), get('/file')],
      { sorted: true },
    );
  });

  it('a status set before is kept and the file sent, not a 304', async () => {
    await compare(
      (app) => {
        app.get('/500', (_req: any, res: any) => res.status(500).sendFile(join(tree.root, 'hello.txt')));
        app.get('/404', (_req: any, res: any) => res.status(404).sendFile(join(tree.root, 'index.html')));
        app.get('/201', (_req: any, res: any) => res.status(201).sendFile(join(tree.root, 'hello.txt')));
      },
      [
        get('/500', { 'if-none-match': '*' }),
        get('/500', { 'if-modified-since': new Date(Date.now() + 60_000).toUTCString() }),
        get('/404', { 'if-none-match': '*' }),
        get('/201', { 'if-none-match': '*' }),
        get('/500'),
      ],
      { sorted: true },
    );
  });

  it('a 416 carries Content-Range: bytes */size', async () => {
    await compare(
      (app, kind) => {
        const serve = kind === 'express' ? express.static : serveStatic;
        app.use('/s', serve(tree.root, { fallthrough: false }));
        app.get('/file', (_req: any, res: any) => res.sendFile(join(tree.root, 'range.txt')));
        app.use((err: any, _req: any, res: any, _next: any) => {
          res.status(err.status ?? 500).send(`error ${err.status} ${res.get('Content-Range')}`);
        });
      },
      [get('/s/range.txt', { range: 'bytes=500-' }), get('/file', { range: 'bytes=100-200' })],
      { sorted: true },
    );
  });
});

describe('body parsers', T, () => {
  const utf16 = (text: string, bom: 'be' | 'le' | null, order: 'be' | 'le'): Buffer => {
    const le = Buffer.from(text, 'utf16le');
    const bytes = order === 'le' ? le : Buffer.from(le).swap16();
    const mark = bom === null ? [] : bom === 'be' ? [0xfe, 0xff] : [0xff, 0xfe];
    return Buffer.concat([Buffer.from(mark), bytes]);
  };
  const doc = '{"name":"Zoë ☃"}';
  const routes: Setup = (app, kind) => {
    const verify = () => {};
    app.use('/verify', kind === 'express' ? express.json({ verify }) : json({ verify }));
    app.post('/verify', (req: any, res: any) => res.json({ body: req.body }));
    app.use(kind === 'express' ? express.json() : json());
    app.use(kind === 'express' ? express.text({ type: 'text/*' }) : text({ type: 'text/*' }));
    app.post('/echo', (req: any, res: any) => res.json({ body: req.body }));
    app.use((err: any, _req: any, res: any, _next: any) => {
      res.status(err.status ?? 500).json({ type: err.type, charset: err.charset ?? null });
    });
  };
  const post = (type: string, body: Buffer): Ask => ({
    method: 'POST',
    uri: '/echo',
    headers: { 'content-type': type },
    body,
  });

  it('UTF-16 JSON: decoded by its byte-order mark, as body-parser and iconv-lite do', async () => {
    const asks: Ask[] = [];
    for (const cs of ['utf-16', 'utf-16be', 'utf-16le', 'UTF-16', '"utf-16"']) {
      for (const [bom, order] of [
        ['be', 'be'],
        ['le', 'le'],
        [null, 'le'],
        [null, 'be'],
        ['be', 'le'],
      ] as const) {
        asks.push(post(`application/json; charset=${cs}`, utf16(doc, bom, order)));
        asks.push(post(`text/plain; charset=${cs}`, utf16('Zoë ☃', bom, order)));
      }
    }
    // No charset: UTF-8 is assumed, whatever the mark says.
    asks.push(post('application/json', utf16(doc, 'be', 'be')), post('application/json', utf16(doc, 'le', 'le')));
    // With verify, body-parser decodes the whole body at once (iconv.decode) instead of streaming.
    asks.push({ ...post('application/json; charset=utf-16', utf16(doc, 'be', 'be')), uri: '/verify' });
    asks.push({ ...post('application/json; charset=utf-16', utf16(doc, 'be', 'be')), lateMs: 20 });
    await compare(routes, asks);
  });

  it("a body that fails to parse: the error handler runs in the request's AsyncLocalStorage context", async () => {
    const als = new AsyncLocalStorage<string>();
    const asks: Ask[] = [];
    const bodies: [string, Record<string, string>, string][] = [
      ['/bad', {}, '{nope'],
      ['/ok', {}, '{}'],
      ['/big', {}, '{"a":"0123456789"}'],
      ['/gz', { 'content-encoding': 'gzip' }, 'not gzip'],
    ];
    for (const lateMs of [undefined, 30]) {
      for (const [uri, headers, body] of bodies) {
        asks.push({
          method: 'POST',
          uri,
          headers: { 'content-type': 'application/json', ...headers },
          body: Buffer.from(body),
          ...(lateMs === undefined ? {} : { lateMs }),
        });
      }
    }
    await compare((app, kind) => {
      app.use((req: any, _res: any, next: any) => als.run(`ctx ${req.url}`, next));
      app.use(kind === 'express' ? express.json({ limit: 10 }) : json({ limit: 10 }));
      app.post('/ok', (_req: any, res: any) => res.json({ ok: als.getStore() ?? null }));
      app.use((err: any, _req: any, res: any, _next: any) => {
        res.status(err.status ?? 500).json({ store: als.getStore() ?? null });
      });
    }, asks);
  });
});
